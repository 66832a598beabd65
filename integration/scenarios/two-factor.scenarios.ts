import { Secret, TOTP } from "otpauth";
import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken user { id } } }`;
const BEGIN = `mutation { beginTotpEnrolment { secret otpauthUri } }`;
const CONFIRM = `mutation ($input: ConfirmTotpEnrolmentInput!) {
  confirmTotpEnrolment(input: $input) { recoveryCodes status { enabled enrolmentPending recoveryCodesRemaining } } }`;
const DISABLE = `mutation ($input: DisableTotpInput!) { disableTotp(input: $input) { status { enabled } } }`;
const REGENERATE = `mutation ($input: RegenerateRecoveryCodesInput!) { regenerateRecoveryCodes(input: $input) { recoveryCodes } }`;
const COMPLETE = `mutation ($input: CompleteSignInInput!) { completeSignIn(input: $input) {
  accessToken refreshToken user { id email } } }`;
const STATUS = `{ twoFactorStatus { enabled enrolmentPending recoveryCodesRemaining } }`;
const ME = `{ me { id } }`;

const PERIOD_MS = 30_000;

/** The code of the time step `offset` steps from now (the server accepts -1, 0 and +1). */
const codeAt = (secret: string, offset: number) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + offset * PERIOD_MS });

/** A 6-digit code that is none of the codes the server would accept now. */
function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((offset) => codeAt(secret, offset)));
  let n = 100_000;
  while (valid.has(String(n))) n++;
  return String(n);
}

/**
 * Waits until at least `neededMs` remain in the current 30 s time step, so a
 * scenario's steps -1, 0 and +1 keep meaning the same codes from start to end.
 */
async function freshTimeStep(neededMs = 15_000): Promise<void> {
  const left = PERIOD_MS - (Date.now() % PERIOD_MS);
  if (left < neededMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

const codeOf = (response: GraphqlResponse) => response.errors?.[0]?.extensions?.code;

/** TOTP two-factor (AUTH-3) end to end; run unchanged against every topology. */
export function defineTwoFactorScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  /** A signed-in user who enrolled with the previous step's code; everything a log must not show. */
  async function enrolledUser() {
    const user = await signedInUser(url());
    const begun = dataOf(
      await graphql<{ beginTotpEnrolment: { secret: string; otpauthUri: string } }>(
        url(),
        BEGIN,
        {},
        user.accessToken,
      ),
    ).beginTotpEnrolment;
    const confirmed = dataOf(
      await graphql<{ confirmTotpEnrolment: { recoveryCodes: string[]; status: Record<string, unknown> } }>(
        url(),
        CONFIRM,
        { input: { code: codeAt(begun.secret, -1) } },
        user.accessToken,
      ),
    ).confirmTotpEnrolment;
    return { ...user, ...begun, recoveryCodes: confirmed.recoveryCodes, status: confirmed.status };
  }

  const signIn = (identity: { email: string; password: string }) =>
    graphql<{ signIn: unknown }>(url(), SIGN_IN, {
      input: { email: identity.email, password: identity.password },
    });

  async function challenge(identity: { email: string; password: string }): Promise<string> {
    const response = await signIn(identity);
    expect(codeOf(response)).toBe("TWO_FACTOR_REQUIRED");
    expect(response.data?.signIn ?? null).toBeNull();
    const token = response.errors?.[0]?.extensions?.challengeToken;
    expect(typeof token).toBe("string");
    return token as string;
  }

  const complete = (challengeToken: string, code: string) =>
    graphql<{ completeSignIn: { accessToken: string; refreshToken: string; user: { id: string } } }>(
      url(),
      COMPLETE,
      { input: { challengeToken, code } },
    );

  describe("TOTP two-factor (AUTH-3)", () => {
    it("enrols, asks for a code at sign-in, refuses a replayed code, takes a recovery code once, disables only with a valid code", async () => {
      await freshTimeStep();
      const user = await enrolledUser();
      const responses: string[] = [];
      const keep = <T>(response: GraphqlResponse<T>) => {
        responses.push(JSON.stringify(response));
        return response;
      };

      const uri = new URL(user.otpauthUri);
      expect(uri.host).toBe("totp");
      expect(decodeURIComponent(uri.pathname)).toBe(`/Beep:${user.identity.email}`);
      expect(uri.searchParams.get("issuer")).toBe("Beep");
      expect(uri.searchParams.get("secret")).toBe(user.secret);
      expect(user.status).toEqual({ enabled: true, enrolmentPending: false, recoveryCodesRemaining: 10 });
      expect(user.recoveryCodes).toHaveLength(10);
      expect(new Set(user.recoveryCodes).size).toBe(10);

      // Sign-in now stops at the second factor; the right code finishes it.
      const first = await challenge(user.identity);
      const code = codeAt(user.secret, 0);
      const session = dataOf(keep(await complete(first, code))).completeSignIn;
      expect(session.user.id).toBe(user.user.id);
      expect(dataOf(await graphql<{ me: { id: string } }>(url(), ME, {}, session.accessToken)).me.id).toBe(
        user.user.id,
      );
      // The challenge was single-use.
      expect(codeOf(keep(await complete(first, codeAt(user.secret, 1))))).toBe("UNAUTHENTICATED");

      // The same code again, on a new challenge: refused (replay); the challenge survives the wrong try.
      const second = await challenge(user.identity);
      const replay = keep(await complete(second, code));
      expect(codeOf(replay)).toBe("UNAUTHENTICATED");
      expect(replay.data?.completeSignIn ?? null).toBeNull();
      const recovery = user.recoveryCodes[0] as string;
      dataOf(keep(await complete(second, recovery)));

      // A recovery code works once.
      const third = await challenge(user.identity);
      expect(codeOf(keep(await complete(third, recovery)))).toBe("UNAUTHENTICATED");
      const status = dataOf(
        keep(
          await graphql<{ twoFactorStatus: Record<string, unknown> }>(url(), STATUS, {}, user.accessToken),
        ),
      );
      expect(status.twoFactorStatus).toEqual({
        enabled: true,
        enrolmentPending: false,
        recoveryCodesRemaining: 9,
      });

      // Disabling needs a valid, unspent code.
      const disable = async (c: string) =>
        keep(
          await graphql<{ disableTotp: { status: { enabled: boolean } } }>(
            url(),
            DISABLE,
            { input: { code: c } },
            user.accessToken,
          ),
        );
      expect(codeOf(await disable(wrongCode(user.secret)))).toBe("BAD_USER_INPUT");
      expect(codeOf(await disable(code))).toBe("BAD_USER_INPUT");
      expect(codeOf(await disable(recovery))).toBe("BAD_USER_INPUT");
      expect(codeOf(await signIn(user.identity))).toBe("TWO_FACTOR_REQUIRED");
      expect(dataOf(await disable(codeAt(user.secret, 1))).disableTotp.status.enabled).toBe(false);
      dataOf(keep(await signIn(user.identity)));

      // Nothing secret in any later response, nor in any log line of any process.
      const everything = [...responses, ...[...topology().processes.values()].flatMap((p) => p.lines)].join(
        "\n",
      );
      for (const secret of [
        user.secret,
        code,
        codeAt(user.secret, 1),
        ...user.recoveryCodes,
        first,
        second,
        third,
      ]) {
        expect(everything).not.toContain(secret);
      }
      const logs = [...topology().processes.values()].flatMap((p) => p.lines).join("\n");
      expect(logs).toContain('"TOTP_ENABLED"');
      expect(logs).toContain('"TOTP_DISABLED"');
      expect(logs).toContain('"RECOVERY_CODE_USED"');
      expect(logs).toContain('"SIGN_IN_SECOND_FACTOR_FAILED"');
    }, 60_000);

    it("kills a challenge after 5 wrong codes; regenerated recovery codes replace the old ones", async () => {
      await freshTimeStep();
      const user = await enrolledUser();
      const dead = await challenge(user.identity);
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(codeOf(await complete(dead, wrongCode(user.secret)))).toBe("UNAUTHENTICATED");
      }
      const refused = await complete(dead, codeAt(user.secret, 0));
      expect(codeOf(refused)).toBe("UNAUTHENTICATED");
      expect(refused.errors?.[0]?.message).toMatch(/sign in again/);

      // A new sign-in works with the very code the dead challenge refused.
      dataOf(await complete(await challenge(user.identity), codeAt(user.secret, 0)));

      const fresh = dataOf(
        await graphql<{ regenerateRecoveryCodes: { recoveryCodes: string[] } }>(
          url(),
          REGENERATE,
          { input: { code: codeAt(user.secret, 1) } },
          user.accessToken,
        ),
      ).regenerateRecoveryCodes.recoveryCodes;
      expect(fresh).toHaveLength(10);
      expect(codeOf(await complete(await challenge(user.identity), user.recoveryCodes[0] as string))).toBe(
        "UNAUTHENTICATED",
      );
      dataOf(await complete(await challenge(user.identity), fresh[0] as string));
    }, 60_000);

    it("refuses two-factor mutations without a signed-in user and a made-up challenge", async () => {
      expect(codeOf(await graphql(url(), BEGIN))).toBe("UNAUTHENTICATED");
      expect(codeOf(await graphql(url(), STATUS))).toBe("UNAUTHENTICATED");
      expect(codeOf(await complete("not-a-challenge", "123456"))).toBe("UNAUTHENTICATED");
    });
  });
}
