import type { BusEvent } from "@beep/bus";
import type { Logger } from "@beep/observability";
import type { Audience, AudienceIndex, VisibilityShift } from "./audience.ts";

/** One server a user belongs to and the channels they hold VIEW_CHANNEL on. */
export interface VisibleServer {
  serverId: string;
  channelIds: readonly string[];
}

/** What one user may see. */
export interface UserVisibility {
  userId: string;
  servers: readonly VisibleServer[];
}

/**
 * Reads who may see what from the servers service, fresh from its database (VisibilityService
 * VisibleChannels with fresh=true): one entry per requested user.
 */
export type VisibleChannelsFn = (userIds: readonly string[]) => Promise<readonly UserVisibility[]>;

/** Users per VisibleChannels call (the servers service refuses more than 1000). */
const BATCH = 1_000;
/** Reads of a snapshot on attach while events keep changing it, before re-reading in log order instead. */
const LOAD_ATTEMPTS = 3;
/** Channel overwrites and role permissions remembered to skip recomputations; cleared when exceeded. */
const FINGERPRINT_LIMIT = 100_000;
/** Tries of one recomputation before failing closed. */
const ATTEMPTS = 3;

/** The servers events after which some attached users' visibility must be read again. */
export type Change =
  | { kind: "recompute-server"; serverId: string }
  | { kind: "recompute-user"; serverId: string; userId: string }
  | { kind: "drop-membership"; serverId: string; userId: string }
  | { kind: "drop-channels"; serverId: string; channelIds: string[] }
  | { kind: "drop-server"; serverId: string };

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** What an event changes about visibility; undefined for events that change nothing. */
export function visibilityChange(event: BusEvent): Change | undefined {
  const payload = (event.payload ?? {}) as Record<string, unknown>;
  const serverId = str(payload.serverId);
  if (!serverId) return undefined;
  const userId = str(payload.userId);
  switch (event.type) {
    case "server.created": {
      const owner = str(payload.ownerId) ?? str((payload.server as { ownerId?: unknown })?.ownerId);
      return owner ? { kind: "recompute-user", serverId, userId: owner } : undefined;
    }
    case "server.updated":
      // Only an owner change moves permissions (the owner sees everything).
      return payload.ownerId !== undefined ? { kind: "recompute-server", serverId } : undefined;
    case "server.deleted":
      return { kind: "drop-server", serverId };
    case "channel.created":
    case "channel.updated":
    case "role.updated":
    case "role.deleted":
      return { kind: "recompute-server", serverId };
    case "channel.deleted": {
      const ids = Array.isArray(payload.deletedChannelIds)
        ? payload.deletedChannelIds.filter((id): id is string => typeof id === "string")
        : [];
      const channelId = str(payload.channelId);
      return {
        kind: "drop-channels",
        serverId,
        channelIds: ids.length > 0 ? ids : channelId ? [channelId] : [],
      };
    }
    case "member.joined":
    case "member.updated":
      return userId ? { kind: "recompute-user", serverId, userId } : undefined;
    case "member.left":
    case "member.banned":
      return userId ? { kind: "drop-membership", serverId, userId } : undefined;
    default:
      // role.created (nobody holds a new role yet), member.unbanned, invites, messages: nothing moves.
      return undefined;
  }
}

/**
 * What a visibility change means for streams resuming across it (whether or not the users are attached
 * here). A new server or channel hides and reveals nothing that happened before it: no shift.
 */
export function shiftOf(event: BusEvent, change: Change): VisibilityShift | undefined {
  if (event.type === "server.created" || event.type === "channel.created") return undefined;
  switch (change.kind) {
    case "drop-server":
      return { serverId: change.serverId, serverDeleted: true };
    case "recompute-user":
    case "drop-membership":
      return { serverId: change.serverId, userId: change.userId };
    case "drop-channels":
    case "recompute-server":
      return { serverId: change.serverId };
  }
}

/**
 * The {@link AudienceIndex} of server and channel audiences (issues 4 and 5): for every user attached on
 * this node, their servers and the channels they may view, indexed both ways (server → users,
 * channel → users) so routing an event costs one lookup whatever the number of attached users.
 *
 * Snapshots are read from the servers service (fresh, bypassing its permission cache) on attach and
 * again, in one batched call for every affected attached user, when an event changes roles, overwrites,
 * channels, memberships or ownership; {@link observe} resolves only once the new snapshots are in, so the
 * events after a change are routed with the visibility it made. Deletions (channel.deleted,
 * server.deleted) are applied when the NEXT event is observed, so the deletion itself still reaches those
 * who could see the deleted thing. Everything about a user is released when their last stream detaches.
 * A recomputation that keeps failing fails closed: the affected users lose that server until they
 * reattach (their streams see nothing rather than something they may not see).
 */
export class ServerAudienceIndex implements AudienceIndex {
  /** Attached users → number of open streams. */
  private readonly attached = new Map<string, number>();
  /** User → server → visible channel ids. */
  private readonly snapshots = new Map<string, Map<string, Set<string>>>();
  private readonly serverUsers = new Map<string, Set<string>>();
  private readonly channelUsers = new Map<string, Set<string>>();
  /** Users whose snapshot is being loaded; set to true when an event arrived meanwhile (reload). */
  private readonly loading = new Map<string, { stale: boolean; done: Promise<void> }>();
  /** Deletions observed but not applied yet (applied at the start of the next observe). */
  private deferred: Change[] = [];
  /**
   * What visibility depends on, per channel (its overwrites) and role (its permissions), as the last
   * event about it carried: an update that leaves it as it was (a rename, a reorder) recomputes nothing.
   */
  private readonly fingerprints = new Map<string, string>();
  /** Serialises observe calls, so changes apply in log order even if a caller does not await. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly visibleChannels: VisibleChannelsFn,
    private readonly logger?: Logger,
  ) {}

  async attach(userId: string): Promise<void> {
    const streams = (this.attached.get(userId) ?? 0) + 1;
    this.attached.set(userId, streams);
    const pending = this.loading.get(userId);
    if (pending) return pending.done;
    if (streams > 1 && this.snapshots.has(userId)) return;
    const entry = { stale: false, done: Promise.resolve() };
    entry.done = this.load(userId, entry).finally(() => {
      if (this.loading.get(userId) === entry) this.loading.delete(userId);
    });
    this.loading.set(userId, entry);
    try {
      await entry.done;
    } catch (error) {
      this.detach(userId);
      throw error;
    }
  }

  detach(userId: string): void {
    const streams = (this.attached.get(userId) ?? 0) - 1;
    if (streams > 0) {
      this.attached.set(userId, streams);
      return;
    }
    this.attached.delete(userId);
    this.setSnapshot(userId, undefined);
  }

  recipients(audience: Audience): Iterable<string> {
    switch (audience.kind) {
      case "users":
        return audience.userIds.filter((userId) => this.attached.has(userId));
      case "server":
        return [...(this.serverUsers.get(audience.serverId) ?? [])];
      case "channel": {
        const users = this.channelUsers.get(audience.channelId);
        if (!users) return [];
        // A channel id names one channel of one server; the server check guards a malformed route.
        return [...users].filter((userId) => this.snapshots.get(userId)?.has(audience.serverId));
      }
    }
  }

  observe(event: BusEvent): Promise<VisibilityShift | undefined> {
    const run = this.tail.then(() => this.apply(event));
    // Why swallow here: one failed event must not block every later one (apply fails closed itself).
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Attached users on this node (for metrics and tests). */
  get attachedUsers(): number {
    return this.attached.size;
  }

  /** Index sizes (for tests: memory is released on detach). */
  sizes(): { users: number; servers: number; channels: number } {
    return { users: this.snapshots.size, servers: this.serverUsers.size, channels: this.channelUsers.size };
  }

  /**
   * True for a channel.updated or role.updated that keeps what visibility depends on (remembered from the
   * previous event about the same channel or role); records the new fingerprint. Other changes the
   * fingerprint misses (a deleted role's overwrites) have their own events, so a stale one only costs an
   * extra recomputation, never a skipped one.
   */
  private unchanged(event: BusEvent): boolean {
    const payload = (event.payload ?? {}) as Record<string, unknown>;
    let key: string | undefined;
    let fingerprint: string | undefined;
    if (event.type.startsWith("channel.")) {
      const channel = payload.channel as { id?: unknown; overwrites?: unknown } | undefined;
      key = typeof payload.channelId === "string" ? `channel:${payload.channelId}` : undefined;
      fingerprint = channel?.overwrites === undefined ? undefined : JSON.stringify(channel.overwrites);
    } else if (event.type.startsWith("role.")) {
      const role = payload.role as { permissions?: unknown } | undefined;
      key = typeof payload.roleId === "string" ? `role:${payload.roleId}` : undefined;
      fingerprint = role?.permissions === undefined ? undefined : String(role.permissions);
    }
    if (!key) return false;
    const before = this.fingerprints.get(key);
    if (fingerprint === undefined) {
      this.fingerprints.delete(key);
      return false;
    }
    if (this.fingerprints.size >= FINGERPRINT_LIMIT) this.fingerprints.clear();
    this.fingerprints.set(key, fingerprint);
    return event.type.endsWith(".updated") && before === fingerprint;
  }

  private async load(userId: string, entry: { stale: boolean }): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      entry.stale = false;
      const [answer] = await this.visibleChannels([userId]);
      if (!this.attached.has(userId)) return;
      // An event that could change this user's visibility arrived while the answer was on its way: read
      // again; under a steady flow of events, take this answer and re-read in log order instead.
      if (entry.stale && attempt < LOAD_ATTEMPTS) continue;
      this.setSnapshot(userId, answer?.servers ?? []);
      if (entry.stale) {
        this.tail = this.tail
          .then(() => (this.snapshots.has(userId) ? this.recompute([userId], "") : undefined))
          .catch(() => undefined);
      }
      return;
    }
  }

  private async apply(event: BusEvent): Promise<VisibilityShift | undefined> {
    const deferred = this.deferred;
    this.deferred = [];
    for (const change of deferred) this.applyDrop(change);
    // Recorded for every event (role.created too), so the next update has something to compare with.
    const same = this.unchanged(event);
    const change = visibilityChange(event);
    if (!change || same) return undefined;
    // A load in flight may predate this change: have it read again.
    for (const entry of this.loading.values()) entry.stale = true;
    const shift = shiftOf(event, change);
    switch (change.kind) {
      case "drop-server":
      case "drop-channels":
        this.deferred.push(change);
        return shift;
      case "drop-membership":
        this.applyDrop(change);
        return shift;
      case "recompute-user":
        if (this.snapshots.has(change.userId) && !this.loading.has(change.userId)) {
          await this.recompute([change.userId], change.serverId);
        }
        return shift;
      case "recompute-server": {
        const users = [...(this.serverUsers.get(change.serverId) ?? [])].filter(
          (userId) => !this.loading.has(userId),
        );
        if (users.length > 0) await this.recompute(users, change.serverId);
        return shift;
      }
    }
  }

  /** Reads the users' snapshots again; `serverId` ("" for any) is what they lose if that keeps failing. */
  private async recompute(userIds: string[], serverId: string): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < userIds.length; i += BATCH) batches.push(userIds.slice(i, i + BATCH));
    await Promise.all(
      batches.map(async (batch) => {
        let answers: readonly UserVisibility[] | undefined;
        for (let attempt = 1; attempt <= ATTEMPTS && !answers; attempt += 1) {
          try {
            answers = await this.visibleChannels(batch);
          } catch (error) {
            this.logger?.warn({ err: error, server_id: serverId, attempt }, "visibility recompute failed");
            if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          }
        }
        if (!answers) {
          this.logger?.error({ server_id: serverId, users: batch.length }, "visibility lost: failing closed");
          for (const userId of batch) {
            if (serverId === "") this.setSnapshot(userId, []);
            else this.applyDrop({ kind: "drop-membership", serverId, userId });
          }
          return;
        }
        for (const answer of answers) {
          // Detached (or reattached and loading anew) while the answer was on its way: not ours to set.
          if (this.attached.has(answer.userId) && !this.loading.has(answer.userId)) {
            this.setSnapshot(answer.userId, answer.servers);
          }
        }
      }),
    );
  }

  private applyDrop(change: Change): void {
    if (change.kind === "drop-membership") {
      const servers = this.snapshots.get(change.userId);
      const channels = servers?.get(change.serverId);
      if (!servers || !channels) return;
      for (const channelId of channels) this.unindex(this.channelUsers, channelId, change.userId);
      this.unindex(this.serverUsers, change.serverId, change.userId);
      servers.delete(change.serverId);
    } else if (change.kind === "drop-server") {
      for (const userId of this.serverUsers.get(change.serverId) ?? []) {
        for (const channelId of this.snapshots.get(userId)?.get(change.serverId) ?? []) {
          this.unindex(this.channelUsers, channelId, userId);
        }
        this.snapshots.get(userId)?.delete(change.serverId);
      }
      this.serverUsers.delete(change.serverId);
    } else if (change.kind === "drop-channels") {
      for (const channelId of change.channelIds) {
        for (const userId of this.channelUsers.get(channelId) ?? []) {
          this.snapshots.get(userId)?.get(change.serverId)?.delete(channelId);
        }
        this.channelUsers.delete(channelId);
      }
    }
  }

  /** Replaces a user's snapshot (undefined: forgets the user) and keeps both indexes in step. */
  private setSnapshot(userId: string, servers: readonly VisibleServer[] | undefined): void {
    const old = this.snapshots.get(userId);
    if (old) {
      for (const [serverId, channels] of old) {
        this.unindex(this.serverUsers, serverId, userId);
        for (const channelId of channels) this.unindex(this.channelUsers, channelId, userId);
      }
      this.snapshots.delete(userId);
    }
    if (!servers) return;
    const next = new Map<string, Set<string>>();
    for (const server of servers) {
      next.set(server.serverId, new Set(server.channelIds));
      this.index(this.serverUsers, server.serverId, userId);
      for (const channelId of server.channelIds) this.index(this.channelUsers, channelId, userId);
    }
    this.snapshots.set(userId, next);
  }

  private index(map: Map<string, Set<string>>, key: string, userId: string): void {
    const users = map.get(key) ?? new Set<string>();
    users.add(userId);
    map.set(key, users);
  }

  private unindex(map: Map<string, Set<string>>, key: string, userId: string): void {
    const users = map.get(key);
    if (!users) return;
    users.delete(userId);
    if (users.size === 0) map.delete(key);
  }
}
