import { BeepError } from "@beep/errors";
import type { GatewayContext, Viewer } from "../gateway.context.ts";
import type { UserStreamEvent } from "../user-event-hub.ts";

function requireViewer(context: GatewayContext): Viewer {
  if (!context.viewer) throw new BeepError("UNAUTHENTICATED", "Authentication required");
  return context.viewer;
}

/** Call options that forward the caller's token, so `users` authenticates the caller itself. */
function asViewer(context: GatewayContext) {
  return { headers: { authorization: `Bearer ${requireViewer(context).accessToken}` } };
}

type Args<T> = { input: T };

/** Resolvers of the public schema: translate GraphQL to service calls and back; no rules here. */
export const resolvers = {
  Query: {
    me: (_root: unknown, _args: unknown, context: GatewayContext) =>
      context.users.getMe({}, asViewer(context)),
  },
  Mutation: {
    signUp: (
      _root: unknown,
      {
        input,
      }: Args<{ email: string; username: string; password: string; firstName: string; lastName: string }>,
      context: GatewayContext,
    ) => context.users.signUp(input),
    signIn: (_root: unknown, { input }: Args<{ email: string; password: string }>, context: GatewayContext) =>
      context.users.signIn({ ...input, device: context.device, ip: context.ip }),
    refreshSession: (_root: unknown, { input }: Args<{ refreshToken: string }>, context: GatewayContext) =>
      context.users.refreshSession(input),
    updateProfile: async (
      _root: unknown,
      {
        input,
      }: Args<{
        displayName?: string | null;
        firstName?: string | null;
        lastName?: string | null;
        bio?: string | null;
      }>,
      context: GatewayContext,
    ) => {
      // GraphQL null means "leave unchanged" here, like a missing field.
      const changes = Object.fromEntries(
        Object.entries(input).filter(([, value]) => value !== null && value !== undefined),
      );
      return { user: await context.users.updateProfile(changes, asViewer(context)) };
    },
  },
  Subscription: {
    myEvents: {
      subscribe: (_root: unknown, _args: unknown, context: GatewayContext) =>
        context.hub.open(requireViewer(context).userId),
      resolve: (event: UserStreamEvent) => event,
    },
  },
  MyEvent: {
    __resolveType: (event: UserStreamEvent) => event.__typename,
  },
};
