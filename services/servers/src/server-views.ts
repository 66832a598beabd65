import type { ChannelRow, InviteRow, OverwriteRow, RoleRow, ServerRow } from "./servers.repository.ts";

/** A server as callers see it. */
export interface ServerView {
  id: string;
  name: string;
  description: string;
  public: boolean;
  ownerId: string;
  createdAt: string;
  memberCount: number;
  /** SRV-1: changes with each upload (part of the picture URL); empty when there is none. */
  pictureVersion: string;
  bannerVersion: string;
}

/** A channel as callers see it, with its overwrites. */
export interface ChannelView {
  id: string;
  serverId: string;
  name: string;
  type: string;
  parentId: string;
  position: number;
  topic: string;
  overwrites: Array<{ targetType: string; targetId: string; allow: string; deny: string }>;
  /** Its overwrites follow its folder's (Discord's sync model). */
  permissionsSynced: boolean;
}

/** A role as callers see it; permissions as a decimal string. */
export interface RoleView {
  id: string;
  serverId: string;
  name: string;
  color: number;
  permissions: string;
  position: number;
  everyone: boolean;
}

/** A member as callers see it. */
export interface MemberView {
  serverId: string;
  userId: string;
  roleIds: string[];
  joinedAt: string;
  owner: boolean;
}

/** An invite as callers see it. */
export interface InviteView {
  code: string;
  serverId: string;
  creatorId: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revoked: boolean;
  createdAt: string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

/** The last segment of a picture's blob key (a fresh id per upload), or empty. */
export const blobVersion = (key: string | null | undefined): string =>
  key ? (key.split("/").pop() ?? "") : "";

/** Row → view. */
export function serverView(row: ServerRow): ServerView {
  return {
    id: String(row.id),
    name: row.name,
    description: row.description,
    public: row.public,
    ownerId: String(row.owner_id),
    createdAt: iso(row.created_at),
    memberCount: Number(row.member_count),
    pictureVersion: blobVersion(row.picture_key),
    bannerVersion: blobVersion(row.banner_key),
  };
}

/** Row → view, with the channel's overwrites picked from the server's. */
export function channelView(row: ChannelRow, overwrites: OverwriteRow[]): ChannelView {
  return {
    id: String(row.id),
    serverId: String(row.server_id),
    name: row.name,
    type: row.type,
    parentId: row.parent_id === null ? "" : String(row.parent_id),
    position: row.position,
    topic: row.topic,
    permissionsSynced: row.permissions_synced,
    overwrites: overwrites
      .filter((o) => String(o.channel_id) === String(row.id))
      .map((o) => ({
        targetType: o.target_type,
        targetId: String(o.target_id),
        allow: String(o.allow),
        deny: String(o.deny),
      })),
  };
}

/** Row → view. */
export function roleView(row: RoleRow): RoleView {
  return {
    id: String(row.id),
    serverId: String(row.server_id),
    name: row.name,
    color: row.color,
    permissions: String(row.permissions),
    position: row.position,
    everyone: String(row.id) === String(row.server_id),
  };
}

/** Row → view. */
export function memberView(
  serverId: string,
  ownerId: string,
  row: { user_id: string; joined_at: Date | string; role_ids: string[] },
): MemberView {
  return {
    serverId,
    userId: String(row.user_id),
    roleIds: row.role_ids.map(String),
    joinedAt: iso(row.joined_at),
    owner: String(row.user_id) === ownerId,
  };
}

/** Row → view. */
export function inviteView(row: InviteRow): InviteView {
  return {
    code: row.code,
    serverId: String(row.server_id),
    creatorId: String(row.creator_id),
    expiresAt: row.expires_at ? iso(row.expires_at) : "",
    maxUses: row.max_uses,
    uses: row.uses,
    revoked: row.revoked_at !== null,
    createdAt: iso(row.created_at),
  };
}
