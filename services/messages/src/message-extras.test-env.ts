import { type Bus, MemoryBus, OutboxRelay } from "@beep/bus";
import type { RootDatabase } from "@beep/db";
import { openTestSchema, type TestSchema } from "@beep/db";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { openServersHarness, type ServersHarness } from "@beep/servers/testing";
import { type Kysely, sql } from "kysely";
import { ChannelAccessCache } from "./channel-access.ts";
import { MessageAccess } from "./message-access.ts";
import { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import { type MessagesCaller, MessagesService } from "./messages.service.ts";
import type { MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";
import { ReactionsRepository } from "./reactions.repository.ts";
import { ReactionsService } from "./reactions.service.ts";
import { ReadStatesRepository } from "./read-states.repository.ts";
import { type ReadStateCaller, ReadStatesService } from "./read-states.service.ts";
import { SendBatcher } from "./send-batcher.ts";
import { sendBatchExtras } from "./send-extras.ts";
import { harnessChannelDirectory } from "./testing/harness-channel-directory.ts";
import { ThreadsRepository } from "./threads.repository.ts";
import { ThreadsService } from "./threads.service.ts";

/**
 * The test bed of reactions, read states and threads (db tests): a fresh messages schema, the real
 * servers services in-process, servers' events relayed to the permission cache as in production.
 */
export interface ExtrasEnv {
  testSchema: TestSchema<MessagesTables>;
  db: Kysely<MessagesTables>;
  root: Kysely<RootDatabase>;
  harness: ServersHarness;
  bus: Bus;
  messages: MessagesService;
  reactions: ReactionsService;
  readStates: ReadStatesService;
  threads: ThreadsService;
  close(): Promise<void>;
}

/** Opens the test bed (one schema per test file). */
export async function openExtrasEnv(): Promise<ExtrasEnv> {
  const logger = createLogger({ service: "messages-extras-test", level: "silent" });
  const testSchema = await openTestSchema<MessagesTables>({
    schema: MESSAGES_SCHEMA,
    migrations: messagesMigrations,
    logger,
    poolSize: 12,
  });
  const handle = testSchema.handle;
  const db = testSchema.db;
  const harness = await openServersHarness(handle, logger);
  const bus = new MemoryBus(logger);
  const relay = new OutboxRelay({ db: handle.db, schema: "servers", bus, logger, pollIntervalMs: 20 });
  await relay.start();
  const directory = harnessChannelDirectory(harness);
  const access = new ChannelAccessCache(directory, { maxEntries: 1000, ttlMs: 60_000 });
  await access.subscribe(bus);
  const repo = new MessagesRepository();
  const messageAccess = new MessageAccess({ db, repo, access });
  const reactions = new ReactionsService({
    db,
    repo,
    reactions: new ReactionsRepository(),
    access: messageAccess,
  });
  const readStatesRepository = new ReadStatesRepository();
  const readStates = new ReadStatesService({
    db,
    repo,
    readStates: readStatesRepository,
    access: messageAccess,
  });
  const threadsRepository = new ThreadsRepository();
  const threads = new ThreadsService({ db, repo, threads: threadsRepository, access: messageAccess });
  const messages = new MessagesService({
    db,
    repo,
    access,
    directory,
    batcher: new SendBatcher({
      db,
      repo,
      extras: sendBatchExtras({ readStates: readStatesRepository, threads: threadsRepository }),
    }),
    bus,
    extras: { threads },
  });
  return {
    testSchema,
    db,
    root: handle.db,
    harness,
    bus,
    messages,
    reactions,
    readStates,
    threads,
    async close() {
      await relay.stop();
      await access.close();
      await bus.close();
      await testSchema.close();
    },
  };
}

/** A caller of both messages and read states, with the in-process servers as their directory. */
export type TestCaller = MessagesCaller & ReadStateCaller;

/** A new user acting through the harness. */
export function testCaller(env: ExtrasEnv, userId = newId()): TestCaller {
  const roleIds = async (serverId: string) =>
    (await env.harness.servers.listMembers({ userId }, serverId)).find((m) => m.userId === userId)?.roleIds ??
    [];
  return {
    userId,
    findUsers: async () => [],
    members: {
      async visibleChannels(serverId) {
        try {
          return (await env.harness.channels.list({ userId }, serverId)).map((c) => ({
            id: c.id,
            type: c.type,
          }));
        } catch (error) {
          if (error instanceof BeepError && error.code === "NOT_FOUND") return undefined;
          throw error;
        }
      },
      roleIds,
    },
  };
}

/** The BeepError code a call fails with, or undefined when it succeeds. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof BeepError) return error.code;
    throw error;
  }
}

/** A server with an owner, a member and its #general channel. */
export async function community(env: ExtrasEnv) {
  const owner = testCaller(env);
  const member = testCaller(env);
  const server = await env.harness.servers.create(owner, { name: "Chat", description: "", public: true });
  await env.harness.servers.join(member, server.id);
  const channels = await env.harness.channels.list(owner, server.id);
  return { owner, member, server, channel: channels[0]!.id };
}

/** A text channel's creation input. */
export const textChannel = (name: string) => ({ name, type: "text" as const, parentId: "", topic: "" });

/** The outbox's events of these types, oldest first. */
export async function outboxOf(
  env: ExtrasEnv,
  types: readonly string[],
): Promise<Array<{ type: string; payload: Record<string, unknown> }>> {
  const result = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from messages.outbox where type = any(${[...types]}::text[]) order by id`.execute(
    env.root,
  );
  return result.rows;
}

/** Waits until the relay has carried servers' events to the permission cache (it polls every 20 ms). */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
