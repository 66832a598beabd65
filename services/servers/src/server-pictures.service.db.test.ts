import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlobStore, FileBlobStore } from "@beep/blob";
import { openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serversMigrations } from "./migrations/index.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServerPicturesService, serverBlobPrefix } from "./server-pictures.service.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 100, maxChannelsPerServer: 10, maxRolesPerServer: 10 };
const MAX_BYTES = 1024;
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(32, 7),
]);
const GIF = Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(16, 1)]);

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
let dir: string;
let blobs: BlobStore;
let servers: ServersService;
let roles: RolesService;
let pictures: ServerPicturesService;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  db = testSchema.db;
  dir = mkdtempSync(join(tmpdir(), "beep-server-pictures-"));
  blobs = await FileBlobStore.open(dir);
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
  pictures = new ServerPicturesService({ db, repo, access, blobs, maxPictureBytes: MAX_BYTES, logger });
}, 60_000);

afterAll(async () => {
  await blobs?.close();
  await testSchema?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const user = (): Caller => ({ userId: newId() });

describe("server picture and banner (SRV-1)", () => {
  it("uploads, replaces (the old blob goes), serves and removes a picture and a banner", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Pictured", description: "", public: false });
    const first = await pictures.upload(owner, server.id, {
      kind: "picture",
      data: PNG,
      contentType: "image/png",
    });
    expect(first.pictureVersion).not.toBe("");
    expect(first.bannerVersion).toBe("");
    const second = await pictures.upload(owner, server.id, {
      kind: "picture",
      data: GIF,
      contentType: "image/gif",
    });
    expect(second.pictureVersion).not.toBe(first.pictureVersion);
    await pictures.upload(owner, server.id, { kind: "banner", data: PNG, contentType: "image/png" });
    expect(await blobs.list(serverBlobPrefix(server.id))).toHaveLength(2);
    const got = await pictures.get(owner, server.id, "picture");
    expect(got).toMatchObject({ contentType: "image/gif", version: second.pictureVersion });
    expect(Buffer.compare(got.data, GIF)).toBe(0);
    expect((await servers.get(owner, server.id)).pictureVersion).toBe(second.pictureVersion);

    const removed = await pictures.remove(owner, server.id, "picture");
    expect(removed.pictureVersion).toBe("");
    expect(await codeOf(pictures.get(owner, server.id, "picture"))).toBe("NOT_FOUND");
    expect(await blobs.list(serverBlobPrefix(server.id))).toHaveLength(1);
    expect((await pictures.remove(owner, server.id, "picture")).pictureVersion).toBe("");
  });

  it("checks the bytes against the type and the size, and MANAGE_GUILD, before storing anything", async () => {
    const owner = user();
    const member = user();
    const server = await servers.create(owner, { name: "Guarded", description: "", public: true });
    await servers.join(member, server.id);
    const up = (who: Caller, data: Buffer, contentType: string, kind = "picture") =>
      codeOf(pictures.upload(who, server.id, { kind, data, contentType }));
    expect(await up(owner, PNG, "image/gif")).toBe("BAD_USER_INPUT");
    expect(await up(owner, Buffer.from("<html><script>alert(1)</script>"), "image/png")).toBe(
      "BAD_USER_INPUT",
    );
    expect(await up(owner, PNG, "text/html")).toBe("BAD_USER_INPUT");
    expect(await up(owner, Buffer.concat([PNG, Buffer.alloc(MAX_BYTES)]), "image/png")).toBe(
      "LIMIT_EXCEEDED",
    );
    expect(await up(owner, PNG, "image/png", "avatar")).toBe("BAD_USER_INPUT");
    expect(await up(member, PNG, "image/png")).toBe("FORBIDDEN");
    expect(await up(user(), PNG, "image/png")).toBe("NOT_FOUND");
    expect(await codeOf(pictures.remove(member, server.id, "picture"))).toBe("FORBIDDEN");
    expect(await blobs.list(serverBlobPrefix(server.id))).toEqual([]);
    // With MANAGE_GUILD from a role, a member may.
    const admin = await roles.create(owner, server.id, {
      name: "admin",
      color: 0,
      permissions: String(1n << 5n),
    });
    await roles.assign(owner, server.id, admin.id, member.userId);
    expect(await up(member, PNG, "image/png", "banner")).toBe("OK");
  });

  it("serves a private server's images to members only, a public one's to anyone signed in", async () => {
    const owner = user();
    const priv = await servers.create(owner, { name: "Hidden", description: "", public: false });
    const pub = await servers.create(owner, { name: "Open", description: "", public: true });
    for (const server of [priv, pub]) {
      await pictures.upload(owner, server.id, { kind: "picture", data: PNG, contentType: "image/png" });
    }
    expect(await codeOf(pictures.get(user(), priv.id, "picture"))).toBe("NOT_FOUND");
    expect(await codeOf(pictures.get(user(), pub.id, "picture"))).toBe("OK");
    expect(await codeOf(pictures.get(user(), "x", "picture"))).toBe("NOT_FOUND");
  });
});
