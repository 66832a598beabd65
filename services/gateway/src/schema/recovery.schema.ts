import { EmailChangeService } from "@beep/proto/gen/beep/users/v1/email_change_pb.ts";
import { PasswordResetService } from "@beep/proto/gen/beep/users/v1/password_reset_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Input of requestPasswordReset."
  input RequestPasswordResetInput {
    "The account's email address."
    email: String!
  }

  "Result of requestPasswordReset: the same whether the account exists or not."
  type RequestPasswordResetPayload {
    "Always true; a code and link are mailed only if the account exists."
    accepted: Boolean!
  }

  "Input of resetPassword: email and code, or the token of the mailed link."
  input ResetPasswordInput {
    "The account's email address; needed with code."
    email: String
    "The 6-digit code from the mail."
    code: String
    "The token of the mailed link (reset-password?token=…); replaces email and code."
    linkToken: String
    "8–1024 characters, any Unicode; not a common password."
    newPassword: String!
  }

  "Result of resetPassword and completePasswordReset. Nobody is signed in: sign in with the new password."
  type ResetPasswordPayload {
    "How many sessions the reset signed out (all of them)."
    revokedSessionCount: Int!
  }

  "Input of completePasswordReset."
  input CompletePasswordResetInput {
    "extensions.challengeToken of the TWO_FACTOR_REQUIRED error of resetPassword."
    challengeToken: String!
    "A current 6-digit TOTP code or an unused recovery code."
    code: String!
  }

  "Input of requestEmailChange."
  input RequestEmailChangeInput {
    "The address to switch to; it receives the code."
    newEmail: String!
    "The password in use now (re-authentication)."
    currentPassword: String!
  }

  "Result of requestEmailChange."
  type RequestEmailChangePayload {
    "Always true (failures are errors); the code went to the new address, a notice to the old one."
    accepted: Boolean!
  }

  "Input of confirmEmailChange."
  input ConfirmEmailChangeInput {
    "The 6-digit code mailed to the new address."
    code: String!
  }

  "Result of confirmEmailChange."
  type ConfirmEmailChangePayload {
    "The signed-in user with the new, verified email."
    user: User!
  }

  type Mutation {
    "Mails a password reset code and link (AUTH-12); the answer is the same whether the account exists or not. Errors: BAD_USER_INPUT (email) when malformed."
    requestPasswordReset(input: RequestPasswordResetInput!): RequestPasswordResetPayload!
    "Sets a new password with the mailed code or link and signs out every session; never signs in. Single use, 10 minutes, 5 attempts. Errors: BAD_USER_INPUT (newPassword; code, one message for any failure), TWO_FACTOR_REQUIRED (extensions.challengeToken; 2FA on: finish with completePasswordReset)."
    resetPassword(input: ResetPasswordInput!): ResetPasswordPayload!
    "Finishes a reset that answered TWO_FACTOR_REQUIRED; 5 wrong codes end the challenge. Errors: UNAUTHENTICATED."
    completePasswordReset(input: CompletePasswordResetInput!): ResetPasswordPayload!
    "Mails a code to the new address and a notice to the old one (AUTH-8). Errors: UNAUTHENTICATED (field currentPassword when wrong), BAD_USER_INPUT (newEmail), CONFLICT (email taken), RATE_LIMITED."
    requestEmailChange(input: RequestEmailChangeInput!): RequestEmailChangePayload!
    "Switches the email to the new, now verified address. Errors: UNAUTHENTICATED, BAD_USER_INPUT (code), CONFLICT (email taken meanwhile)."
    confirmEmailChange(input: ConfirmEmailChangeInput!): ConfirmEmailChangePayload!
  }
`;

type Args<T> = { input: T };
type Nullable<T> = { [K in keyof T]?: T[K] | null };

const resets = (context: GatewayContext) => context.clients.client(PasswordResetService);
const emailChanges = (context: GatewayContext) => context.clients.client(EmailChangeService);

/** Forgot password (AUTH-12) and email change (AUTH-8). */
export const recoverySchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Mutation: {
      requestPasswordReset: (_root: unknown, { input }: Args<{ email: string }>, context: GatewayContext) =>
        resets(context).requestPasswordReset(input),
      resetPassword: async (
        _root: unknown,
        {
          input,
        }: Args<Nullable<{ email: string; code: string; linkToken: string }> & { newPassword: string }>,
        context: GatewayContext,
      ) => {
        const { revokedSessions } = await resets(context).resetPassword({
          email: input.email ?? "",
          code: input.code ?? "",
          linkToken: input.linkToken ?? "",
          newPassword: input.newPassword,
          ip: context.ip,
        });
        return { revokedSessionCount: revokedSessions };
      },
      completePasswordReset: async (
        _root: unknown,
        { input }: Args<{ challengeToken: string; code: string }>,
        context: GatewayContext,
      ) => {
        const { revokedSessions } = await resets(context).completePasswordReset({ ...input, ip: context.ip });
        return { revokedSessionCount: revokedSessions };
      },
      requestEmailChange: (
        _root: unknown,
        { input }: Args<{ newEmail: string; currentPassword: string }>,
        context: GatewayContext,
      ) => emailChanges(context).requestEmailChange(input, asViewer(context)),
      confirmEmailChange: (_root: unknown, { input }: Args<{ code: string }>, context: GatewayContext) =>
        emailChanges(context).confirmEmailChange(input, asViewer(context)),
    },
  },
};
