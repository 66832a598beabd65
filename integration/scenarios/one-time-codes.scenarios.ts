import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { ReceivedMail } from "../harness/mailbox.ts";
import type { Topology } from "../harness/topology.ts";
import { newIdentity, signedInUser } from "./identity.scenarios.ts";

const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken } }`;
const VERIFICATION = `{ emailVerification { verified verifiedAt } }`;
const VERIFY = `mutation ($input: VerifyEmailInput!) { verifyEmail(input: $input) { verified } }`;
const RESEND = `mutation ($input: ResendVerificationInput!) { resendVerification(input: $input) { accepted } }`;
const SETTINGS = `mutation ($input: UpdateContactSettingsInput!) {
  updateContactSettings(input: $input) { settings { language phone } } }`;
const REQUEST_CODE = `mutation ($input: RequestSignInCodeInput!) { requestSignInCode(input: $input) { accepted } }`;
const SIGN_IN_WITH_CODE = `mutation ($input: SignInWithCodeInput!) {
  signInWithCode(input: $input) { accessToken refreshToken user { id email } } }`;
const ME = `{ me { id } }`;

const codeIn = (mail: ReceivedMail): string => {
  const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no code in mail "${mail.subject}"`);
  return code;
};
const otherCode = (code: string, n: number): string =>
  String((Number(code) + n) % 1_000_000).padStart(6, "0");
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** E-mail verification and passwordless sign-in, reading mail from the topology's SMTP server. */
export function defineOneTimeCodeScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const mailbox = () => topology().mailbox;

  describe("email verification", () => {
    it("mails an English code at sign-up; the user may sign in unverified, and the code verifies the email", async () => {
      const identity = newIdentity();
      dataOf(await graphql(url(), SIGN_UP, { input: identity }));
      const mail = await mailbox().waitFor(identity.email);
      expect(mail.subject).toMatch(/^Your Beep verification code: \d{6}$/);
      expect(mail.text).toContain("Hello Ada,");
      expect(mail.parsed.from?.value[0]?.address).toBeTruthy();

      const { signIn } = dataOf(
        await graphql<{ signIn: { accessToken: string } }>(url(), SIGN_IN, {
          input: { email: identity.email, password: identity.password },
        }),
      );
      const before = dataOf(
        await graphql<{ emailVerification: { verified: boolean } }>(
          url(),
          VERIFICATION,
          {},
          signIn.accessToken,
        ),
      );
      expect(before.emailVerification).toEqual({ verified: false, verifiedAt: null });

      const verified = dataOf(
        await graphql(url(), VERIFY, { input: { email: identity.email.toUpperCase(), code: codeIn(mail) } }),
      );
      expect(verified).toEqual({ verifyEmail: { verified: true } });
      const after = dataOf(
        await graphql<{ emailVerification: { verified: boolean; verifiedAt: string } }>(
          url(),
          VERIFICATION,
          {},
          signIn.accessToken,
        ),
      );
      expect(after.emailVerification.verified).toBe(true);
      expect(new Date(after.emailVerification.verifiedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    });

    it("mails a French code to a user who chose fr, and the mailed link token verifies", async () => {
      const user = await signedInUser(url());
      const english = await mailbox().waitFor(user.identity.email);
      const settings = dataOf(
        await graphql(url(), SETTINGS, { input: { language: "fr" } }, user.accessToken),
      );
      expect(settings).toEqual({ updateContactSettings: { settings: { language: "fr", phone: null } } });
      expect(dataOf(await graphql(url(), RESEND, { input: { email: user.identity.email } }))).toEqual({
        resendVerification: { accepted: true },
      });
      const french = await mailbox().waitFor(user.identity.email, (mail) =>
        mail.subject.startsWith("Votre code"),
      );
      expect(french.subject).toMatch(/^Votre code de vérification Beep : \d{6}$/);
      expect(french.text).toContain("Bonjour Ada,");

      // The new code replaced the English one.
      const stale = await graphql(url(), VERIFY, {
        input: { email: user.identity.email, code: codeIn(english) },
      });
      expect(stale.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

      const token = /verify-email\?token=([\w-]+)/.exec(french.text)?.[1];
      expect(token).toBeTruthy();
      expect(dataOf(await graphql(url(), VERIFY, { input: { token } }))).toEqual({
        verifyEmail: { verified: true },
      });
      const status = dataOf(
        await graphql<{ emailVerification: { verified: boolean } }>(
          url(),
          VERIFICATION,
          {},
          user.accessToken,
        ),
      );
      expect(status.emailVerification.verified).toBe(true);
      // A used link does not work twice.
      const again = await graphql(url(), VERIFY, { input: { token } });
      expect(again.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    });

    it("kills the code after 5 wrong guesses, so even the right code then fails", async () => {
      const identity = newIdentity();
      dataOf(await graphql(url(), SIGN_UP, { input: identity }));
      const code = codeIn(await mailbox().waitFor(identity.email));
      for (let n = 1; n <= 5; n++) {
        const wrong = await graphql(url(), VERIFY, {
          input: { email: identity.email, code: otherCode(code, n) },
        });
        expect(wrong.errors?.[0]).toMatchObject({
          message: "Invalid or expired code",
          extensions: { code: "BAD_USER_INPUT" },
        });
      }
      const right = await graphql(url(), VERIFY, { input: { email: identity.email, code } });
      expect(right.errors?.[0]?.message).toBe("Invalid or expired code");
    });

    it("answers resendVerification the same for an unknown email and sends it nothing", async () => {
      const unknown = newIdentity().email;
      expect(dataOf(await graphql(url(), RESEND, { input: { email: unknown } }))).toEqual({
        resendVerification: { accepted: true },
      });
      await pause(500);
      expect(mailbox().to(unknown)).toEqual([]);
    });
  });

  describe("passwordless sign-in with a one-time code", () => {
    it("mails a code that signs in once; reusing it fails", async () => {
      const identity = newIdentity();
      dataOf(await graphql(url(), SIGN_UP, { input: identity }));
      await mailbox().waitFor(identity.email);
      expect(
        dataOf(await graphql(url(), REQUEST_CODE, { input: { email: identity.email, channel: "EMAIL" } })),
      ).toEqual({ requestSignInCode: { accepted: true } });
      const mail = await mailbox().waitFor(identity.email, (m) =>
        m.subject.startsWith("Your Beep sign-in code"),
      );
      const code = codeIn(mail);

      const { signInWithCode } = dataOf(
        await graphql<{ signInWithCode: { accessToken: string; user: { email: string } } }>(
          url(),
          SIGN_IN_WITH_CODE,
          { input: { email: identity.email, code } },
        ),
      );
      expect(signInWithCode.user.email).toBe(identity.email);
      expect(
        dataOf(await graphql<{ me: { id: string } }>(url(), ME, {}, signInWithCode.accessToken)).me.id,
      ).toMatch(/^\d+$/);
      // The code reached the mailbox, so the address is proven too.
      const status = dataOf(
        await graphql<{ emailVerification: { verified: boolean } }>(
          url(),
          VERIFICATION,
          {},
          signInWithCode.accessToken,
        ),
      );
      expect(status.emailVerification.verified).toBe(true);

      // Neither the code nor the mail body reached any process's log (the audit trail names the request only).
      const logs = [...topology().processes.values()].flatMap((process) => process.lines).join("\n");
      expect(logs).toContain("SIGN_IN_CODE_REQUESTED");
      // Bounded so a timestamp or trace id that merely contains the six digits does not count.
      expect(logs).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`));

      const reuse = await graphql(url(), SIGN_IN_WITH_CODE, { input: { email: identity.email, code } });
      expect(reuse.errors?.[0]).toMatchObject({
        message: "Invalid or expired code",
        extensions: { code: "UNAUTHENTICATED" },
      });
    });

    it("sends a French SMS code to the phone the user set, which signs in with the phone", async () => {
      const user = await signedInUser(url());
      const phone = `+3361${String(Date.now() % 10_000_000).padStart(7, "0")}`;
      const settings = dataOf(
        await graphql(
          url(),
          SETTINGS,
          { input: { language: "fr", phone: phone.replace(/(\d{2})(?=\d)/g, "$1 ") } },
          user.accessToken,
        ),
      );
      expect(settings).toEqual({ updateContactSettings: { settings: { language: "fr", phone } } });
      expect(dataOf(await graphql(url(), REQUEST_CODE, { input: { phone } }))).toEqual({
        requestSignInCode: { accepted: true },
      });
      const sms = await topology().sms.waitFor(phone);
      expect(sms.text).toMatch(/^\d{6} est votre code de connexion Beep\./);
      expect(topology().sms.messages.find((m) => m.to === phone)?.authorization).toBe("Bearer it-sms-token");
      const code = sms.text.slice(0, 6);
      const { signInWithCode } = dataOf(
        await graphql<{ signInWithCode: { user: { id: string } } }>(url(), SIGN_IN_WITH_CODE, {
          input: { phone, code },
        }),
      );
      expect(signInWithCode.user.id).toBe(user.user.id);
    });

    it("gives an unknown email the same answer and no mail, and its sign-in the same error", async () => {
      const unknown = newIdentity().email;
      const answer = await graphql(url(), REQUEST_CODE, { input: { email: unknown, channel: "EMAIL" } });
      expect(answer).toEqual({ status: 200, data: { requestSignInCode: { accepted: true } } });
      await pause(500);
      expect(mailbox().to(unknown)).toEqual([]);
      const signIn = await graphql(url(), SIGN_IN_WITH_CODE, { input: { email: unknown, code: "123456" } });
      expect(signIn.errors?.[0]).toMatchObject({
        message: "Invalid or expired code",
        extensions: { code: "UNAUTHENTICATED" },
      });
    });
  });
}
