import { type Kysely, sql } from "kysely";

/**
 * Latin letters with diacritics and what they fold to, for the translate() fallback of
 * `servers.search_fold` (used when the unaccent extension cannot be installed). Same length, char for char.
 */
export const FOLD_FROM =
  "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽž";
export const FOLD_TO =
  "aaaaaaceeeeiiiinoooooouuuuyaaaaaaceeeeiiiinoooooouuuuyyaaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjkkllllllllllnnnnnnoooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzz";

/**
 * Discovery of public servers (SRV-2): a generated tsvector over name (weight A) and description
 * (weight B), folded to lower case without accents, with a GIN index.
 *
 * `servers.search_fold(text)` is the one folding function, for the column and the queries alike. It
 * uses the unaccent extension when it is available and may be installed (it is on the embedded
 * PostgreSQL and on stock PostgreSQL 13+, where it is a trusted extension); otherwise a translate() of
 * the Latin letters above. unaccent() itself is only STABLE (it reads its dictionary through the
 * search_path), so the wrapper names the dictionary explicitly and is declared IMMUTABLE, as a generated
 * column requires. `servers.search_fold_basic` is the translate() version, kept so both paths are tested.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function servers.search_fold_basic(value text) returns text
      language sql immutable strict parallel safe
      as $$ select translate(lower(value), ${sql.lit(FOLD_FROM)}, ${sql.lit(FOLD_TO)}) $$`.execute(db);
  // Why a sub-block: a failed CREATE EXTENSION (no privilege, not shipped) must not abort the migration.
  await sql`
    do $$ begin
      if exists (select 1 from pg_available_extensions where name = 'unaccent') then
        begin
          create extension if not exists unaccent with schema servers;
        exception when others then
          raise notice 'unaccent unavailable (%), discovery folds accents with translate()', sqlerrm;
        end;
      end if;
    end $$`.execute(db);
  await sql`
    do $$ declare ext_schema text; begin
      select n.nspname into ext_schema
        from pg_extension e join pg_namespace n on n.oid = e.extnamespace
        where e.extname = 'unaccent';
      if ext_schema is null then
        create function servers.search_fold(value text) returns text
          language sql immutable strict parallel safe
          as 'select servers.search_fold_basic(value)';
      else
        execute format(
          'create function servers.search_fold(value text) returns text language sql immutable strict parallel safe '
          'as %L',
          format('select lower(%I.unaccent(%L::regdictionary, value))', ext_schema, ext_schema || '.unaccent'));
      end if;
    end $$`.execute(db);
  await sql`
    alter table servers.servers add column search_vector tsvector generated always as (
      setweight(to_tsvector('simple'::regconfig, servers.search_fold(name)), 'A') ||
      setweight(to_tsvector('simple'::regconfig, servers.search_fold(description)), 'B')
    ) stored`.execute(db);
  // Why partial: only public servers are ever searched (private ones never appear).
  await sql`create index servers_search_idx on servers.servers using gin (search_vector) where public`.execute(
    db,
  );
  // Why: the empty query lists public servers newest first without a scan of private ones.
  await sql`create index servers_public_idx on servers.servers (id desc) where public`.execute(db);
}
