import { BeepError } from "@beep/errors";
import type { GatewayContext } from "../gateway.context.ts";
import type { StreamRoot } from "../realtime/stream-hub.ts";
import type { SchemaModule } from "./schema-module.ts";

/**
 * The real-time stream (api.md "Real-time"). `StreamEvent` is a union that
 * other slices extend with `extend union StreamEvent = TheirEvent` (graphql-tools
 * merges the extensions into one union); each member type's name is the
 * `typename` its route emits.
 */
const typeDefs = /* GraphQL */ `
  "One event of the real-time stream and its place in the log."
  type StreamEnvelope {
    """
    Log position of the event. Pass the last one received as events(since:) to resume after a reconnect;
    opaque: compare only for equality. Ephemeral events (typing) carry the seq of the last durable event.
    """
    seq: String!
    "What happened."
    event: StreamEvent!
  }

  "The stream could not replay everything after since: refetch state, then keep reading (live events follow)."
  type ResyncRequired {
    """
    WINDOW_EXCEEDED: since is older than this node's replay window; UNKNOWN_POSITION: since is not a position of this
    log; VISIBILITY_CHANGED: what the viewer may see changed after since (membership, roles, overwrites, deletions),
    so missed events cannot be replayed faithfully: refetch.
    """
    reason: String!
  }

  "Everything the events stream can carry; features add member types."
  union StreamEvent = UserUpdated | ResyncRequired

  type Subscription {
    """
    Everything the signed-in user may see, in log order, over graphql-ws only. With since (the last seq received),
    first the missed events are replayed, then live ones follow, without gap or duplicate; if they cannot be replayed,
    the first event is ResyncRequired. Errors: UNAUTHENTICATED, BAD_USER_INPUT (field since).
    """
    events("The seq of the last event received, to resume after it; omit to start from now." since: String): StreamEnvelope!
  }
`;

/** Frames are written by the stream hub; this slice only defines the shape and opens the stream. */
export const eventsSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Subscription: {
      events: {
        subscribe: (_root: unknown, args: { since?: string | null }, context: GatewayContext) => {
          if (!context.viewer) throw new BeepError("UNAUTHENTICATED", "Authentication required");
          if (!context.stream) {
            throw new BeepError("BAD_USER_INPUT", "events is served over the graphql-ws WebSocket only");
          }
          return context.stream.open(context.viewer.userId, args.since);
        },
        // The hub executes the selection with the envelope as root value.
        resolve: (root: StreamRoot) => root,
      },
    },
    StreamEvent: {
      __resolveType: (event: StreamRoot["event"]) => event.__typename,
    },
  },
};
