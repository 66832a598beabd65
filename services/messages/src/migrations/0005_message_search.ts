import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

/**
 * Latin letters with diacritics and what they fold to, for the translate() fallback of
 * `messages.search_fold` (used when the unaccent extension cannot be installed). Same length, char for
 * char; the same table as servers' discovery (servers migration 0004).
 */
export const FOLD_FROM =
  "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽž";
export const FOLD_TO =
  "aaaaaaceeeeiiiinoooooouuuuyaaaaaaceeeeiiiinoooooouuuuyyaaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjkkllllllllllnnnnnnoooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzz";

const TABLE = sql.id(MESSAGES_SCHEMA, "messages");
const fn = (name: string) => sql.id(MESSAGES_SCHEMA, name);

/**
 * Message search (MSG-12): a generated tsvector over the content folded to lower case without accents,
 * with a GIN index. The vector holds the content's words as PostgreSQL's parser sees them (URLs, hosts)
 * AND the content with every punctuation mark turned into a space, so the parts of URLs and hostnames
 * ("github" in https://github.com/x/y, "y") and of hyphenated or dotted words are lexemes of their own;
 * queries match each word as a prefix ("exam" finds "example").
 *
 * `messages.search_fold(text)` is the one folding function, for the column and the queries alike:
 * unaccent when the extension is available and may be installed (embedded PostgreSQL, stock 13+ where
 * it is trusted), else translate() of the Latin letters above. unaccent() itself is only STABLE, so the
 * wrapper names its dictionary explicitly and is declared IMMUTABLE, as a generated column requires.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function ${fn("search_fold_basic")}(value text) returns text
      language sql immutable strict parallel safe
      as $$ select translate(lower(value), ${sql.lit(FOLD_FROM)}, ${sql.lit(FOLD_TO)}) $$`.execute(db);
  // Why a sub-block: a failed CREATE EXTENSION (no privilege, not shipped) must not abort the migration.
  // Why check pg_extension first: another schema (servers) may already hold the extension.
  await sql`
    do $$ begin
      if not exists (select 1 from pg_extension where extname = 'unaccent')
         and exists (select 1 from pg_available_extensions where name = 'unaccent') then
        begin
          create extension if not exists unaccent with schema ${sql.id(MESSAGES_SCHEMA)};
        exception when others then
          raise notice 'unaccent unavailable (%), message search folds accents with translate()', sqlerrm;
        end;
      end if;
    end $$`.execute(db);
  await sql`
    do $$ declare ext_schema text; begin
      select n.nspname into ext_schema
        from pg_extension e join pg_namespace n on n.oid = e.extnamespace
        where e.extname = 'unaccent';
      if ext_schema is null then
        create function ${fn("search_fold")}(value text) returns text
          language sql immutable strict parallel safe
          as ${sql.lit(`select ${MESSAGES_SCHEMA}.search_fold_basic(value)`)};
      else
        execute format(
          'create function %I.search_fold(value text) returns text language sql immutable strict parallel safe '
          'as %L',
          ${sql.lit(MESSAGES_SCHEMA)},
          format('select lower(%I.unaccent(%L::regdictionary, value))', ext_schema, ext_schema || '.unaccent'));
      end if;
    end $$`.execute(db);
  await sql`
    alter table ${TABLE} add column search_vector tsvector generated always as (
      setweight(to_tsvector('simple'::regconfig, ${fn("search_fold")}(content)), 'A') ||
      setweight(to_tsvector('simple'::regconfig,
        regexp_replace(${fn("search_fold")}(content), '[[:punct:]]+', ' ', 'g')), 'B')
    ) stored`.execute(db);
  await sql`create index messages_search_idx on ${TABLE} using gin (search_vector)`.execute(db);
  // Why: search lists the server's channels that hold messages with a loose index scan (one descent each).
  await sql`create index messages_server_channel_idx on ${TABLE} (server_id, channel_id)`.execute(db);
}
