import { type Kysely, sql } from "kysely";
import type { ServersTables } from "./servers.tables.ts";

type Db = Kysely<ServersTables>;

/** One member as the member list reads it, with its sort key. */
export interface MemberListRow {
  user_id: string;
  joined_at: Date;
  /** `joined_at` as exact epoch seconds (microseconds kept), the cursor's first key. */
  joined_key: string;
  timed_out_until: Date | null;
  username: string | null;
  display_name: string | null;
  role_ids: string[];
}

/** `%`, `_` and `\` are literal in a LIKE prefix. */
function likePrefix(prefix: string): string {
  return `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** SQL of the member lists (SRV-7, CHAN-4). */
export class MemberListRepository {
  /**
   * A page of a server's members in join order (ties by user id), each with role ids and directory
   * names; `after` is the (joined_key, user id) of the last member already seen.
   */
  async page(
    db: Db,
    serverId: string,
    options: { after?: { joinedKey: string; userId: string }; usernamePrefix?: string; limit: number },
  ): Promise<MemberListRow[]> {
    const { after, usernamePrefix, limit } = options;
    const result = await sql<MemberListRow>`
      select m.user_id, m.joined_at, extract(epoch from m.joined_at)::text as joined_key, m.timed_out_until,
             d.username, d.display_name,
             coalesce((select array_agg(mr.role_id::text order by mr.role_id)
                         from servers.member_roles mr
                        where mr.server_id = m.server_id and mr.user_id = m.user_id), '{}') as role_ids
        from servers.members m
        left join servers.user_directory d on d.user_id = m.user_id
       where m.server_id = ${serverId}
         ${usernamePrefix ? sql`and lower(d.username) like ${likePrefix(usernamePrefix)}` : sql``}
         ${
           after
             ? sql`and (extract(epoch from m.joined_at), m.user_id) > (${after.joinedKey}::numeric, ${after.userId}::bigint)`
             : sql``
         }
       order by m.joined_at, m.user_id
       limit ${limit}`.execute(db);
    return result.rows;
  }
}
