import { openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscoveryRepository } from "./discovery.repository.ts";
import { DiscoveryService, prefixTsquery, searchWords } from "./discovery.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 100, maxChannelsPerServer: 10, maxRolesPerServer: 10 };

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
let servers: ServersService;
let discovery: DiscoveryService;

// Why a tag per run: every server of this file carries it, so searches see only this file's servers.
const TAG = `zq${Date.now().toString(36)}`;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  db = testSchema.db;
  const repo = new ServersRepository();
  servers = new ServersService({ db, repo, access: new AccessReader(repo), logger, limits: LIMITS });
  discovery = new DiscoveryService({ db, discovery: new DiscoveryRepository() });
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });
const create = (name: string, description: string, isPublic = true) =>
  servers.create(user(), { name, description, public: isPublic });
const names = async (query: string, first = 50) =>
  (await discovery.discover(user(), { query, first, after: "" })).edges.map((e) => e.server.name);

describe("discovery (SRV-2)", () => {
  it("folds accents and case with unaccent where installed and with translate() everywhere", async () => {
    const fold = async (fn: string, value: string) =>
      (await sql<{ v: string }>`select ${sql.raw(`servers.${fn}`)}(${value}) as v`.execute(db)).rows[0]?.v;
    expect(await fold("search_fold", "Café CRÈME Ñandú Łódź")).toBe("cafe creme nandu lodz");
    expect(await fold("search_fold_basic", "Café CRÈME Ñandú Łódź")).toBe("cafe creme nandu lodz");
    const unaccent = await sql`select 1 from pg_extension where extname = 'unaccent'`.execute(db);
    // The machine's PostgreSQL ships unaccent: the main path must use it (the fallback is tested above).
    expect(unaccent.rows).toHaveLength(1);
    const body = await sql<{ src: string }>`
      select prosrc as src from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'servers' and p.proname = 'search_fold'`.execute(db);
    expect(body.rows[0]?.src).toContain("unaccent");
  });

  it("finds by name and description, accent- and case-insensitively, the last word as a prefix", async () => {
    await create(`Café ${TAG}`, "espresso and croissants");
    await create(`Programming ${TAG}`, "compilers, types, Zürich meetups");
    await create(`Knitting ${TAG}`, "wool");
    expect(await names(`cafe ${TAG}`)).toEqual([`Café ${TAG}`]);
    expect(await names(`CAFÉ ${TAG}`)).toEqual([`Café ${TAG}`]);
    expect(await names(`${TAG} prog`)).toEqual([`Programming ${TAG}`]);
    expect(await names(`zurich ${TAG}`)).toEqual([`Programming ${TAG}`]);
    expect(await names(`${TAG} croiss`)).toEqual([`Café ${TAG}`]);
    // Only the last word is a prefix; every word must match.
    expect(await names(`prog ${TAG}`)).toEqual([]);
    expect(await names(`knitting compilers ${TAG}`)).toEqual([]);
    // tsquery syntax in the query is plain text, never an operator or an error.
    expect(await names(`'cafe' | !${TAG}:* & (`)).toEqual([`Café ${TAG}`]);
  });

  it("ranks a name match above a description match", async () => {
    const word = `${TAG}rank`;
    // Created first, so a newest-first order would put it last.
    await create(`${word} club`, "nothing else");
    await create(`Other ${TAG}`, `all about ${word}`);
    expect(await names(word)).toEqual([`${word} club`, `Other ${TAG}`]);
  });

  it("never shows a private server, nor one made private later", async () => {
    const word = `${TAG}priv`;
    await create(`${word} hidden`, "", false);
    const later = await create(`${word} later`, "");
    expect(await names(word)).toEqual([`${word} later`]);
    const owner = { userId: later.ownerId };
    await servers.update(owner, later.id, { public: false });
    expect(await names(word)).toEqual([]);
    const popular = await discovery.discover(user(), { query: "", first: 100, after: "" });
    expect(popular.edges.every((edge) => edge.server.public)).toBe(true);
  });

  it("pages with a cursor that is stable across pages: every match once, in rank order", async () => {
    const word = `${TAG}page`;
    // Equal ranks (same text) and different ranks (repeated word) mixed: ties break by id.
    for (let i = 0; i < 13; i += 1) await create(`${word} ${i}`, i % 3 === 0 ? `${word} ${word}` : "");
    const all = await names(word, 100);
    expect(all).toHaveLength(13);
    const paged: string[] = [];
    let after = "";
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await discovery.discover(user(), { query: word, first: 4, after });
      paged.push(...page.edges.map((e) => e.server.name));
      if (!page.hasNextPage) break;
      after = page.endCursor;
      // A server created between pages must not shift what follows.
      await create(`unrelated ${TAG} ${pages}`, "");
    }
    expect(paged).toEqual(all);
  });

  it("lists popular, then newest public servers for an empty query, with member counts", async () => {
    const big = await create(`Big ${TAG}`, "");
    for (let i = 0; i < 3; i += 1) await servers.join(user(), big.id);
    const page = await discovery.discover(user(), { query: "  ", first: 2, after: "" });
    expect(page.edges[0]?.server).toMatchObject({ id: big.id, memberCount: 4 });
    const next = await discovery.discover(user(), { query: "", first: 100, after: page.endCursor });
    const seen = [...page.edges, ...next.edges].map((e) => e.server.id);
    expect(new Set(seen).size).toBe(seen.length);
    const counts = [...page.edges, ...next.edges].map((e) => e.server.memberCount);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it("refuses bad page sizes, bad cursors and a cursor of another query", async () => {
    const word = `${TAG}page`;
    const page = await discovery.discover(user(), { query: word, first: 2, after: "" });
    const run = (input: { query: string; first: number; after: string }) =>
      codeOf(discovery.discover(user(), input));
    expect(await run({ query: word, first: 101, after: "" })).toBe("BAD_USER_INPUT");
    expect(await run({ query: word, first: -1, after: "" })).toBe("BAD_USER_INPUT");
    expect(await run({ query: word, first: 2, after: "not a cursor!" })).toBe("BAD_USER_INPUT");
    expect(await run({ query: word, first: 2, after: "W10" })).toBe("BAD_USER_INPUT");
    expect(await run({ query: "other", first: 2, after: page.endCursor })).toBe("BAD_USER_INPUT");
    expect(await run({ query: "", first: 2, after: page.endCursor })).toBe("BAD_USER_INPUT");
    expect(await run({ query: "x".repeat(201), first: 2, after: "" })).toBe("BAD_USER_INPUT");
  });
});

describe("search words", () => {
  it("keeps letters and digits only, the last word as a prefix", () => {
    expect(searchWords("  Hello, wörld! 42 ")).toEqual(["hello", "wörld", "42"]);
    expect(prefixTsquery(["hello", "wo"])).toBe("'hello' & 'wo':*");
    expect(searchWords("':* & | ! ( )")).toEqual([]);
  });
});
