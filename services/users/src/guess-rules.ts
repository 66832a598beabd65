import type { ServiceImpl } from "@connectrpc/connect";
import type { AccountServiceDesc } from "./account.routes.ts";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { GuessRules } from "./guess-limits.ts";
import type { LdapServiceDesc } from "./ldap.routes.ts";
import type { OneTimeCodeServiceDesc } from "./one-time-codes.routes.ts";
import type { EmailChangeServiceDesc, PasswordResetServiceDesc } from "./recovery.routes.ts";
import type { SsoServiceDesc } from "./sso.module.ts";
import type { TwoFactorServiceDesc } from "./two-factor.routes.ts";
import type { VerificationServiceDesc } from "./verification.routes.ts";

/** Which RPCs guess at a secret, and what each attempt counts against (AUTH-11, ASVS V2/V6). */

export const oneTimeCodeGuessRules: GuessRules<ServiceImpl<typeof OneTimeCodeServiceDesc>> = {
  requestSignInCode: (request) => ({ target: request.email || request.phone, ip: request.ip }),
  signInWithCode: (request) => ({ target: request.email || request.phone, ip: request.ip }),
};

export const verificationGuessRules: GuessRules<ServiceImpl<typeof VerificationServiceDesc>> = {
  // The link token is 128 random bits: counted per IP only.
  verifyEmail: (request) => ({ target: request.token ? undefined : request.email, ip: request.ip }),
  resendVerification: (request) => ({ target: request.email, ip: request.ip }),
};

export const ldapGuessRules: GuessRules<ServiceImpl<typeof LdapServiceDesc>> = {
  signInWithLdap: (request) => ({ target: request.username, ip: request.ip }),
};

export const twoFactorGuessRules: GuessRules<ServiceImpl<typeof TwoFactorServiceDesc>> = {
  completeSignIn: (request) => ({ ip: request.ip }),
};

export const ssoGuessRules: GuessRules<ServiceImpl<typeof SsoServiceDesc>> = {
  // The link token stands for the one account it would link to.
  linkOidcIdentity: (request) => ({ target: request.linkToken, ip: request.ip }),
};

/** Password checks of a signed-in caller: counted per account. */
export function accountGuessRules(
  callers: CallerAuthenticator,
): GuessRules<ServiceImpl<typeof AccountServiceDesc>> {
  return {
    changePassword: async (request, context) => ({
      target: (await callers.authenticate(context)).userId,
      ip: request.ip,
    }),
    deleteAccount: async (request, context) => ({
      target: (await callers.authenticate(context)).userId,
      ip: request.ip,
    }),
  };
}

/** Reset codes are guessed per email (or link token) and IP; the second step per IP. */
export const passwordResetGuessRules: GuessRules<ServiceImpl<typeof PasswordResetServiceDesc>> = {
  resetPassword: (request) => ({ target: request.linkToken ? undefined : request.email, ip: request.ip }),
  completePasswordReset: (request) => ({ ip: request.ip }),
};

/** The mailed email-change code is guessed by a signed-in caller: counted per account. */
export function emailChangeGuessRules(
  callers: CallerAuthenticator,
): GuessRules<ServiceImpl<typeof EmailChangeServiceDesc>> {
  return {
    confirmEmailChange: async (_request, context) => ({
      target: (await callers.authenticate(context)).userId,
    }),
  };
}
