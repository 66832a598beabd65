import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** bigint columns: pg returns int8 as a decimal string; writes accept string or bigint. */
type Int8 = ColumnType<string, string | bigint, string | bigint>;
type Int8Default = ColumnType<string, string | bigint | undefined, string | bigint>;

/** `servers.servers`: one row per server. */
export interface ServersTable {
  id: string;
  name: string;
  description: string;
  public: boolean;
  owner_id: string;
  created_at: Timestamp;
  /** SRV-1: blob keys of the picture and banner, null when none (0008_server_pictures). */
  picture_key: ColumnType<string | null, string | null | undefined, string | null>;
  banner_key: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `servers.members`: who belongs to which server. */
export interface MembersTable {
  server_id: string;
  user_id: string;
  joined_at: Timestamp;
  /** SRV-10: timed out while now < this (0003_moderation). */
  timed_out_until: NullableTimestamp;
}

/** `servers.roles`: a server's roles; the @everyone role has the server's id and position 0. */
export interface RolesTable {
  id: string;
  server_id: string;
  name: string;
  color: ColumnType<number, number | undefined, number>;
  permissions: Int8Default;
  position: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
}

/** `servers.member_roles`: roles given to members (never @everyone, which everyone has). */
export interface MemberRolesTable {
  server_id: string;
  user_id: string;
  role_id: string;
}

/** `servers.channels`: text, voice and folder channels; a folder is one level deep. */
export interface ChannelsTable {
  id: string;
  server_id: string;
  type: "text" | "voice" | "folder";
  name: string;
  parent_id: string | null;
  position: ColumnType<number, number | undefined, number>;
  topic: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  /** Its overwrites are a copy of its folder's, kept equal (0006_channel_sync). */
  permissions_synced: ColumnType<boolean, boolean | undefined, boolean>;
}

/** `servers.overwrites`: a channel's allow/deny bits for one role or one member. */
export interface OverwritesTable {
  channel_id: string;
  target_type: "role" | "member";
  target_id: string;
  allow: Int8;
  deny: Int8;
}

/** `servers.invites`: invite codes with optional expiry and max uses. */
export interface InvitesTable {
  code: string;
  server_id: string;
  creator_id: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  max_uses: ColumnType<number, number | undefined, number>;
  uses: ColumnType<number, number | undefined, number>;
  revoked_at: NullableTimestamp;
}

/** Every table of the `servers` schema. */
export interface ServersTables {
  servers: ServersTable;
  members: MembersTable;
  roles: RolesTable;
  member_roles: MemberRolesTable;
  channels: ChannelsTable;
  overwrites: OverwritesTable;
  invites: InvitesTable;
  bans: BansTable;
  audit_log: AuditLogTable;
  user_directory: UserDirectoryTable;
  in_app_invites: InAppInvitesTable;
}

/** `servers.bans`: users banned from a server (SRV-6). */
export interface BansTable {
  server_id: string;
  user_id: string;
  actor_id: string;
  reason: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
}

/** `servers.audit_log`: who did what in a server (SRV-9). */
export interface AuditLogTable {
  id: string;
  server_id: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: ColumnType<string, string | undefined, string>;
  reason: ColumnType<string, string | undefined, string>;
  changes: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
}

/** `servers.user_directory`: users' names, from the users service's events (SRV-7 member list). */
export interface UserDirectoryTable {
  user_id: string;
  username: string;
  display_name: ColumnType<string, string | undefined, string>;
  updated_at: Timestamp;
}

/** `servers.in_app_invites`: invite codes sent to one user, pending until they join or decline (SRV-3). */
export interface InAppInvitesTable {
  server_id: string;
  recipient_id: string;
  code: string;
  inviter_id: string;
  created_at: Timestamp;
}
