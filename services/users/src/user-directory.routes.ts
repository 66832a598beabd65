import { BeepError } from "@beep/errors";
import { UserDirectoryService as UserDirectoryServiceDesc } from "@beep/proto/gen/beep/users/v1/user_directory_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Kysely } from "kysely";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { UsersTables } from "./users.tables.ts";

/** Usernames one lookup accepts at most (a message's worth of mentions). */
export const MAX_DIRECTORY_USERNAMES = 100;

/** The Connect implementation of `beep.users.v1.UserDirectoryService`: one query per lookup. */
export function userDirectoryRoutes(
  db: Kysely<UsersTables>,
  callers: CallerAuthenticator,
): ServiceImpl<typeof UserDirectoryServiceDesc> {
  return {
    async findUsersByUsername(request, context) {
      await callers.authenticate(context);
      if (request.usernames.length > MAX_DIRECTORY_USERNAMES) {
        throw new BeepError("BAD_USER_INPUT", `At most ${MAX_DIRECTORY_USERNAMES} usernames`, {
          field: "usernames",
        });
      }
      const normalized = [...new Set(request.usernames.map((name) => name.toLowerCase()))].filter(
        (name) => name.length > 0 && name.length <= 64,
      );
      if (normalized.length === 0) return { users: [] };
      const rows = await db
        .selectFrom("accounts")
        .select(["id", "username"])
        .where("username_normalized", "in", normalized)
        .execute();
      return { users: rows.map((row) => ({ id: row.id, username: row.username })) };
    },
  };
}

export { UserDirectoryServiceDesc };
