import type { Bus, BusSubscription } from "@beep/bus";
import type { Kysely } from "kysely";
import { computeBasePermissions } from "./permissions/index.ts";
import { channelPermissions, type ServerAccess } from "./server-access.ts";
import type {
  ChannelRow,
  OverwriteRow,
  RoleRow,
  ServerRow,
  ServersRepository,
} from "./servers.repository.ts";
import type { ServersTables } from "./servers.tables.ts";

/** Everything the engine needs about one server, loaded at once. */
export interface ServerSnapshot {
  server: ServerRow;
  /** Highest first; @everyone last. */
  roles: RoleRow[];
  everyone: RoleRow;
  /** Member id → role ids held (besides @everyone). */
  members: Map<string, string[]>;
  /** Member id → end of a timeout (SRV-10); only members with one. */
  timeouts: Map<string, Date>;
  channels: Map<string, ChannelRow>;
  overwrites: OverwriteRow[];
}

/** The bus events after which a server's snapshot is stale (the servers service emits them). */
export const PERMISSION_EVENT_PATTERNS = ["server.*", "member.*", "role.*", "channel.*"];

/**
 * Per-server snapshots for permission answers, LRU-bounded by server count. A snapshot is loaded with
 * one fixed batch of queries (server, roles, members with their roles, channels, overwrites) whatever
 * the number of channels or members, and dropped on any `server.*`/`member.*`/`role.*`/`channel.*`
 * event for its server, and right after a write in this process ({@link invalidate}). A load that raced
 * an invalidation is not cached (generation check), so a stale snapshot never outlives the event.
 */
export class PermissionCache {
  private readonly entries = new Map<string, ServerSnapshot>();
  private readonly loading = new Map<string, Promise<ServerSnapshot | undefined>>();
  private readonly generations = new Map<string, number>();
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly deps: { db: Kysely<ServersTables>; repo: ServersRepository; maxServers: number },
  ) {}

  /** Listens for the servers service's events; call once at start. */
  async subscribe(bus: Bus): Promise<void> {
    this.subscription = await bus.subscribe(PERMISSION_EVENT_PATTERNS, (event) => {
      const serverId = (event.payload as { serverId?: unknown } | null)?.serverId;
      if (typeof serverId === "string") this.invalidate(serverId);
    });
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Number of cached servers. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops one server's snapshot (and makes any load in flight not cache its result). */
  invalidate(serverId: string): void {
    this.generations.set(serverId, (this.generations.get(serverId) ?? 0) + 1);
    this.entries.delete(serverId);
    this.loading.delete(serverId);
  }

  /** The server that holds a cached channel, if any (to invalidate after a channel-only write). */
  serverOfChannel(channelId: string): string | undefined {
    for (const [serverId, snapshot] of this.entries) if (snapshot.channels.has(channelId)) return serverId;
    return undefined;
  }

  /** The server's snapshot, from the cache or loaded; undefined when the server does not exist. */
  async get(serverId: string): Promise<ServerSnapshot | undefined> {
    const hit = this.entries.get(serverId);
    if (hit) {
      // LRU: re-insert so the least recently used server is first in iteration order.
      this.entries.delete(serverId);
      this.entries.set(serverId, hit);
      return hit;
    }
    const pending = this.loading.get(serverId);
    if (pending) return pending;
    const generation = this.generations.get(serverId) ?? 0;
    const load = this.load(serverId).finally(() => {
      if (this.loading.get(serverId) === load) this.loading.delete(serverId);
    });
    this.loading.set(serverId, load);
    const snapshot = await load;
    if (snapshot && (this.generations.get(serverId) ?? 0) === generation) {
      this.entries.set(serverId, snapshot);
      while (this.entries.size > this.deps.maxServers) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
        this.generations.delete(oldest);
      }
    }
    return snapshot;
  }

  /** One batch of five queries, whatever the size of the server. */
  private async load(serverId: string): Promise<ServerSnapshot | undefined> {
    const { db, repo } = this.deps;
    const [server, roles, members, channels, overwrites] = await Promise.all([
      repo.findServer(db, serverId),
      repo.roles(db, serverId),
      repo.listMembers(db, serverId),
      repo.channels(db, serverId),
      repo.overwritesOfServer(db, serverId),
    ]);
    if (!server) return undefined;
    const everyone = roles.find((role) => role.id === serverId);
    if (!everyone) return undefined;
    return {
      server,
      roles,
      everyone,
      members: new Map(members.map((member) => [member.user_id, member.role_ids])),
      timeouts: new Map(
        members.flatMap((member) =>
          member.timed_out_until ? [[member.user_id, member.timed_out_until]] : [],
        ),
      ),
      channels: new Map(channels.map((channel) => [channel.id, channel])),
      overwrites,
    };
  }
}

/** The member's access as {@link channelPermissions} takes it; undefined for a non-member. */
export function accessFromSnapshot(snapshot: ServerSnapshot, userId: string): ServerAccess | undefined {
  const held = snapshot.members.get(userId);
  if (!held) return undefined;
  const heldSet = new Set(held);
  const memberRoles = snapshot.roles.filter(
    (role) => heldSet.has(role.id) && role.id !== snapshot.everyone.id,
  );
  const isOwner = snapshot.server.owner_id === userId;
  const timedOutUntil = snapshot.timeouts.get(userId) ?? null;
  const base = computeBasePermissions({
    timedOutUntil,
    ownerId: snapshot.server.owner_id,
    memberId: userId,
    everyoneRole: { id: snapshot.everyone.id, permissions: BigInt(snapshot.everyone.permissions) },
    memberRoles: memberRoles.map((role) => ({ id: role.id, permissions: BigInt(role.permissions) })),
    now: new Date(),
  });
  return {
    server: snapshot.server,
    userId,
    isOwner,
    roles: snapshot.roles,
    everyone: snapshot.everyone,
    memberRoles,
    base,
    highest: isOwner ? Number.POSITIVE_INFINITY : Math.max(0, ...memberRoles.map((role) => role.position)),
    timedOutUntil,
  };
}

/** The member's bits in one channel of the snapshot; 0n for a non-member or a channel not in the server. */
export function snapshotChannelBits(snapshot: ServerSnapshot, userId: string, channelId: string): bigint {
  const access = accessFromSnapshot(snapshot, userId);
  const channel = snapshot.channels.get(channelId);
  if (!access || !channel) return 0n;
  return channelPermissions(access, channel, snapshot.overwrites);
}
