import { BeepError } from "@beep/errors";
import type { GatewayContext, Viewer } from "../gateway.context.ts";

/**
 * One feature's slice of the public schema: its SDL (root types may be
 * repeated; they are merged) and its resolvers, which translate and delegate
 * to service clients and hold no rules.
 */
export interface SchemaModule {
  typeDefs: string;
  resolvers: Record<string, unknown>;
}

/** The signed-in caller, or UNAUTHENTICATED. */
export function requireViewer(context: GatewayContext): Viewer {
  if (!context.viewer) throw new BeepError("UNAUTHENTICATED", "Authentication required");
  return context.viewer;
}

/** Call options that forward the caller's token, so the service authenticates the caller itself. */
export function asViewer(context: GatewayContext): { headers: { authorization: string } } {
  return { headers: { authorization: `Bearer ${requireViewer(context).accessToken}` } };
}
