import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import { LDAP_PEOPLE } from "../harness/slapd.ts";
import type { Topology } from "../harness/topology.ts";

const USER_FIELDS = "id username email firstName lastName";
const SIGN_IN_LDAP = `mutation ($input: SignInWithLdapInput!) { signInWithLdap(input: $input) {
  accessToken refreshToken user { ${USER_FIELDS} } } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken } }`;
const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
const ME = `{ me { ${USER_FIELDS} } }`;

type User = { id: string; username: string; email: string; firstName: string; lastName: string };
type LdapSignIn = { signInWithLdap: { accessToken: string; refreshToken: string; user: User } };

/** LDAP sign-in (AUTH-6) against the topology's private slapd, in the topology's bind mode. */
export function defineLdapScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const signInWithLdap = (username: string, password: string): Promise<GraphqlResponse<LdapSignIn>> =>
    graphql<LdapSignIn>(url(), SIGN_IN_LDAP, { input: { username, password } });
  const usersLog = () => (topology().processes.get("users") ?? topology().processes.get("beep"))?.lines ?? [];

  describe("LDAP sign-in", () => {
    it("creates the account on the first sign-in with the directory's names and lands on it again", async () => {
      const { alice } = LDAP_PEOPLE;
      const first = dataOf(await signInWithLdap(alice.uid, alice.password)).signInWithLdap;
      expect(first.user).toMatchObject({
        username: "alice",
        email: alice.mail,
        firstName: alice.givenName,
        lastName: alice.sn,
      });
      const me = dataOf(await graphql<{ me: User }>(url(), ME, {}, first.accessToken)).me;
      expect(me).toEqual(first.user);

      const second = dataOf(await signInWithLdap(` ${alice.uid} `, alice.password)).signInWithLdap;
      expect(second.user.id).toBe(first.user.id);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(usersLog().some((line) => line.includes('"action":"LDAP_ACCOUNT_CREATED"'))).toBe(true);
      expect(usersLog().filter((line) => line.includes('"action":"LDAP_SIGN_IN"')).length).toBeGreaterThan(1);
    });

    it("keeps the names in sync with the directory on later sign-ins", async () => {
      const { frank } = LDAP_PEOPLE;
      const first = dataOf(await signInWithLdap(frank.uid, frank.password)).signInWithLdap.user;
      expect(first.lastName).toBe(frank.sn);
      await topology().ldap.slapd.replace(frank.uid, "sn", "Poole-Bowman");
      const second = dataOf(await signInWithLdap(frank.uid, frank.password)).signInWithLdap;
      expect(second.user).toMatchObject({
        id: first.id,
        lastName: "Poole-Bowman",
        firstName: frank.givenName,
      });
      const me = dataOf(await graphql<{ me: User }>(url(), ME, {}, second.accessToken)).me;
      expect(me.lastName).toBe("Poole-Bowman");
    });

    it("refuses a wrong password, an unknown user and an empty or blank password with one answer", async () => {
      const { bob } = LDAP_PEOPLE;
      const attempts = await Promise.all([
        signInWithLdap(bob.uid, `${bob.password}x`),
        signInWithLdap(`nobody-${randomBytes(3).toString("hex")}`, bob.password),
        signInWithLdap(bob.uid, ""),
        signInWithLdap(bob.uid, "   "),
        signInWithLdap("", bob.password),
      ]);
      for (const attempt of attempts) {
        expect(attempt.data?.signInWithLdap ?? null).toBeNull();
        expect(attempt.errors?.[0]).toMatchObject({
          message: attempts[0]?.errors?.[0]?.message,
          extensions: { code: "UNAUTHENTICATED" },
        });
      }
      // The refusals were about the credentials: the right password works.
      expect(dataOf(await signInWithLdap(bob.uid, bob.password)).signInWithLdap.user.email).toBe(bob.mail);
      const failures = usersLog().filter((line) => line.includes('"action":"LDAP_SIGN_IN_FAILED"'));
      expect(failures.length).toBeGreaterThanOrEqual(5);
      expect(usersLog().some((line) => line.includes(bob.password))).toBe(false);
    });

    it("treats filter metacharacters in the username as plain text", async () => {
      const { admin, alice } = LDAP_PEOPLE;
      const attempts = await Promise.all([
        signInWithLdap("*", alice.password),
        signInWithLdap("ali*", alice.password),
        signInWithLdap("*)(uid=*", alice.password),
        signInWithLdap("admin)(|(uid=*", admin.password),
        signInWithLdap("admin)(uid=admin", admin.password),
        signInWithLdap("admin,ou=people", admin.password),
      ]);
      for (const attempt of attempts) {
        expect(attempt.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      }
      // A NUL never reaches the directory: text that cannot be stored is refused at the edge, whoever sends it.
      const nul = await signInWithLdap("admin\u0000", admin.password);
      expect(nul.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.username" });
      expect(nul.data ?? null).toBeNull();
    });

    it("signs in a user whose uid holds DN and filter special characters", async () => {
      const { special } = LDAP_PEOPLE;
      const { user } = dataOf(await signInWithLdap(special.uid, special.password)).signInWithLdap;
      expect(user).toMatchObject({
        username: "o_brien_jr_x_q_a_b_c_d",
        email: special.mail,
        firstName: special.givenName,
        lastName: special.sn,
      });
    });

    it("gives the LDAP account a password that can never sign in", async () => {
      const { erin } = LDAP_PEOPLE;
      dataOf(await signInWithLdap(erin.uid, erin.password));
      for (const password of [erin.password, "!ldap", ""]) {
        const attempt = await graphql(url(), SIGN_IN, { input: { email: erin.mail, password } });
        expect(attempt.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      }
    });

    it("refuses, with CONFLICT on email, a directory entry whose email is a local account's", async () => {
      const { carol } = LDAP_PEOPLE;
      const tag = randomBytes(4).toString("hex");
      const local = {
        email: carol.mail.toUpperCase(),
        username: `carol_${tag}`,
        password: `local password ${tag}`,
        firstName: "Local",
        lastName: "Carol",
      };
      dataOf(await graphql(url(), SIGN_UP, { input: local }));
      const attempt = await signInWithLdap(carol.uid, carol.password);
      expect(attempt.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", field: "email" });
      // The local account is untouched: its own password still works.
      dataOf(await graphql(url(), SIGN_IN, { input: { email: carol.mail, password: local.password } }));
    });

    it("gives a fresh username when the directory's one is taken locally", async () => {
      const { dave } = LDAP_PEOPLE;
      const tag = randomBytes(4).toString("hex");
      dataOf(
        await graphql(url(), SIGN_UP, {
          input: {
            email: `dave.${tag}@local.example`,
            username: "Dave",
            password: `local password ${tag}`,
            firstName: "Local",
            lastName: "Dave",
          },
        }),
      );
      const { user } = dataOf(await signInWithLdap(dave.uid, dave.password)).signInWithLdap;
      expect(user.username).toMatch(/^dave_\d+$/);
      expect(user.email).toBe(dave.mail);
    });
  });
}
