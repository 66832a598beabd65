import { CallerAuthenticator, createAccessTokenVerifier, RevokedSessions } from "@beep/auth";
import type { BlobStore } from "@beep/blob";
import { type Bus, type BusSubscription, OutboxRelay } from "@beep/bus";
import type { BeepConfig } from "@beep/config";
import { type DatabaseHandle, migrateSchema, serviceDatabase } from "@beep/db";
import { defineModule } from "@beep/kernel";
import type { ObservabilityRuntime } from "@beep/observability";
import { UsersService } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { RpcRuntime } from "@beep/rpc";
import type { JSONWebKeySet } from "jose";
import { AttachmentSweeper } from "./attachment-sweeper.ts";
import { AttachmentsRepository } from "./attachments.repository.ts";
import { AttachmentsServiceDesc, attachmentsRoutes } from "./attachments.routes.ts";
import { AttachmentsService } from "./attachments.service.ts";
import { ChannelAccessCache } from "./channel-access.ts";
import { consumeCleanup } from "./cleanup.consumers.ts";
import { consumeLinkPreviews, LinkPreviewer, linkPreviewSettings } from "./link-preview.consumer.ts";
import { MessageAccess } from "./message-access.ts";
import { MessageSearchServiceDesc, messageSearchRoutes } from "./message-search.routes.ts";
import { MessageSearchService } from "./message-search.ts";
import { MessagesRepository } from "./messages.repository.ts";
import { MessagesServiceDesc, messagesRoutes } from "./messages.routes.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import { MessagesService } from "./messages.service.ts";
import type { MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";
import { ReactionsRepository } from "./reactions.repository.ts";
import { ReactionsServiceDesc, reactionsRoutes } from "./reactions.routes.ts";
import { ReactionsService } from "./reactions.service.ts";
import { ReadStatesRepository } from "./read-states.repository.ts";
import { ReadStateServiceDesc, readStatesRoutes } from "./read-states.routes.ts";
import { ReadStatesService } from "./read-states.service.ts";
import { SendBatcher } from "./send-batcher.ts";
import { sendBatchExtras } from "./send-extras.ts";
import { ServersChannelDirectory } from "./servers-channel-access.ts";
import { ThreadsRepository } from "./threads.repository.ts";
import { ThreadsServiceDesc, threadsRoutes } from "./threads.routes.ts";
import { ThreadsService } from "./threads.service.ts";

/** The `messages` target: messages of text channels, their history, pins, mentions and typing. */
export const messagesModule = defineModule({
  name: "messages",
  deps: ["config", "observability", "db", "bus", "rpc", "blob"],
  target: true,
  async init(k) {
    const config = k.get<BeepConfig>("config");
    const { logger: loggerFor, metrics } = k.get<ObservabilityRuntime>("observability");
    const logger = loggerFor("messages");
    const database = k.get<DatabaseHandle>("db");
    const bus = k.get<Bus>("bus");
    const { registry, clients } = k.get<RpcRuntime>("rpc");

    await migrateSchema(database.db, MESSAGES_SCHEMA, messagesMigrations, logger);
    const db = serviceDatabase<MessagesTables>(database.db, MESSAGES_SCHEMA);
    const users = clients.client(UsersService);
    const revokedSessions = new RevokedSessions((config.auth.accessTokenTtlSeconds + 60) * 1000);
    const callers = new CallerAuthenticator(
      createAccessTokenVerifier({
        ...config.auth,
        fetchJwks: async () => JSON.parse((await users.getJwks({})).jwksJson) as JSONWebKeySet,
        maxAgeMs: config.auth.jwksMaxAgeSeconds * 1000,
        refetchCooldownMs: config.auth.jwksRefetchCooldownSeconds * 1000,
      }),
      revokedSessions,
    );
    const repo = new MessagesRepository();
    const directory = new ServersChannelDirectory(clients, config.rpc.internalToken);
    const access = new ChannelAccessCache(directory, { maxEntries: 100_000, ttlMs: 60_000 });
    const attachmentRows = new AttachmentsRepository();
    const attachments = new AttachmentsService({
      db,
      repo: attachmentRows,
      access,
      blobs: k.get<BlobStore>("blob"),
      maxBytes: config.messages.maxAttachmentBytes,
      pendingTtlMs: config.messages.pendingAttachmentTtlMinutes * 60_000,
      logger,
    });
    const sweeper = new AttachmentSweeper(attachments, logger);
    const blobsQueued = () => sweeper.kick();
    // Reactions, read states and threads (MSG-9, MSG-11, MSG-13): same permission rules, own tables.
    const messageAccess = new MessageAccess({ db, repo, access });
    const readStatesRepository = new ReadStatesRepository();
    const reactions = new ReactionsService({
      db,
      repo,
      reactions: new ReactionsRepository(),
      access: messageAccess,
    });
    const readStates = new ReadStatesService({
      db,
      repo,
      readStates: readStatesRepository,
      access: messageAccess,
    });
    const threadsRepository = new ThreadsRepository();
    const threads = new ThreadsService({ db, repo, threads: threadsRepository, access: messageAccess });
    const batcher = new SendBatcher({
      db,
      repo,
      attachments: attachmentRows,
      extras: sendBatchExtras({ readStates: readStatesRepository, threads: threadsRepository }),
    });
    const service = new MessagesService({
      db,
      repo,
      access,
      directory,
      batcher,
      bus,
      attachments: attachmentRows,
      blobsQueued,
      extras: { threads },
    });
    registry.service(MessagesServiceDesc, messagesRoutes(service, callers, clients));
    registry.service(AttachmentsServiceDesc, attachmentsRoutes(attachments, callers));
    const search = new MessageSearchService({ db, repo, permissions: directory, directory, access });
    registry.service(MessageSearchServiceDesc, messageSearchRoutes(search, callers, clients));
    registry.service(ReactionsServiceDesc, reactionsRoutes(reactions, callers));
    registry.service(
      ReadStateServiceDesc,
      readStatesRoutes(readStates, callers, clients, config.rpc.internalToken),
    );
    registry.service(ThreadsServiceDesc, threadsRoutes(threads, callers));

    const relay = new OutboxRelay({
      db: database.db,
      schema: MESSAGES_SCHEMA,
      bus,
      logger,
      listen: database.dedicatedConnection(),
    });
    metrics.registerGauge(
      "messages_outbox_lag_seconds",
      "Age of the oldest unpublished messages event",
      [],
      async () => [{ labels: {}, value: await relay.lagSeconds() }],
    );
    // Sends per commit shows whether group commit is batching under load (sends / batches).
    metrics.registerGauge(
      "messages_send_commits",
      "Send transactions committed and the sends they carried, since start",
      ["kind"],
      async () => [
        { labels: { kind: "batches" }, value: batcher.stats.batches },
        { labels: { kind: "sends" }, value: batcher.stats.sends },
      ],
    );
    const previewSettings = linkPreviewSettings(config.linkPreviews);
    const previewer = new LinkPreviewer({ db, settings: previewSettings, logger });
    let previews: BusSubscription | undefined;
    let revocations: BusSubscription | undefined;
    let cleanup: BusSubscription | undefined;
    return {
      value: undefined,
      start: async () => {
        revocations = await bus.subscribe(["session.revoked"], (event) => {
          const sessionId = (event.payload as { sessionId?: unknown } | null)?.sessionId;
          if (typeof sessionId === "string") revokedSessions.record(sessionId);
        });
        await access.subscribe(bus);
        cleanup = await consumeCleanup(bus, db, repo, logger, blobsQueued);
        if (previewSettings.enabled) {
          previews = await consumeLinkPreviews(bus, previewer, previewSettings.concurrency, logger);
        }
        await relay.start();
        sweeper.start();
      },
      stop: async () => {
        await sweeper.stop();
        await relay.stop();
        await previews?.close();
        await cleanup?.close();
        await revocations?.close();
        await access.close();
      },
    };
  },
});
