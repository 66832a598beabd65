import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import { describe, expect, it } from "vitest";
import { collect, dataOf, type GraphqlResponse, graphql, wsClient } from "../harness/graphql-client.ts";
import type { ReceivedMail } from "../harness/mailbox.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken refreshToken user { id } } }`;
const REFRESH = `mutation ($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken } }`;
const ME = `{ me { id email } }`;
const MY_EVENTS = `subscription { myEvents { __typename } }`;
const REQUEST_RESET = `mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }`;
const RESET = `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { revokedSessionCount } }`;
const COMPLETE_RESET = `mutation ($input: CompletePasswordResetInput!) {
  completePasswordReset(input: $input) { revokedSessionCount } }`;
const REQUEST_CHANGE = `mutation ($input: RequestEmailChangeInput!) { requestEmailChange(input: $input) { accepted } }`;
const CONFIRM_CHANGE = `mutation ($input: ConfirmEmailChangeInput!) {
  confirmEmailChange(input: $input) { user { id email } } }`;
const BEGIN_TOTP = `mutation { beginTotpEnrolment { secret } }`;
const CONFIRM_TOTP = `mutation ($input: ConfirmTotpEnrolmentInput!) { confirmTotpEnrolment(input: $input) { recoveryCodes } }`;

const RESET_SUBJECT = /^Reset your Beep password: \d{6}$/;
const PERIOD_MS = 30_000;
const codeAt = (secret: string, offset: number) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + offset * PERIOD_MS });
async function freshTimeStep(neededMs = 15_000): Promise<void> {
  const left = PERIOD_MS - (Date.now() % PERIOD_MS);
  if (left < neededMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

const codeOf = (response: GraphqlResponse) => response.errors?.[0]?.extensions?.code;
const fieldOf = (response: GraphqlResponse) => response.errors?.[0]?.extensions?.field;
const codeIn = (mail: ReceivedMail): string => {
  const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no code in mail "${mail.subject}"`);
  return code;
};
const linkTokenIn = (mail: ReceivedMail): string => {
  const token = /reset-password\?token=([\w-]+)/.exec(mail.text)?.[1];
  if (!token) throw new Error(`no link in mail "${mail.subject}"`);
  return token;
};
const otherCode = (code: string, n: number) => String((Number(code) + n) % 1_000_000).padStart(6, "0");
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms))]);
const newPassword = () => `brand new passphrase ${randomBytes(6).toString("hex")}`;

/** Forgot password (AUTH-12) and email change (AUTH-8) end to end, reading the topology's real mailbox. */
export function defineRecoveryScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const mailbox = () => topology().mailbox;
  const logs = () => [...topology().processes.values()].flatMap((p) => p.lines).join("\n");
  /** Fails if a secret shows in any log line of any process (codes as whole numbers, not inside ids). */
  const expectNotLogged = (secrets: string[]) => {
    const all = logs();
    for (const secret of secrets) {
      if (/^\d{6}$/.test(secret)) expect(all).not.toMatch(new RegExp(`(?<![\\d])${secret}(?![\\d])`));
      else expect(all).not.toContain(secret);
    }
  };
  const signIn = (email: string, password: string) =>
    graphql<{ signIn: { accessToken: string; refreshToken: string } }>(url(), SIGN_IN, {
      input: { email, password },
    });
  async function resetMail(email: string): Promise<ReceivedMail> {
    dataOf(await graphql(url(), REQUEST_RESET, { input: { email } }));
    return mailbox().waitFor(email, (mail) => RESET_SUBJECT.test(mail.subject));
  }
  const reset = (input: Record<string, string>) =>
    graphql<{ resetPassword: { revokedSessionCount: number } }>(url(), RESET, { input });

  describe("forgot password (AUTH-12)", () => {
    it("resets with the mailed code: old password fails, new works, the open socket closes 4401, refresh tokens die", async () => {
      const user = await signedInUser(url());
      const email = user.identity.email;
      const socket = wsClient(url(), user.accessToken);
      const stream = collect(socket.client, MY_EVENTS);
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const mail = await resetMail(email.toUpperCase());
        expect(mail.text).toContain("Hello Ada,");
        const code = codeIn(mail);
        const token = linkTokenIn(mail);
        const password = newPassword();
        // A weak password is refused before the code is looked at (the code still works after).
        const weak = await reset({ email, code, newPassword: "password" });
        expect([codeOf(weak), fieldOf(weak)]).toEqual(["BAD_USER_INPUT", "newPassword"]);
        const done = dataOf(await reset({ email, code, newPassword: password }));
        expect(done.resetPassword.revokedSessionCount).toBe(1);

        expect(await within(socket.closed, 5_000)).toMatchObject({ code: 4401 });
        expect(codeOf(await graphql(url(), ME, {}, user.accessToken))).toBe("UNAUTHENTICATED");
        expect(codeOf(await graphql(url(), REFRESH, { input: { refreshToken: user.refreshToken } }))).toBe(
          "UNAUTHENTICATED",
        );
        expect(codeOf(await signIn(email, user.identity.password))).toBe("UNAUTHENTICATED");
        const fresh = dataOf(await signIn(email, password)).signIn;
        expect(dataOf(await graphql<{ me: { id: string } }>(url(), ME, {}, fresh.accessToken)).me.id).toBe(
          user.user.id,
        );
        // The code and its link were used up together.
        expect(codeOf(await reset({ email, code, newPassword: newPassword() }))).toBe("BAD_USER_INPUT");
        expect(codeOf(await reset({ linkToken: token, newPassword: newPassword() }))).toBe("BAD_USER_INPUT");
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(logs()).toContain('"PASSWORD_RESET"');
        expectNotLogged([code, token, password, user.identity.password, user.refreshToken]);
      } finally {
        stream.dispose();
        await socket.client.dispose();
      }
    });

    it("resets with the mailed link token alone", async () => {
      const user = await signedInUser(url());
      const token = linkTokenIn(await resetMail(user.identity.email));
      const password = newPassword();
      expect(dataOf(await reset({ linkToken: token, newPassword: password })).resetPassword).toEqual({
        revokedSessionCount: 1,
      });
      dataOf(await signIn(user.identity.email, password));
    });

    it("answers an unknown email exactly like a known one and mails nothing", async () => {
      const email = `nobody.${randomBytes(5).toString("hex")}@example.org`;
      const known = await signedInUser(url());
      const forKnown = await graphql(url(), REQUEST_RESET, { input: { email: known.identity.email } });
      const forUnknown = await graphql(url(), REQUEST_RESET, { input: { email } });
      expect(forUnknown).toEqual(forKnown);
      expect(forUnknown).toEqual({ status: 200, data: { requestPasswordReset: { accepted: true } } });
      await mailbox().waitFor(known.identity.email, (mail) => RESET_SUBJECT.test(mail.subject));
      const refused = await reset({ email, code: "123456", newPassword: newPassword() });
      expect([codeOf(refused), refused.errors?.[0]?.message]).toEqual([
        "BAD_USER_INPUT",
        "Invalid or expired code",
      ]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(mailbox().to(email)).toEqual([]);
    });

    it("refuses wrong codes, and after 5 wrong ones the right code is dead too", async () => {
      const user = await signedInUser(url());
      const email = user.identity.email;
      const code = codeIn(await resetMail(email));
      for (let n = 1; n <= 5; n++) {
        const wrong = await reset({ email, code: otherCode(code, n), newPassword: newPassword() });
        expect([codeOf(wrong), fieldOf(wrong)]).toEqual(["BAD_USER_INPUT", "code"]);
      }
      expect(codeOf(await reset({ email, code, newPassword: newPassword() }))).toBe("BAD_USER_INPUT");
      dataOf(await signIn(email, user.identity.password));
    });

    it("with TOTP on, the mailed code alone does not reset: a valid TOTP code must complete it", async () => {
      await freshTimeStep();
      const user = await signedInUser(url());
      const email = user.identity.email;
      const { secret } = dataOf(
        await graphql<{ beginTotpEnrolment: { secret: string } }>(url(), BEGIN_TOTP, {}, user.accessToken),
      ).beginTotpEnrolment;
      dataOf(await graphql(url(), CONFIRM_TOTP, { input: { code: codeAt(secret, -1) } }, user.accessToken));
      const code = codeIn(await resetMail(email));
      const password = newPassword();
      const demanded = await reset({ email, code, newPassword: password });
      expect(codeOf(demanded)).toBe("TWO_FACTOR_REQUIRED");
      const challengeToken = demanded.errors?.[0]?.extensions?.challengeToken as string;
      expect(typeof challengeToken).toBe("string");
      // Nothing changed yet: the old password still passes (and asks for the second factor).
      expect(codeOf(await signIn(email, user.identity.password))).toBe("TWO_FACTOR_REQUIRED");
      expect(dataOf(await graphql(url(), ME, {}, user.accessToken))).toBeTruthy();
      const complete = (totp: string) =>
        graphql<{ completePasswordReset: { revokedSessionCount: number } }>(url(), COMPLETE_RESET, {
          input: { challengeToken, code: totp },
        });
      expect(codeOf(await complete("000000"))).toBe("UNAUTHENTICATED");
      expect(codeOf(await signIn(email, password))).toBe("UNAUTHENTICATED");
      const totp = codeAt(secret, 0);
      expect(dataOf(await complete(totp)).completePasswordReset.revokedSessionCount).toBe(1);
      expect(codeOf(await graphql(url(), ME, {}, user.accessToken))).toBe("UNAUTHENTICATED");
      expect(codeOf(await signIn(email, user.identity.password))).toBe("UNAUTHENTICATED");
      // The new password is right; 2FA stays on for the sign-in.
      expect(codeOf(await signIn(email, password))).toBe("TWO_FACTOR_REQUIRED");
      expect(codeOf(await complete(codeAt(secret, 1)))).toBe("UNAUTHENTICATED");
      expectNotLogged([code, password, challengeToken, secret, totp]);
    });
  });

  describe("email change (AUTH-8)", () => {
    it("mails a code to the new address and a notice to the old; the email switches and sign-in follows it", async () => {
      const user = await signedInUser(url());
      const oldEmail = user.identity.email;
      const newEmail = `Grace.${randomBytes(5).toString("hex")}@Example.org`;
      const requested = await graphql(
        url(),
        REQUEST_CHANGE,
        { input: { newEmail, currentPassword: user.identity.password } },
        user.accessToken,
      );
      expect(dataOf(requested)).toEqual({ requestEmailChange: { accepted: true } });
      const codeMail = await mailbox().waitFor(newEmail, (m) => /new Beep e-mail address/.test(m.subject));
      const notice = await mailbox().waitFor(oldEmail, (m) => /is being changed/.test(m.subject));
      expect(notice.text).not.toMatch(/\b\d{6}\b/);
      const code = codeIn(codeMail);
      expect(dataOf(await graphql<{ me: { email: string } }>(url(), ME, {}, user.accessToken)).me.email).toBe(
        oldEmail,
      );
      const wrong = await graphql(
        url(),
        CONFIRM_CHANGE,
        { input: { code: otherCode(code, 1) } },
        user.accessToken,
      );
      expect([codeOf(wrong), fieldOf(wrong)]).toEqual(["BAD_USER_INPUT", "code"]);
      const confirmed = dataOf(
        await graphql<{ confirmEmailChange: { user: { email: string } } }>(
          url(),
          CONFIRM_CHANGE,
          { input: { code } },
          user.accessToken,
        ),
      );
      expect(confirmed.confirmEmailChange.user.email).toBe(newEmail);
      expect(dataOf(await graphql<{ me: { email: string } }>(url(), ME, {}, user.accessToken)).me.email).toBe(
        newEmail,
      );
      dataOf(await signIn(newEmail.toLowerCase(), user.identity.password));
      expect(codeOf(await signIn(oldEmail, user.identity.password))).toBe("UNAUTHENTICATED");
      expect(codeOf(await graphql(url(), CONFIRM_CHANGE, { input: { code } }, user.accessToken))).toBe(
        "BAD_USER_INPUT",
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(logs()).toContain('"EMAIL_CHANGED"');
      expectNotLogged([code, user.identity.password]);
    });

    it("refuses a taken email (CONFLICT) and a wrong current password, and an anonymous caller", async () => {
      const user = await signedInUser(url());
      const other = await signedInUser(url());
      const taken = await graphql(
        url(),
        REQUEST_CHANGE,
        { input: { newEmail: other.identity.email.toLowerCase(), currentPassword: user.identity.password } },
        user.accessToken,
      );
      expect([codeOf(taken), fieldOf(taken)]).toEqual(["CONFLICT", "email"]);
      const newEmail = `free.${randomBytes(5).toString("hex")}@example.org`;
      const wrong = await graphql(
        url(),
        REQUEST_CHANGE,
        { input: { newEmail, currentPassword: "not my password" } },
        user.accessToken,
      );
      expect([codeOf(wrong), fieldOf(wrong)]).toEqual(["UNAUTHENTICATED", "currentPassword"]);
      const anonymous = await graphql(url(), REQUEST_CHANGE, {
        input: { newEmail, currentPassword: user.identity.password },
      });
      expect(codeOf(anonymous)).toBe("UNAUTHENTICATED");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(mailbox().to(newEmail)).toEqual([]);
    });
  });
}
