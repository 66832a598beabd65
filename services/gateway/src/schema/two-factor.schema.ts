import { TwoFactorService } from "@beep/proto/gen/beep/users/v1/two_factor_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "The signed-in user's two-factor state."
  type TwoFactorStatus {
    "True once TOTP enrolment is confirmed; sign-in then asks for a code."
    enabled: Boolean!
    "True while an enrolment was begun but not confirmed."
    enrolmentPending: Boolean!
    "Unused recovery codes left."
    recoveryCodesRemaining: Int!
  }

  type Query {
    "The signed-in user's two-factor state (AUTH-3). Errors: UNAUTHENTICATED."
    twoFactorStatus: TwoFactorStatus!
  }

  "Result of beginTotpEnrolment: show it once, as a QR code and as text."
  type BeginTotpEnrolmentPayload {
    "The shared secret, base32, for manual entry."
    secret: String!
    "otpauth://totp/… URI (issuer Beep, label the account's email) to render as a QR code."
    otpauthUri: String!
  }

  "Input of confirmTotpEnrolment."
  input ConfirmTotpEnrolmentInput {
    "A current 6-digit code from the authenticator app."
    code: String!
  }

  "Result of confirmTotpEnrolment."
  type ConfirmTotpEnrolmentPayload {
    "Ten single-use recovery codes; shown only this once."
    recoveryCodes: [String!]!
    "The new two-factor state."
    status: TwoFactorStatus!
  }

  "Input of disableTotp."
  input DisableTotpInput {
    "A current 6-digit code or an unused recovery code."
    code: String!
  }

  "Result of disableTotp."
  type DisableTotpPayload {
    "The new two-factor state."
    status: TwoFactorStatus!
  }

  "Input of regenerateRecoveryCodes."
  input RegenerateRecoveryCodesInput {
    "A current 6-digit code or an unused recovery code."
    code: String!
  }

  "Result of regenerateRecoveryCodes."
  type RegenerateRecoveryCodesPayload {
    "Ten new single-use recovery codes, replacing every previous one; shown only this once."
    recoveryCodes: [String!]!
  }

  "Input of completeSignIn."
  input CompleteSignInInput {
    "extensions.challengeToken of the TWO_FACTOR_REQUIRED error of signIn."
    challengeToken: String!
    "A current 6-digit code or an unused recovery code."
    code: String!
  }

  type Mutation {
    "Starts TOTP enrolment with a new secret, pending until confirmed (AUTH-3). Errors: UNAUTHENTICATED, CONFLICT when already on."
    beginTotpEnrolment: BeginTotpEnrolmentPayload!
    "Turns two-factor on with a code from the new secret. Errors: UNAUTHENTICATED, BAD_USER_INPUT (code), CONFLICT."
    confirmTotpEnrolment(input: ConfirmTotpEnrolmentInput!): ConfirmTotpEnrolmentPayload!
    "Turns two-factor off. Errors: UNAUTHENTICATED, BAD_USER_INPUT (code)."
    disableTotp(input: DisableTotpInput!): DisableTotpPayload!
    "Replaces every recovery code. Errors: UNAUTHENTICATED, BAD_USER_INPUT (code)."
    regenerateRecoveryCodes(input: RegenerateRecoveryCodesInput!): RegenerateRecoveryCodesPayload!
    "Finishes a sign-in that answered TWO_FACTOR_REQUIRED. A code is accepted once; 5 wrong codes end the challenge. Errors: UNAUTHENTICATED."
    completeSignIn(input: CompleteSignInInput!): SessionPayload!
  }
`;

type Args<T> = { input: T };

const twoFactor = (context: GatewayContext) => context.clients.client(TwoFactorService);

/** TOTP two-factor: enrolment, recovery codes, disabling and the second step of sign-in (AUTH-3). */
export const twoFactorSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      twoFactorStatus: (_root: unknown, _args: unknown, context: GatewayContext) =>
        twoFactor(context).getTwoFactorStatus({}, asViewer(context)),
    },
    Mutation: {
      beginTotpEnrolment: (_root: unknown, _args: unknown, context: GatewayContext) =>
        twoFactor(context).beginTotpEnrolment({}, asViewer(context)),
      confirmTotpEnrolment: async (
        _root: unknown,
        { input }: Args<{ code: string }>,
        context: GatewayContext,
      ) => {
        const { recoveryCodes } = await twoFactor(context).confirmTotpEnrolment(input, asViewer(context));
        return { recoveryCodes, status: await twoFactor(context).getTwoFactorStatus({}, asViewer(context)) };
      },
      disableTotp: async (_root: unknown, { input }: Args<{ code: string }>, context: GatewayContext) => ({
        status: await twoFactor(context).disableTotp(input, asViewer(context)),
      }),
      regenerateRecoveryCodes: (_root: unknown, { input }: Args<{ code: string }>, context: GatewayContext) =>
        twoFactor(context).regenerateRecoveryCodes(input, asViewer(context)),
      completeSignIn: (
        _root: unknown,
        { input }: Args<{ challengeToken: string; code: string }>,
        context: GatewayContext,
      ) => twoFactor(context).completeSignIn({ ...input, device: context.device, ip: context.ip }),
    },
  },
};
