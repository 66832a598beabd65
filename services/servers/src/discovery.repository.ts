import { type Kysely, sql } from "kysely";
import type { ServerRow } from "./servers.repository.ts";
import type { ServersTables } from "./servers.tables.ts";

type Db = Kysely<ServersTables>;

/** A public server found by discovery, with its sort key. */
export type DiscoveredRow = ServerRow & {
  /** ts_rank of the match (0 for the empty query), exactly as PostgreSQL's `real` prints it. */
  rank: string;
};

const memberCount = sql<number>`(select count(*)::int from servers.members mc where mc.server_id = s.id)`;

/** SQL of discovery (SRV-2): public servers only, never a private one. */
export class DiscoveryRepository {
  /**
   * Public servers matching `tsquery` (a `to_tsquery('simple', …)` string, folded here like the column),
   * best rank first, then newest; `after` is the (rank, id) of the last row already seen.
   */
  async search(
    db: Db,
    tsquery: string,
    after: { rank: string; id: string } | undefined,
    limit: number,
  ): Promise<DiscoveredRow[]> {
    const query = sql`to_tsquery('simple'::regconfig, servers.search_fold(${tsquery}))`;
    const rank = sql`ts_rank(s.search_vector, ${query})`;
    const result = await sql<DiscoveredRow>`
      select s.id, s.name, s.description, s.public, s.owner_id, s.created_at, s.picture_key, s.banner_key,
             ${memberCount} as member_count, (${rank})::text as rank
        from servers.servers s
       where s.public and s.search_vector @@ ${query}
         ${after ? sql`and (${rank}, s.id) < (${after.rank}::real, ${after.id}::bigint)` : sql``}
       order by ${rank} desc, s.id desc
       limit ${limit}`.execute(db);
    return result.rows;
  }

  /** Public servers by member count, then newest; `after` is the (member count, id) of the last row seen. */
  async popular(
    db: Db,
    after: { memberCount: number; id: string } | undefined,
    limit: number,
  ): Promise<DiscoveredRow[]> {
    const result = await sql<DiscoveredRow>`
      select * from (
        select s.id, s.name, s.description, s.public, s.owner_id, s.created_at, s.picture_key, s.banner_key,
               ${memberCount} as member_count, '0' as rank
          from servers.servers s
         where s.public
      ) found
      ${after ? sql`where (member_count, id) < (${after.memberCount}::int, ${after.id}::bigint)` : sql``}
      order by member_count desc, id desc
      limit ${limit}`.execute(db);
    return result.rows;
  }
}
