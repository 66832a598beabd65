import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@beep/db";
import { BeepProcess, freePort } from "./beep-process.ts";
import { type Mailbox, startMailbox } from "./mailbox.ts";
import { oidcPeerEnv } from "./oidc-peer.ts";
import { type Slapd, startSlapd } from "./slapd.ts";
import { type SmsGateway, startSmsGateway } from "./sms-gateway.ts";

/** A running Beep deployment the scenarios talk to through the gateway. */
export interface Topology {
  readonly kind: "all" | "split";
  /** The gateway's base URL (http://127.0.0.1:port). */
  readonly gatewayUrl: string;
  /** A second gateway node on the same bus (split); the same as `gatewayUrl` where there is one node. */
  readonly secondGatewayUrl: string;
  /** The directory of the deployment's file:// blob store (scenarios check what was stored). */
  readonly blobDir: string;
  /** Every process, by name (`beep`, or `users`, `servers`, `messages`, `gateway` and `gateway2`). */
  readonly processes: Map<string, BeepProcess>;
  /** The private LDAP directory users signs in against, and the bind mode this topology uses. */
  readonly ldap: { slapd: Slapd; mode: "template" | "search" };
  /** The SMTP server the users process sends mail to. */
  readonly mailbox: Mailbox;
  /** The HTTP SMS gateway the users process sends SMS to (bearer `it-sms-token`). */
  readonly sms: SmsGateway;
  /** A free port link previews may fetch from, on 127.0.0.1 only (the test-only allowance). */
  readonly linkPreviewPort: number;
  stop(): Promise<void>;
}

/** `rpc.internalToken` of the split servers process (ADR 0004); the all-in-one process keeps its random one. */
export const SPLIT_INTERNAL_TOKEN = "it-internal-token-7c1e";

/** `users.maxPictureBytes` of every test deployment: small, so over-limit uploads stay cheap. */
export const TEST_MAX_PICTURE_BYTES = 64 * 1024;

/** `messages.maxAttachmentBytes` of every test deployment: small, so over-limit uploads stay cheap. */
export const TEST_MAX_ATTACHMENT_BYTES = 256 * 1024;
/**
 * Link previews may reach 127.0.0.1 (and no other private address) on one extra port, so scenarios can
 * serve pages locally (linkPreviews.allowPrivateAddressesForTests is test-only).
 */
const linkPreviewEnv = (port: number) => ({
  BEEP_LINK_PREVIEWS_ALLOWED_PORTS: `80,443,${port}`,
  BEEP_LINK_PREVIEWS_ALLOW_PRIVATE_ADDRESSES_FOR_TESTS: "127.0.0.1",
});

const NATS_URL = process.env.BEEP_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/**
 * Every scenario signs in from 127.0.0.1, so the per-IP limit is lifted; the progressive block is off so
 * sign-in scenarios count attempts exactly (both are covered in services/users/src/sign-in-throttle.db.test.ts).
 */
const SIGN_IN_LIMIT_ENV = {
  BEEP_AUTH_SIGN_IN_LIMIT_IP_ATTEMPTS: "100000",
  BEEP_AUTH_SIGN_IN_LIMIT_DELAY_AFTER_FAILURES: "0",
  // Hardening: per-IP guess limits lifted likewise; keys reload every second so a forced rotation shows
  // quickly; the test client (127.0.0.1) acts as a trusted proxy so scenarios can set X-Forwarded-For.
  BEEP_AUTH_GUESS_LIMIT_IP_ATTEMPTS: "100000",
  BEEP_AUTH_SIGNING_KEY_RELOAD_SECONDS: "1",
  BEEP_AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: "1",
  BEEP_HTTP_TRUSTED_PROXIES: "127.0.0.1/32,::1",
};

/**
 * Real-time stream limits small enough for scenarios to exceed cheaply: a replay ring of 200 routed
 * events per gateway node and 1 MiB of unsent data per socket (stream.scenarios.ts).
 */
/**
 * `gateway.replayWindowEvents` of every test deployment: small, so "beyond the window" is cheap to
 * reach, yet large enough for the resume scenarios' traffic (each send is a message.created and, for its
 * author, a read_state.updated).
 */
export const TEST_REPLAY_WINDOW_EVENTS = 500;

const STREAM_LIMIT_ENV = {
  BEEP_GATEWAY_REPLAY_WINDOW_EVENTS: String(TEST_REPLAY_WINDOW_EVENTS),
  BEEP_GATEWAY_MAX_SOCKET_BUFFER_BYTES: String(1024 * 1024),
};

/** `beep --target=all` on embedded defaults: embedded PostgreSQL, memory bus, file blobs. */
export async function startAllInOne(): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), "beep-it-all-"));
  // Running as root, the embedded server runs as user postgres, which must traverse the temp dir.
  chmodSync(dir, 0o755);
  const slapd = await startSlapd();
  const mailbox = await startMailbox();
  const sms = await startSmsGateway();
  const port = await freePort();
  const linkPreviewPort = await freePort();
  const beep = new BeepProcess("beep", port, ["--target=all"], {
    ...linkPreviewEnv(linkPreviewPort),
    ...slapd.env("template"),
    ...(await oidcPeerEnv(`http://127.0.0.1:${port}`)),
    BEEP_ENV: "test",
    BEEP_DATABASE_EMBEDDED_DIR: join(dir, "postgres"),
    BEEP_DATABASE_EMBEDDED_PORT: String(await freePort()),
    BEEP_BLOB_URL: `file://${join(dir, "blobs")}`,
    BEEP_AUTH_ARGON2_MEMORY_KIB: "8192",
    BEEP_AUTH_ARGON2_ITERATIONS: "1",
    BEEP_MAIL_URL: mailbox.url,
    BEEP_SMS_URL: sms.url,
    BEEP_SMS_TOKEN: "it-sms-token",
    ...SIGN_IN_LIMIT_ENV,
    ...STREAM_LIMIT_ENV,
    BEEP_USERS_MAX_PICTURE_BYTES: String(TEST_MAX_PICTURE_BYTES),
    BEEP_SERVERS_MAX_PICTURE_BYTES: String(TEST_MAX_PICTURE_BYTES),
    BEEP_MESSAGES_MAX_ATTACHMENT_BYTES: String(TEST_MAX_ATTACHMENT_BYTES),
  });
  await beep.start(120_000);
  return {
    kind: "all",
    blobDir: join(dir, "blobs"),
    gatewayUrl: beep.url,
    secondGatewayUrl: beep.url,
    processes: new Map([["beep", beep]]),
    ldap: { slapd, mode: "template" },
    mailbox,
    sms,
    linkPreviewPort,
    async stop() {
      await beep.stop();
      await slapd.stop();
      await mailbox.stop();
      await sms.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `users`, `servers`, `messages` and `gateway` as separate processes over gRPC + NATS + the machine's PostgreSQL. */
export async function startSplit(): Promise<Topology> {
  const database: TestDatabase = await createTestDatabase();
  const prefix = `it${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const common = {
    BEEP_ENV: "test",
    BEEP_BUS_URL: NATS_URL,
    BEEP_BUS_PREFIX: prefix,
    BEEP_AUTH_ARGON2_MEMORY_KIB: "8192",
    BEEP_AUTH_ARGON2_ITERATIONS: "1",
    ...SIGN_IN_LIMIT_ENV,
    ...STREAM_LIMIT_ENV,
    BEEP_USERS_MAX_PICTURE_BYTES: String(TEST_MAX_PICTURE_BYTES),
    BEEP_SERVERS_MAX_PICTURE_BYTES: String(TEST_MAX_PICTURE_BYTES),
    BEEP_MESSAGES_MAX_ATTACHMENT_BYTES: String(TEST_MAX_ATTACHMENT_BYTES),
  };
  const blobDir = mkdtempSync(join(tmpdir(), "beep-it-split-blobs-"));
  const usersPort = await freePort();
  // Why search mode here: each topology covers one bind mode, so both run end to end.
  const slapd = await startSlapd();
  const mailbox = await startMailbox();
  const sms = await startSmsGateway();
  const gatewayPort = await freePort();
  Object.assign(common, await oidcPeerEnv(`http://127.0.0.1:${gatewayPort}`));
  const users = new BeepProcess("users", usersPort, ["--target=users"], {
    ...common,
    ...slapd.env("search"),
    BEEP_DATABASE_URL: database.url,
    BEEP_MAIL_URL: mailbox.url,
    BEEP_SMS_URL: sms.url,
    BEEP_SMS_TOKEN: "it-sms-token",
    // Split runs TOTP secrets encrypted at rest; all-in-one runs the default (no key).
    BEEP_AUTH_TOTP_SECRET_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    BEEP_BLOB_URL: `file://${blobDir}`,
  });
  const serversPort = await freePort();
  // Servers verifies tokens with users' JWKS over RPC, and keeps its own schema in the same database.
  const servers = new BeepProcess("servers", serversPort, ["--target=servers"], {
    ...common,
    BEEP_DATABASE_URL: database.url,
    BEEP_RPC_PEERS: `users=http://127.0.0.1:${usersPort}`,
    BEEP_RPC_INTERNAL_TOKEN: SPLIT_INTERNAL_TOKEN,
    // Server pictures (SRV-1) live in the servers process's blob store.
    BEEP_BLOB_URL: `file://${blobDir}`,
  });
  const messagesPort = await freePort();
  const linkPreviewPort = await freePort();
  // Messages asks servers for permissions (internal token) and users for JWKS and usernames.
  const messages = new BeepProcess("messages", messagesPort, ["--target=messages"], {
    ...common,
    ...linkPreviewEnv(linkPreviewPort),
    BEEP_DATABASE_URL: database.url,
    BEEP_RPC_PEERS: `users=http://127.0.0.1:${usersPort},servers=http://127.0.0.1:${serversPort}`,
    BEEP_RPC_INTERNAL_TOKEN: SPLIT_INTERNAL_TOKEN,
    // Attachments (MSG-8): messages stores uploads; the gateway streams downloads from the same store.
    BEEP_BLOB_URL: `file://${blobDir}`,
  });
  const gatewayEnv = {
    ...common,
    BEEP_RPC_PEERS: `users=http://127.0.0.1:${usersPort},servers=http://127.0.0.1:${serversPort},messages=http://127.0.0.1:${messagesPort}`,
    // The events stream reads who may see what from servers' internal VisibleChannels.
    BEEP_RPC_INTERNAL_TOKEN: SPLIT_INTERNAL_TOKEN,
    BEEP_BLOB_URL: `file://${blobDir}`,
  };
  const gateway = new BeepProcess("gateway", gatewayPort, ["--target=gateway"], gatewayEnv);
  // A second gateway node: the real-time stream must behave as one across nodes.
  const gateway2 = new BeepProcess("gateway2", await freePort(), ["--target=gateway"], gatewayEnv);
  await users.start();
  await servers.start();
  await messages.start();
  await Promise.all([gateway.start(), gateway2.start()]);
  return {
    kind: "split",
    blobDir,
    gatewayUrl: gateway.url,
    secondGatewayUrl: gateway2.url,
    processes: new Map([
      ["users", users],
      ["servers", servers],
      ["messages", messages],
      ["gateway", gateway],
      ["gateway2", gateway2],
    ]),
    ldap: { slapd, mode: "search" },
    mailbox,
    sms,
    linkPreviewPort,
    async stop() {
      await gateway2.stop();
      await gateway.stop();
      await messages.stop();
      await servers.stop();
      await users.stop();
      await slapd.stop();
      await mailbox.stop();
      await sms.stop();
      await database.drop();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}
