import { type Kysely, sql } from "kysely";

/** Servers, members, roles, channels, overwrites and invites (SRV-1, SRV-3, CHAN-1, ROLE-1). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("servers")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("public", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("owner_id", "bigint", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("members")
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("user_id", "bigint", (c) => c.notNull())
    .addColumn("joined_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("members_pk", ["server_id", "user_id"])
    .execute();
  // Why: "my servers" and the per-user server limit read by user.
  await db.schema.createIndex("members_user_idx").on("members").column("user_id").execute();

  await db.schema
    .createTable("roles")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("color", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("permissions", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("position", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("roles_server_idx").on("roles").column("server_id").execute();

  await db.schema
    .createTable("member_roles")
    .addColumn("server_id", "bigint", (c) => c.notNull())
    .addColumn("user_id", "bigint", (c) => c.notNull())
    .addColumn("role_id", "bigint", (c) => c.notNull().references("roles.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("member_roles_pk", ["server_id", "user_id", "role_id"])
    .addForeignKeyConstraint(
      "member_roles_member_fk",
      ["server_id", "user_id"],
      "members",
      ["server_id", "user_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema.createIndex("member_roles_role_idx").on("member_roles").column("role_id").execute();

  await db.schema
    .createTable("channels")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("type", "text", (c) => c.notNull().check(sql`type in ('text', 'voice', 'folder')`))
    .addColumn("name", "text", (c) => c.notNull())
    // Why cascade: deleting a folder deletes its channels (CHAN-2).
    .addColumn("parent_id", "bigint", (c) => c.references("channels.id").onDelete("cascade"))
    .addColumn("position", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("topic", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("channels_server_idx").on("channels").column("server_id").execute();

  await db.schema
    .createTable("overwrites")
    .addColumn("channel_id", "bigint", (c) => c.notNull().references("channels.id").onDelete("cascade"))
    .addColumn("target_type", "text", (c) => c.notNull().check(sql`target_type in ('role', 'member')`))
    .addColumn("target_id", "bigint", (c) => c.notNull())
    .addColumn("allow", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("deny", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("overwrites_pk", ["channel_id", "target_type", "target_id"])
    .execute();

  await db.schema
    .createTable("invites")
    .addColumn("code", "text", (c) => c.primaryKey())
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("creator_id", "bigint", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz")
    .addColumn("max_uses", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("uses", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("revoked_at", "timestamptz")
    .execute();
  await db.schema.createIndex("invites_server_idx").on("invites").column("server_id").execute();
}
