import type { Bus, BusEvent, BusSubscription } from "@beep/bus";
import type { Logger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import type { ServersTables } from "./servers.tables.ts";

/** The users events the directory follows. */
export const DIRECTORY_EVENTS = ["user.created", "user.updated", "user.deleted"];

/** The durable consumer group (one per service, whatever the number of processes). */
export const DIRECTORY_GROUP = "servers-member-directory";

/**
 * Keeps `servers.user_directory` (usernames and display names) from the users service's events, so the
 * member list shows and filters names without asking users per member. Idempotent and order-tolerant:
 * an event is applied only if it is newer than what is stored, so redeliveries change nothing.
 */
export class MemberDirectory {
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly db: Kysely<ServersTables>,
    private readonly logger: Logger,
  ) {}

  async start(bus: Bus): Promise<void> {
    this.subscription = await bus.consume(DIRECTORY_GROUP, DIRECTORY_EVENTS, (event) => this.apply(event));
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Applies one `user.*` event; a malformed one is logged and skipped (redelivering it would not help). */
  async apply(event: Pick<BusEvent, "type" | "payload">): Promise<void> {
    const payload = (event.payload ?? {}) as { user?: Record<string, unknown>; userId?: unknown };
    if (event.type === "user.deleted") {
      if (typeof payload.userId === "string" && /^\d{1,19}$/.test(payload.userId)) {
        await this.db.deleteFrom("user_directory").where("user_id", "=", payload.userId).execute();
      }
      return;
    }
    const user = payload.user;
    const id = user?.id;
    const username = user?.username;
    const updatedAt = user?.updatedAt ?? user?.createdAt;
    if (
      typeof id !== "string" ||
      !/^\d{1,19}$/.test(id) ||
      typeof username !== "string" ||
      typeof updatedAt !== "string" ||
      Number.isNaN(Date.parse(updatedAt))
    ) {
      this.logger.warn({ event_type: event.type }, "member directory: skipping a malformed user event");
      return;
    }
    const displayName = typeof user?.displayName === "string" ? user.displayName : "";
    await this.db
      .insertInto("user_directory")
      .values({ user_id: id, username, display_name: displayName, updated_at: updatedAt })
      .onConflict((oc) =>
        oc
          .column("user_id")
          .doUpdateSet({
            username: (eb) => eb.ref("excluded.username"),
            display_name: (eb) => eb.ref("excluded.display_name"),
            updated_at: (eb) => eb.ref("excluded.updated_at"),
          })
          .where(sql<boolean>`excluded.updated_at >= ${sql.ref("user_directory.updated_at")}`),
      )
      .execute();
  }
}
