import type { BusEvent } from "@beep/bus";

/** Who receives a routed event (the real-time contract). */
export type Audience =
  /** Exactly these users. */
  | { kind: "users"; userIds: readonly string[] }
  /** Every member of the server. */
  | { kind: "server"; serverId: string }
  /** Members of the server who have VIEW_CHANNEL on the channel. */
  | { kind: "channel"; serverId: string; channelId: string };

/** A bus event turned into one client-facing stream event for one audience. */
export interface RoutedEvent {
  audience: Audience;
  /** GraphQL object type name, member of the `StreamEvent` union (`UserUpdated`). */
  typename: string;
  /** The fields of that object type. */
  data: Record<string, unknown>;
}

/** Maps a bus event to what clients see of it; `[]` = nothing for clients. */
export type EventRoute = (event: BusEvent) => RoutedEvent[];

/**
 * A change of who may see what in a server, returned by {@link AudienceIndex.observe} and kept with the event
 * in the replay ring: a stream resuming across it cannot be replayed under today's visibility (it would hand
 * over events hidden at the time, or miss ones visible then), so it starts with ResyncRequired instead.
 */
export interface VisibilityShift {
  serverId: string;
  /** Only this user's visibility changed (joined, left, roles changed); absent: any member's may have. */
  userId?: string;
  /** The server is gone: who belonged to it can no longer be told from the index. */
  serverDeleted?: boolean;
}

/** Who may see what, for the users attached to this gateway node. */
export interface AudienceIndex {
  /** Loads the user's snapshot (servers + visible channel ids) before their stream goes live. */
  attach(userId: string): Promise<void>;
  detach(userId: string): void;
  /** Users attached on this node who belong to the audience. */
  recipients(audience: Audience): Iterable<string>;
  /** Called for EVERY durable event in log order BEFORE it is routed; may await snapshot recomputation
   *  (role/overwrite/member/channel/server changes), so a member who loses VIEW_CHANNEL receives nothing
   *  of that channel after the change. Resolves with the visibility change the event made, if any (every
   *  user's, attached here or not), so resumes across it can be refused. */
  observe(event: BusEvent): Promise<VisibilityShift | undefined>;
}
