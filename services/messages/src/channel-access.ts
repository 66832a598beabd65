import type { Bus, BusSubscription } from "@beep/bus";

/** Where a channel lives. */
export interface ChannelLocation {
  serverId: string;
  type: string;
}

/** Mention candidates parsed from a message, to be checked against the server (see mentions.ts). */
export interface MentionQuery {
  serverId: string;
  channelId: string;
  senderId: string;
  userIds: readonly string[];
  roleNames: readonly string[];
  roleIds: readonly string[];
  channelNames: readonly string[];
  channelIds: readonly string[];
}

/** The candidates that hold: users who can view the channel, roles, channels the sender can view. */
export interface ResolvedMentionIds {
  userIds: string[];
  roleIds: string[];
  channelIds: string[];
}

/**
 * What messages asks the servers service (ADR 0004). Production: servers' internal RPCs
 * (servers-channel-access.ts); tests: the real servers services in-process.
 */
export interface ChannelDirectory {
  /** The channel's server, or undefined when it does not exist. */
  locate(channelId: string): Promise<ChannelLocation | undefined>;
  /** The user's bits in the channel; 0n when they cannot view it or are not a member. */
  channelBits(userId: string, serverId: string, channelId: string): Promise<bigint>;
  resolveMentions(query: MentionQuery): Promise<ResolvedMentionIds>;
}

/** The bus events after which cached bits may be wrong (servers emits them, each naming its server). */
export const ACCESS_EVENT_PATTERNS = ["server.*", "member.*", "role.*", "channel.*"];

interface Entry {
  serverId: string;
  bits: bigint;
  expiresAt: number;
}

/** A channel's permissions for one user, from the cache or servers. */
export interface ChannelAccess {
  serverId: string;
  channelType: string;
  bits: bigint;
}

/**
 * The caller's bits per (user, channel), cached so a warm send costs no RPC. Bounded (LRU by entry
 * count) and short-lived (TTL, a backstop for a lost fan-out event); dropped per server on any
 * `server.*`/`member.*`/`role.*`/`channel.*` event, so a member who loses a permission is refused from
 * the moment the event arrives. A lookup that raced an invalidation of its server is not cached
 * (per-server generation). Channel locations never change (a channel cannot move between servers)
 * and are kept until the channel or its server is deleted.
 */
export class ChannelAccessCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByServer = new Map<string, Set<string>>();
  private readonly generations = new Map<string, number>();
  private readonly locations = new Map<string, ChannelLocation>();
  private subscription: BusSubscription | undefined;
  /** RPCs made for bits (not cache hits); tests and metrics read it. */
  misses = 0;

  constructor(
    private readonly directory: ChannelDirectory,
    private readonly options: { maxEntries: number; ttlMs: number; now?: () => number } = {
      maxEntries: 100_000,
      ttlMs: 60_000,
    },
  ) {}

  /** Listens for servers' events; call once at start. */
  async subscribe(bus: Bus): Promise<void> {
    this.subscription = await bus.subscribe(ACCESS_EVENT_PATTERNS, (event) => {
      const payload = event.payload as {
        serverId?: unknown;
        channelId?: unknown;
        deletedChannelIds?: unknown;
      };
      if (typeof payload?.serverId === "string") this.invalidateServer(payload.serverId);
      if (event.type === "channel.deleted") {
        if (typeof payload.channelId === "string") this.locations.delete(payload.channelId);
        if (Array.isArray(payload.deletedChannelIds)) {
          for (const id of payload.deletedChannelIds) if (typeof id === "string") this.locations.delete(id);
        }
      }
      if (event.type === "server.deleted" && typeof payload?.serverId === "string") {
        for (const [channelId, location] of this.locations) {
          if (location.serverId === payload.serverId) this.locations.delete(channelId);
        }
      }
    });
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Cached (user, channel) entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every entry of the server; a lookup in flight for it will not be cached. */
  invalidateServer(serverId: string): void {
    this.generations.set(serverId, (this.generations.get(serverId) ?? 0) + 1);
    const keys = this.keysByServer.get(serverId);
    if (!keys) return;
    for (const key of keys) this.entries.delete(key);
    this.keysByServer.delete(serverId);
  }

  /** The user's access to the channel; undefined when the channel does not exist. */
  async access(userId: string, channelId: string): Promise<ChannelAccess | undefined> {
    const location = await this.locate(channelId);
    if (!location) return undefined;
    const key = `${userId}:${channelId}`;
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return { serverId: hit.serverId, channelType: location.type, bits: hit.bits };
    }
    const generation = this.generations.get(location.serverId) ?? 0;
    this.misses += 1;
    const bits = await this.directory.channelBits(userId, location.serverId, channelId);
    if ((this.generations.get(location.serverId) ?? 0) === generation) {
      this.store(key, { serverId: location.serverId, bits, expiresAt: now + this.options.ttlMs });
    }
    return { serverId: location.serverId, channelType: location.type, bits };
  }

  /**
   * The user's bits in many channels of ONE server (search): cache hits, then one `lookup` for all the
   * misses, whose answers are cached like {@link access}'s. Every id must be a channel of `serverId`
   * (callers pass ids located in it), since entries are dropped by their server's events.
   */
  async accessMany(
    userId: string,
    serverId: string,
    channelIds: readonly string[],
    lookup: (missing: string[]) => Promise<Map<string, bigint>>,
  ): Promise<Map<string, bigint>> {
    const now = this.now();
    const found = new Map<string, bigint>();
    const missing: string[] = [];
    for (const channelId of new Set(channelIds)) {
      const hit = this.entries.get(`${userId}:${channelId}`);
      if (hit && hit.expiresAt > now && hit.serverId === serverId) found.set(channelId, hit.bits);
      else missing.push(channelId);
    }
    if (missing.length === 0) return found;
    const generation = this.generations.get(serverId) ?? 0;
    this.misses += 1;
    const looked = await lookup(missing);
    const current = (this.generations.get(serverId) ?? 0) === generation;
    for (const channelId of missing) {
      const bits = looked.get(channelId) ?? 0n;
      found.set(channelId, bits);
      if (current)
        this.store(`${userId}:${channelId}`, { serverId, bits, expiresAt: now + this.options.ttlMs });
    }
    return found;
  }

  /** The channel's server, cached. */
  async locate(channelId: string): Promise<ChannelLocation | undefined> {
    const known = this.locations.get(channelId);
    if (known) return known;
    const found = await this.directory.locate(channelId);
    if (!found) return undefined;
    if (this.locations.size >= this.options.maxEntries) {
      const oldest = this.locations.keys().next().value;
      if (oldest !== undefined) this.locations.delete(oldest);
    }
    this.locations.set(channelId, found);
    return found;
  }

  private store(key: string, entry: Entry): void {
    const previous = this.entries.get(key);
    if (previous) this.keysByServer.get(previous.serverId)?.delete(key);
    this.entries.delete(key);
    this.entries.set(key, entry);
    let keys = this.keysByServer.get(entry.serverId);
    if (!keys) {
      keys = new Set();
      this.keysByServer.set(entry.serverId, keys);
    }
    keys.add(key);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.entries().next().value;
      if (!oldest) break;
      this.entries.delete(oldest[0]);
      this.keysByServer.get(oldest[1].serverId)?.delete(oldest[0]);
    }
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }
}
