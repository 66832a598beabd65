import { ContactSettingsService } from "@beep/proto/gen/beep/users/v1/contact_settings_pb.ts";
import { CodeChannel, OneTimeCodeService } from "@beep/proto/gen/beep/users/v1/one_time_codes_pb.ts";
import { VerificationService } from "@beep/proto/gen/beep/users/v1/verification_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Whether the signed-in user's email address is proven."
  type EmailVerification {
    "True once a mailed code or link was used (or a sign-in code arrived by mail)."
    verified: Boolean!
    "When it was verified; null while unverified."
    verifiedAt: DateTime
  }

  "Language and phone of the signed-in user."
  type ContactSettings {
    "Language of mails and server messages: en or fr."
    language: String!
    "E.164 phone number for SMS codes; null when none."
    phone: String
  }

  type Query {
    "Whether the signed-in user's email is verified; unverified users may sign in. Errors: UNAUTHENTICATED."
    emailVerification: EmailVerification!
    "The signed-in user's language and phone. Errors: UNAUTHENTICATED."
    contactSettings: ContactSettings!
  }

  "Where a sign-in code is sent."
  enum SignInCodeChannel {
    "To the account's email address."
    EMAIL
    "To the account's phone number by SMS."
    SMS
  }

  "Input of verifyEmail: email and code, or the token of the mailed link."
  input VerifyEmailInput {
    "The address the code was sent to."
    email: String
    "The 6-digit code from the mail."
    code: String
    "The token of the mailed link; replaces email and code."
    token: String
  }

  "Result of verifyEmail."
  type VerifyEmailPayload {
    "Always true (failures are errors)."
    verified: Boolean!
  }

  "Input of resendVerification."
  input ResendVerificationInput {
    "The account's email address."
    email: String!
  }

  "Result of resendVerification and requestSignInCode: the same whether the account exists or not."
  type CodeRequestPayload {
    "Always true; a code is sent only if the account exists."
    accepted: Boolean!
  }

  "Input of requestSignInCode: one of email or phone."
  input RequestSignInCodeInput {
    "The account's email address."
    email: String
    "The account's phone number in E.164."
    phone: String
    "Where to send the code; defaults to EMAIL for an email, SMS for a phone."
    channel: SignInCodeChannel
  }

  "Input of signInWithCode: the email or phone the code was requested for, and the code."
  input SignInWithCodeInput {
    "The account's email address."
    email: String
    "The account's phone number in E.164."
    phone: String
    "The 6-digit code received."
    code: String!
  }

  "Input of updateContactSettings: fields left out stay unchanged."
  input UpdateContactSettingsInput {
    "en or fr."
    language: String
    "E.164 phone number (+33612345678); empty removes it."
    phone: String
  }

  "Result of updateContactSettings."
  type UpdateContactSettingsPayload {
    "The settings after the change."
    settings: ContactSettings!
  }

  type Mutation {
    "Proves the email with the mailed code or link (AUTH-1). Errors: BAD_USER_INPUT (code), one message for any failure; 5 wrong codes kill the code."
    verifyEmail(input: VerifyEmailInput!): VerifyEmailPayload!
    "Mails a new verification code if the account exists and is unverified."
    resendVerification(input: ResendVerificationInput!): CodeRequestPayload!
    "Sends a one-time sign-in code by email or SMS (AUTH-7). Errors: BAD_USER_INPUT (field) for a malformed email or phone only."
    requestSignInCode(input: RequestSignInCodeInput!): CodeRequestPayload!
    "Signs in with a one-time code: single use, 10 minutes, 5 attempts. Errors: UNAUTHENTICATED, same for any failure."
    signInWithCode(input: SignInWithCodeInput!): SessionPayload!
    "Changes the signed-in user's language or phone (AUTH-9). Errors: UNAUTHENTICATED, BAD_USER_INPUT (field), CONFLICT (phone)."
    updateContactSettings(input: UpdateContactSettingsInput!): UpdateContactSettingsPayload!
  }
`;

type Args<T> = { input: T };
type Nullable<T> = { [K in keyof T]?: T[K] | null };

const verification = (context: GatewayContext) => context.clients.client(VerificationService);
const codes = (context: GatewayContext) => context.clients.client(OneTimeCodeService);
const contact = (context: GatewayContext) => context.clients.client(ContactSettingsService);
const CHANNELS = { EMAIL: CodeChannel.EMAIL, SMS: CodeChannel.SMS } as const;
const settingsView = (settings: { language: string; phone: string }) => ({
  language: settings.language,
  phone: settings.phone || null,
});

/** Email verification, passwordless sign-in codes and contact settings (AUTH-1, AUTH-7, AUTH-9). */
export const oneTimeCodesSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      emailVerification: async (_root: unknown, _args: unknown, context: GatewayContext) => {
        const status = await verification(context).getEmailVerification({}, asViewer(context));
        return { verified: status.verified, verifiedAt: status.verifiedAt || null };
      },
      contactSettings: async (_root: unknown, _args: unknown, context: GatewayContext) =>
        settingsView(await contact(context).getContactSettings({}, asViewer(context))),
    },
    Mutation: {
      verifyEmail: (
        _root: unknown,
        { input }: Args<Nullable<{ email: string; code: string; token: string }>>,
        context: GatewayContext,
      ) =>
        verification(context).verifyEmail({
          email: input.email ?? "",
          code: input.code ?? "",
          token: input.token ?? "",
          ip: context.ip,
        }),
      resendVerification: (_root: unknown, { input }: Args<{ email: string }>, context: GatewayContext) =>
        verification(context).resendVerification({ ...input, ip: context.ip }),
      requestSignInCode: (
        _root: unknown,
        { input }: Args<Nullable<{ email: string; phone: string; channel: keyof typeof CHANNELS }>>,
        context: GatewayContext,
      ) =>
        codes(context).requestSignInCode({
          email: input.email ?? "",
          phone: input.phone ?? "",
          channel: input.channel ? CHANNELS[input.channel] : CodeChannel.UNSPECIFIED,
          ip: context.ip,
        }),
      signInWithCode: (
        _root: unknown,
        { input }: Args<Nullable<{ email: string; phone: string }> & { code: string }>,
        context: GatewayContext,
      ) =>
        codes(context).signInWithCode({
          email: input.email ?? "",
          phone: input.phone ?? "",
          code: input.code,
          device: context.device,
          ip: context.ip,
        }),
      updateContactSettings: async (
        _root: unknown,
        { input }: Args<Nullable<{ language: string; phone: string }>>,
        context: GatewayContext,
      ) => {
        // GraphQL null means "leave unchanged" here, like a missing field.
        const settings = await contact(context).updateContactSettings(
          {
            ...(input.language != null && { language: input.language }),
            ...(input.phone != null && { phone: input.phone }),
          },
          asViewer(context),
        );
        return { settings: settingsView(settings) };
      },
    },
  },
};
