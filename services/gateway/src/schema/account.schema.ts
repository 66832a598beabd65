import { AccountService, type ProfileExtras } from "@beep/proto/gen/beep/users/v1/account_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { picturePath } from "../profile-pictures.edge.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "A short status line a user shows beside their name."
  type CustomStatus {
    "Up to 128 characters; may be empty when an emoji is set."
    text: String!
    "Up to 32 characters (an emoji or a shortcode); may be empty."
    emoji: String!
    "When the status disappears by itself; null means never."
    expiresAt: DateTime
  }

  extend type User {
    "The custom status; null when none is set, it expired, or the request is not signed in."
    customStatus: CustomStatus
    "Path of the profile picture (GET it with the bearer token); null when there is none or the request is not signed in. Changes on every upload."
    pictureUrl: String
    "Path of the profile banner (GET it with the bearer token); null when there is none or the request is not signed in. Changes on every upload."
    bannerUrl: String
  }

  "Which image of a profile."
  enum PictureKind {
    "The round profile picture."
    PICTURE
    "The wide banner behind the profile."
    BANNER
  }

  "Input of changeUsername."
  input ChangeUsernameInput {
    "2–32 letters, digits, _ or .; unique, case-insensitive."
    username: String!
  }

  "Result of changeUsername."
  type ChangeUsernamePayload {
    "The account with its new username."
    user: User!
  }

  "Input of changePassword."
  input ChangePasswordInput {
    "The password in use now."
    currentPassword: String!
    "8–1024 characters, any Unicode; not a common password."
    newPassword: String!
  }

  "Result of changePassword."
  type ChangePasswordPayload {
    "How many other sessions were signed out; this one stays signed in."
    revokedSessionCount: Int!
  }

  "Input of setCustomStatus: text or emoji (or both) is required."
  input SetCustomStatusInput {
    "Up to 128 characters."
    text: String
    "Up to 32 characters."
    emoji: String
    "A future time when the status clears itself; null keeps it until cleared."
    expiresAt: DateTime
  }

  "Result of setCustomStatus."
  type SetCustomStatusPayload {
    "The account with its new status."
    user: User!
  }

  "Result of clearCustomStatus."
  type ClearCustomStatusPayload {
    "The account without a status."
    user: User!
  }

  "Input of removePicture."
  input RemovePictureInput {
    "The image to remove."
    kind: PictureKind!
  }

  "Result of removePicture."
  type RemovePicturePayload {
    "The account without that image."
    user: User!
  }

  "Input of deleteAccount."
  input DeleteAccountInput {
    "The account's password, to confirm it is really its owner."
    password: String!
  }

  "Result of deleteAccount."
  type DeleteAccountPayload {
    "Id of the deleted account; its tokens no longer work."
    deletedUserId: ID!
  }

  "Result of exportAccount."
  type ExportAccountPayload {
    "Everything Beep's identity service holds about the caller (profile, sessions, linked providers), as JSON; no secrets."
    json: String!
  }

  type Mutation {
    "Changes the signed-in user's username (AUTH-8). Errors: UNAUTHENTICATED, BAD_USER_INPUT, CONFLICT (field username)."
    changeUsername(input: ChangeUsernameInput!): ChangeUsernamePayload!
    "Changes the password and signs out every other session (AUTH-8). Errors: UNAUTHENTICATED (field currentPassword), BAD_USER_INPUT (field newPassword)."
    changePassword(input: ChangePasswordInput!): ChangePasswordPayload!
    "Sets the signed-in user's custom status. Errors: UNAUTHENTICATED, BAD_USER_INPUT (field)."
    setCustomStatus(input: SetCustomStatusInput!): SetCustomStatusPayload!
    "Clears the signed-in user's custom status. Errors: UNAUTHENTICATED."
    clearCustomStatus: ClearCustomStatusPayload!
    "Removes the picture or banner (uploads go through PUT /users/me/picture or /users/me/banner). Errors: UNAUTHENTICATED."
    removePicture(input: RemovePictureInput!): RemovePicturePayload!
    "Deletes the signed-in user's account for good (AUTH-13). Errors: UNAUTHENTICATED (field password when wrong)."
    deleteAccount(input: DeleteAccountInput!): DeleteAccountPayload!
    "Exports the signed-in user's data as JSON (AUTH-13). Errors: UNAUTHENTICATED."
    exportAccount: ExportAccountPayload!
  }
`;

type Args<T> = { input: T };
type UserParent = { id: string };

const account = (context: GatewayContext) => context.clients.client(AccountService);

// Why: customStatus, pictureUrl and bannerUrl of one user come from one RPC; remember it per request.
const extrasByRequest = new WeakMap<object, Map<string, Promise<ProfileExtras | undefined>>>();

/** The user's extras; undefined for a caller who is not signed in (e.g. the user inside a signIn payload). */
function extrasOf(context: GatewayContext, userId: string): Promise<ProfileExtras | undefined> {
  if (!context.viewer) return Promise.resolve(undefined);
  let cache = extrasByRequest.get(context);
  if (!cache) {
    cache = new Map();
    extrasByRequest.set(context, cache);
  }
  let extras = cache.get(userId);
  if (!extras) {
    extras = account(context).getProfileExtras({ userId }, asViewer(context));
    cache.set(userId, extras);
  }
  return extras;
}

/** Answers a mutation with the user and primes the extras so its fields need no second call. */
function withUser(context: GatewayContext, profile: { user?: UserParent; extras?: ProfileExtras }) {
  if (profile.user && profile.extras) {
    const cache = extrasByRequest.get(context) ?? new Map<string, Promise<ProfileExtras | undefined>>();
    cache.set(profile.user.id, Promise.resolve(profile.extras));
    extrasByRequest.set(context, cache);
  }
  return { user: profile.user };
}

const kindOf = (kind: "PICTURE" | "BANNER") => (kind === "PICTURE" ? "picture" : "banner");

/** Username, password, custom status, pictures, deletion and export of the signed-in account (AUTH-8, AUTH-13). */
export const accountSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    User: {
      customStatus: async (user: UserParent, _args: unknown, context: GatewayContext) => {
        const status = (await extrasOf(context, user.id))?.customStatus;
        return status ? { ...status, expiresAt: status.expiresAt || null } : null;
      },
      pictureUrl: async (user: UserParent, _args: unknown, context: GatewayContext) => {
        const version = (await extrasOf(context, user.id))?.pictureVersion;
        return version ? picturePath(user.id, "picture", version) : null;
      },
      bannerUrl: async (user: UserParent, _args: unknown, context: GatewayContext) => {
        const version = (await extrasOf(context, user.id))?.bannerVersion;
        return version ? picturePath(user.id, "banner", version) : null;
      },
    },
    Mutation: {
      changeUsername: async (
        _root: unknown,
        { input }: Args<{ username: string }>,
        context: GatewayContext,
      ) => withUser(context, await account(context).changeUsername(input, asViewer(context))),
      changePassword: async (
        _root: unknown,
        { input }: Args<{ currentPassword: string; newPassword: string }>,
        context: GatewayContext,
      ) => ({
        revokedSessionCount: (
          await account(context).changePassword({ ...input, ip: context.ip }, asViewer(context))
        ).revokedSessions,
      }),
      setCustomStatus: async (
        _root: unknown,
        { input }: Args<{ text?: string | null; emoji?: string | null; expiresAt?: string | null }>,
        context: GatewayContext,
      ) =>
        withUser(
          context,
          await account(context).setCustomStatus(
            {
              text: input.text ?? "",
              emoji: input.emoji ?? "",
              ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
            },
            asViewer(context),
          ),
        ),
      clearCustomStatus: async (_root: unknown, _args: unknown, context: GatewayContext) =>
        withUser(context, await account(context).clearCustomStatus({}, asViewer(context))),
      removePicture: async (
        _root: unknown,
        { input }: Args<{ kind: "PICTURE" | "BANNER" }>,
        context: GatewayContext,
      ) =>
        withUser(
          context,
          await account(context).removePicture({ kind: kindOf(input.kind) }, asViewer(context)),
        ),
      deleteAccount: async (_root: unknown, { input }: Args<{ password: string }>, context: GatewayContext) =>
        account(context).deleteAccount({ ...input, ip: context.ip }, asViewer(context)),
      exportAccount: async (_root: unknown, _args: unknown, context: GatewayContext) =>
        account(context).exportAccount({}, asViewer(context)),
    },
  },
};
