import type { Readable } from "node:stream";
import { type BlobStore, isImageType, sniffImageType } from "@beep/blob";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import type { Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import { recordAudit } from "./audit-log.ts";
import { serverPayload } from "./event-payloads.ts";
import { type AccessReader, emit, isId, notFound, Permission, requireBits } from "./server-access.ts";
import { blobVersion, type ServerView, serverView } from "./server-views.ts";
import type { ServersRepository } from "./servers.repository.ts";
import type { Caller } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What ServerPicturesService needs. */
export interface ServerPicturesServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  access: AccessReader;
  blobs: BlobStore;
  /** Largest accepted picture or banner, in bytes (config `servers.maxPictureBytes`). */
  maxPictureBytes: number;
  logger: Logger;
}

/** Which image of a server. */
export type ServerPictureKind = "picture" | "banner";

function requireKind(kind: string): ServerPictureKind {
  if (kind !== "picture" && kind !== "banner") {
    throw new BeepError("BAD_USER_INPUT", "kind must be picture or banner", { field: "kind" });
  }
  return kind;
}

/** The blob key prefix of every image of a server (removed with the server). */
export const serverBlobPrefix = (serverId: string) => `servers/${serverId}/`;

/**
 * A server's picture and banner (SRV-1), in the blob store. Uploads and removals need MANAGE_GUILD; the
 * bytes are checked against the declared type (magic numbers) and the size limit before anything is
 * stored; a replaced blob is deleted once the change is committed, and a new one is deleted if the
 * change fails, so nothing is orphaned.
 */
export class ServerPicturesService {
  constructor(private readonly deps: ServerPicturesServiceDeps) {}

  async upload(
    caller: Caller,
    serverId: string,
    input: { kind: string; data: Uint8Array; contentType: string },
  ): Promise<ServerView> {
    const kind = requireKind(input.kind);
    const contentType = input.contentType.trim().toLowerCase();
    if (!isImageType(contentType)) {
      throw new BeepError(
        "BAD_USER_INPUT",
        "contentType must be image/png, image/jpeg, image/webp or image/gif",
        {
          field: "contentType",
        },
      );
    }
    if (input.data.length > this.deps.maxPictureBytes) {
      throw new BeepError("LIMIT_EXCEEDED", `${kind} must be at most ${this.deps.maxPictureBytes} bytes`, {
        field: "data",
      });
    }
    if (sniffImageType(input.data) !== contentType) {
      throw new BeepError("BAD_USER_INPUT", `the bytes are not a ${contentType} image`, { field: "data" });
    }
    // Checked before storing anything, so a caller without the right cannot fill the store.
    await this.requireManager(caller, serverId);
    const key = `${serverBlobPrefix(serverId)}${kind}/${newId()}`;
    await this.deps.blobs.put(key, Buffer.from(input.data), contentType);
    try {
      const { view, previous } = await this.setKey(caller, serverId, kind, key);
      await this.deleteBlobs(previous ? [previous] : []);
      return view;
    } catch (error) {
      await this.deleteBlobs([key]);
      throw error;
    }
  }

  /** Removes the picture or banner (a no-op when there is none); the blob goes after commit. */
  async remove(caller: Caller, serverId: string, kindName: string): Promise<ServerView> {
    const kind = requireKind(kindName);
    const { view, previous } = await this.setKey(caller, serverId, kind, null);
    await this.deleteBlobs(previous ? [previous] : []);
    return view;
  }

  /** The image's bytes, for a member or, on a public server, anyone signed in; NOT_FOUND otherwise. */
  async get(
    caller: Caller,
    serverId: string,
    kindName: string,
  ): Promise<{ data: Buffer; contentType: string; version: string }> {
    const kind = requireKind(kindName);
    const { db, repo } = this.deps;
    if (!isId(serverId)) throw notFound("server", "serverId");
    const server = await repo.findServer(db, serverId);
    if (!server || !(server.public || (await repo.isMember(db, serverId, caller.userId)))) {
      throw notFound("server", "serverId");
    }
    const key = kind === "picture" ? server.picture_key : server.banner_key;
    const blob = key ? await this.deps.blobs.get(key) : undefined;
    if (!key || !blob) throw new BeepError("NOT_FOUND", `No ${kind}`);
    const chunks: Buffer[] = [];
    for await (const chunk of blob.body as Readable) chunks.push(chunk as Buffer);
    return { data: Buffer.concat(chunks), contentType: blob.info.contentType, version: blobVersion(key) };
  }

  private async requireManager(caller: Caller, serverId: string): Promise<void> {
    const access = await this.deps.access.load(this.deps.db, serverId, caller.userId);
    requireBits(access.base, Permission.MANAGE_GUILD, "edit this server");
  }

  /** Points the server at `key` (or none) under the server lock; returns the view and the replaced key. */
  private async setKey(
    caller: Caller,
    serverId: string,
    kind: ServerPictureKind,
    key: string | null,
  ): Promise<{ view: ServerView; previous: string | null }> {
    const { db, repo } = this.deps;
    return db.transaction().execute(async (trx) => {
      const access = await this.deps.access.load(trx, serverId, caller.userId, true);
      requireBits(access.base, Permission.MANAGE_GUILD, "edit this server");
      const column = kind === "picture" ? "picture_key" : "banner_key";
      const previous = access.server[column];
      await trx
        .updateTable("servers")
        .set({ [column]: key })
        .where("id", "=", serverId)
        .execute();
      await emit(trx, [
        // Members' open streams learn the new picture through the usual ServerUpdated.
        { type: "server.updated", payload: { serverId, ...(await serverPayload(trx, repo, serverId)) } },
      ]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "SERVER_UPDATE",
        targetType: "server",
        targetId: serverId,
        changes: { [kind]: key === null ? "removed" : "uploaded" },
      });
      const row = await repo.findServer(trx, serverId);
      if (!row) throw new Error(`server ${serverId} vanished inside its own transaction`);
      return { view: serverView(row), previous };
    });
  }

  private async deleteBlobs(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.deps.blobs.delete(key);
      } catch (error) {
        // Why: the change is committed; an orphaned blob costs space, not correctness. Say so and go on.
        this.deps.logger.warn(
          { err: error, blob_key: key },
          "could not delete an unused server picture blob",
        );
      }
    }
  }
}
