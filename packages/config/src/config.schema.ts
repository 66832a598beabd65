import { isIP } from "node:net";
import { z } from "zod";
import { parseOidcProviders } from "./oidc-providers.ts";

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const url = (schemes: string[]) =>
  z.string().refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
    message: `must start with one of ${schemes.map((scheme) => `${scheme}://`).join(", ")}`,
  });

/**
 * The one configuration schema of Beep. Every leaf has a default and a doc
 * line; `secret` leaves are never printed. The environment variable of a key
 * is `BEEP_` + the path in SCREAMING_SNAKE_CASE (`database.url` →
 * `BEEP_DATABASE_URL`).
 */
export const configSchema = z.strictObject({
  env: z
    .enum(["development", "production", "test"])
    .default("development")
    .describe("Run mode: development enables GraphiQL and pretty errors; production hides them."),
  http: z.strictObject({
    host: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .describe("Interface the one HTTP listener binds to; use 0.0.0.0 in containers."),
    port: port.default(4000).describe("Port of the one HTTP listener (GraphQL, RPC, health, metrics)."),
    publicUrl: z
      .string()
      .default("")
      .describe("Public base URL of this deployment; empty means http://<host>:<port>."),
    shutdownGraceMs: positiveInt
      .default(10_000)
      .describe("How long a stopping process waits for in-flight requests before closing them."),
    trustedProxies: z
      .string()
      .default("")
      .refine(
        (value) =>
          value
            .split(",")
            .map((cidr) => cidr.trim())
            .filter(Boolean)
            .every((cidr) => {
              const [address = "", bits, extra] = cidr.split("/");
              const family = isIP(address);
              const max = family === 6 ? 128 : 32;
              return (
                family !== 0 &&
                extra === undefined &&
                (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max))
              );
            }),
        { message: "must be a comma list of IP addresses or CIDRs (10.0.0.0/8,::1)" },
      )
      .describe(
        "Reverse proxies (comma list of CIDRs) whose X-Forwarded-For is believed; empty trusts none.",
      ),
  }),
  database: z.strictObject({
    url: z
      .string()
      .default("")
      .refine((value) => value === "" || /^postgres(ql)?:\/\//.test(value), {
        message: "must be empty (embedded PostgreSQL) or start with postgres://",
      })
      .describe("PostgreSQL server URL; empty starts the embedded PostgreSQL under database.embeddedDir.")
      .meta({ secret: true }),
    embeddedDir: z
      .string()
      .min(1)
      .default("./.beep/postgres")
      .describe("Data directory of the embedded PostgreSQL."),
    embeddedPort: port.default(54329).describe("Loopback port of the embedded PostgreSQL."),
    poolSize: positiveInt.max(200).default(10).describe("Connections per process in the PostgreSQL pool."),
  }),
  bus: z.strictObject({
    url: url(["memory", "nats"])
      .default("memory://")
      .describe("Event bus: memory:// (one process only) or nats://host:4222 (JetStream)."),
    prefix: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/, "must be lower-case letters, digits or _, starting with a letter")
      .default("beep")
      .describe("NATS subject and stream namespace; deployments sharing one NATS use different ones."),
  }),
  blob: z.strictObject({
    url: url(["file", "s3"])
      .default("file://./.beep/blobs")
      .describe("Blob storage: file://<dir> or s3://bucket?endpoint=…&region=…")
      .meta({ secret: true }),
  }),
  cache: z.strictObject({
    url: url(["memory", "redis"])
      .default("memory://")
      .describe("Cache and rate-limit store: memory:// or redis://host:6379/0.")
      .meta({ secret: true }),
  }),
  log: z.strictObject({
    level: z
      .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
      .default("info")
      .describe("Minimum log level written to stdout."),
  }),
  rpc: z.strictObject({
    peers: z
      .string()
      .default("")
      .refine(
        (value) => value === "" || /^([a-z]+=https?:\/\/[^,\s]+)(,[a-z]+=https?:\/\/[^,\s]+)*$/.test(value),
        {
          message: "must be a comma list of target=http://host:port",
        },
      )
      .describe("Where targets not in this process listen: users=http://users:4000,gateway=http://gw:4000."),
    timeoutMs: positiveInt.default(5_000).describe("Default deadline of one RPC call."),
    internalToken: z
      .string()
      .default("")
      .describe(
        "Secret that services send in x-beep-internal-token for internal-only RPCs (permission checks); empty: a random one per process (all-in-one only). Set the same value on every process when split.",
      ),
  }),
  auth: z.strictObject({
    issuer: z.string().min(1).default("beep").describe("`iss` of access tokens."),
    audience: z.string().min(1).default("beep-api").describe("`aud` of access tokens."),
    accessTokenTtlSeconds: positiveInt.max(3_600).default(900).describe("Lifetime of an access token."),
    refreshTokenTtlDays: positiveInt.max(365).default(30).describe("Lifetime of a refresh token family."),
    argon2MemoryKib: positiveInt.min(8_192).default(19_456).describe("argon2id memory cost (OWASP: 19 MiB)."),
    argon2Iterations: positiveInt.default(2).describe("argon2id time cost (OWASP: 2)."),
    maxConcurrentHashes: positiveInt
      .max(64)
      .default(4)
      .describe("Password hashes computed at once; more wait, so a burst cannot exhaust memory."),
    ldap: z.strictObject({
      url: z
        .string()
        .default("")
        .refine((value) => value === "" || /^ldaps?:\/\//.test(value), {
          message: "must be empty (LDAP sign-in disabled) or start with ldap:// or ldaps://",
        })
        .describe("Directory for LDAP sign-in (ldap://host:389 or ldaps://host:636); empty disables it."),
      startTls: z
        .preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean())
        .default(false)
        .describe("Upgrade an ldap:// connection with StartTLS before any bind."),
      bindMode: z
        .enum(["template", "search"])
        .default("template")
        .describe(
          "template: bind as bindDnTemplate; search: bind as the service account, find the DN, bind as it.",
        ),
      bindDnTemplate: z
        .string()
        .default("uid={username},ou=people,dc=example,dc=org")
        .describe("DN to bind as in template mode; {username} is replaced, RFC 4514-escaped."),
      searchBindDn: z.string().default("").describe("Service account DN for search mode (empty: none)."),
      searchBindPassword: z
        .string()
        .default("")
        .describe("Service account password for search mode.")
        .meta({ secret: true }),
      searchBase: z.string().default("dc=example,dc=org").describe("Subtree searched in search mode."),
      searchFilter: z
        .string()
        .default("(uid={username})")
        .describe("Filter finding the user in search mode; {username} is replaced, RFC 4515-escaped."),
      emailAttribute: z.string().min(1).default("mail").describe("Entry attribute holding the email."),
      firstNameAttribute: z
        .string()
        .min(1)
        .default("givenName")
        .describe("Entry attribute holding the first name."),
      lastNameAttribute: z.string().min(1).default("sn").describe("Entry attribute holding the last name."),
      usernameAttribute: z
        .string()
        .min(1)
        .default("uid")
        .describe("Entry attribute a new account's Beep username is derived from."),
      connectTimeoutMs: positiveInt.default(5_000).describe("Deadline to connect to the directory."),
      timeoutMs: positiveInt.default(5_000).describe("Deadline of one directory operation."),
    }),
    totp: z.strictObject({
      issuer: z
        .string()
        .min(1)
        .max(64)
        .default("Beep")
        .describe("Issuer name authenticator apps show next to the account (otpauth URI)."),
      challengeTtlSeconds: positiveInt
        .max(3_600)
        .default(300)
        .describe("How long a TWO_FACTOR_REQUIRED challenge can be answered."),
      challengeMaxAttempts: positiveInt
        .max(20)
        .default(5)
        .describe("Wrong codes after which a sign-in challenge is dead and the user signs in again."),
      secretKey: z
        .string()
        .default("")
        .refine((value) => value === "" || Buffer.from(value, "base64").length === 32, {
          message: "must be empty or 32 bytes in base64 (openssl rand -base64 32)",
        })
        .describe(
          "Base64 32-byte AES-256-GCM key encrypting TOTP secrets at rest; empty stores them in clear.",
        )
        .meta({ secret: true }),
    }),
    oidcProviders: z
      .string()
      .default("")
      .superRefine((value, ctx) => {
        try {
          parseOidcProviders(value);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      })
      .describe(
        'OpenID Connect providers (AUTH-5) as JSON: [{"name","issuer","clientId","clientSecret","scopes"}]; redirect URI is <http.publicUrl>/auth/oidc/<name>/callback.',
      )
      .meta({ secret: true }),
    signInLimitAccountAttempts: positiveInt
      .default(10)
      .describe("Sign-in attempts per account (normalized email) per window; success resets it."),
    signInLimitAccountWindowSeconds: positiveInt
      .default(900)
      .describe("Window of the per-account sign-in limit."),
    signInLimitIpAttempts: positiveInt.default(50).describe("Sign-in attempts per client IP per window."),
    signInLimitIpWindowSeconds: positiveInt.default(900).describe("Window of the per-IP sign-in limit."),
    signInLimitDelayAfterFailures: z.coerce
      .number()
      .int()
      .min(0)
      .default(5)
      .describe("Consecutive failures of an account before each further one blocks it; 0 turns it off."),
    signInLimitDelayBaseMs: positiveInt
      .default(1_000)
      .describe("First progressive block; it doubles with each further failure."),
    signInLimitDelayMaxMs: positiveInt.default(60_000).describe("Longest progressive block."),
    signingKeyRotationDays: positiveInt
      .default(30)
      .describe("Age at which a new token signing key is created and signs from then on."),
    signingKeyReloadSeconds: positiveInt
      .default(60)
      .describe("How often each users process reloads signing keys and checks the rotation."),
    signingKeyRetireMarginSeconds: positiveInt
      .default(300)
      .describe("Extra time an old key stays in the JWKS after its last token may have expired."),
    jwksMaxAgeSeconds: positiveInt
      .default(60)
      .describe("How long the gateway trusts its copy of the JWKS before refetching it."),
    jwksRefetchCooldownSeconds: positiveInt
      .default(30)
      .describe("Least time between two gateway JWKS refetches caused by unknown key ids."),
    guessLimitTargetAttempts: positiveInt
      .default(10)
      .describe(
        "Attempts per window against one account or destination on guessable endpoints (codes, TOTP, passwords).",
      ),
    guessLimitTargetWindowSeconds: positiveInt
      .default(900)
      .describe("Window of the per-account/destination guess limit."),
    guessLimitIpAttempts: positiveInt
      .default(50)
      .describe("Attempts per client IP per window on each guessable endpoint."),
    guessLimitIpWindowSeconds: positiveInt.default(900).describe("Window of the per-IP guess limit."),
  }),
  mail: z.strictObject({
    url: url(["log", "smtp", "smtps"])
      .default("log://")
      .describe(
        "Outgoing mail: log:// (logs recipient and subject), smtp://user:pass@host:587 or smtps://…:465.",
      )
      .meta({ secret: true }),
    from: z
      .string()
      .min(3)
      .default("Beep <no-reply@beep.localhost>")
      .describe("From header of every mail Beep sends."),
    logBodies: z
      .stringbool()
      .default(true)
      .describe(
        "With log:// mail or SMS, also log each body (codes, links) so local sign-in works; obeyed only when env=development.",
      ),
  }),
  sms: z.strictObject({
    url: url(["log", "http", "https"])
      .default("log://")
      .describe(
        "SMS gateway: log:// (logs the recipient only) or an http(s) URL that receives POST {to, text}.",
      ),
    token: z
      .string()
      .default("")
      .describe("Bearer token sent to the SMS gateway URL; empty sends none.")
      .meta({ secret: true }),
  }),
  codes: z.strictObject({
    ttlMinutes: positiveInt
      .max(60)
      .default(10)
      .describe("Lifetime of a one-time code (sign-in or email verification)."),
    maxAttempts: positiveInt
      .max(20)
      .default(5)
      .describe("Wrong guesses after which a one-time code is dead."),
    maxPerHour: positiveInt
      .max(100)
      .default(5)
      .describe("One-time codes sent to one account per purpose per hour; more are silently dropped."),
  }),
  users: z.strictObject({
    maxPictureBytes: positiveInt
      .max(64 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe("Largest profile picture or banner upload, in bytes (the gateway stops reading past it)."),
  }),
  messages: z.strictObject({
    maxAttachmentBytes: positiveInt
      .max(512 * 1024 * 1024)
      .default(25 * 1024 * 1024)
      .describe("Largest message attachment upload, in bytes (the gateway stops reading past it: 413)."),
    pendingAttachmentTtlMinutes: positiveInt
      .max(7 * 24 * 60)
      .default(60)
      .describe("Uploaded attachments never attached to a message are deleted after this many minutes."),
  }),
  servers: z.strictObject({
    maxServersPerUser: positiveInt
      .max(10_000)
      .default(100)
      .describe("Servers one user may be a member of (owned or joined); more is LIMIT_EXCEEDED (SRV-8)."),
    maxChannelsPerServer: positiveInt
      .max(10_000)
      .default(500)
      .describe("Channels (folders included) one server may have; more is LIMIT_EXCEEDED (SRV-8)."),
    maxRolesPerServer: positiveInt
      .max(10_000)
      .default(250)
      .describe("Roles (@everyone included) one server may have; more is LIMIT_EXCEEDED (SRV-8)."),
    maxPictureBytes: positiveInt
      .max(64 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe("Largest server picture or banner upload, in bytes (the gateway stops reading past it)."),
    invitesPerUserPerHour: positiveInt
      .max(10_000)
      .default(50)
      .describe(
        "Invites (links and in-app) one user may create in one server per hour; more is RATE_LIMITED (SRV-8).",
      ),
    permissionCacheServers: positiveInt
      .max(1_000_000)
      .default(10_000)
      .describe("Servers whose roles, members, channels and overwrites the permission cache keeps (LRU)."),
  }),
  linkPreviews: z.strictObject({
    enabled: z
      .stringbool()
      .default(true)
      .describe(
        "Fetch previews (OpenGraph, oEmbed) of links in messages, asynchronously after the send (MSG-7).",
      ),
    timeoutMs: positiveInt
      .max(60_000)
      .default(5_000)
      .describe("Time limit of one URL's preview fetch (DNS, redirects, body), in ms."),
    maxBytes: positiveInt
      .max(16 * 1024 * 1024)
      .default(512 * 1024)
      .describe("Bytes of a page read for its preview metadata (the rest is never downloaded)."),
    maxPerMessage: z.coerce
      .number()
      .int()
      .min(0)
      .max(10)
      .default(5)
      .describe("Links of one message that get a preview, in order of appearance."),
    concurrency: positiveInt
      .max(256)
      .default(8)
      .describe("Preview fetches in flight at once in one process."),
    allowedPorts: z
      .string()
      .default("80,443")
      .refine(
        (value) => /^\d{1,5}(,\d{1,5})*$/.test(value) && value.split(",").every((p) => Number(p) <= 65_535),
        {
          message: "must be a comma list of ports (80,443)",
        },
      )
      .describe("Destination ports a preview fetch may connect to (comma list)."),
    oembedYoutube: z.string().default("").describe("YouTube oEmbed endpoint; empty for the provider's own."),
    oembedSpotify: z.string().default("").describe("Spotify oEmbed endpoint; empty for the provider's own."),
    oembedTwitter: z
      .string()
      .default("")
      .describe("Twitter/X oEmbed endpoint; empty for the provider's own."),
    allowPrivateAddressesForTests: z
      .string()
      .default("")
      .refine(
        (value) =>
          value === "" ||
          value
            .split(",")
            .map((address) => address.trim())
            .every((address) => isIP(address) !== 0),
        { message: "must be a comma list of IP addresses" },
      )
      .describe(
        "TEST-ONLY, never set in production: exact IP addresses (e.g. 127.0.0.1) preview fetches may connect to although they are private or loopback, so tests can serve pages locally. Empty (the default) allows none.",
      ),
  }),
  graphql: z.strictObject({
    maxDepth: positiveInt.max(50).default(12).describe("Deepest selection a GraphQL operation may have."),
    maxAliases: positiveInt.max(100).default(15).describe("Aliases allowed in one GraphQL operation."),
    maxCost: positiveInt.default(5_000).describe("Highest estimated cost of one GraphQL operation."),
    maxTokens: positiveInt.default(2_000).describe("Most tokens a GraphQL document may have."),
    maxDirectives: positiveInt.default(20).describe("Most directives a GraphQL operation may use."),
  }),
  gateway: z.strictObject({
    maxConnectionsPerUser: positiveInt
      .default(20)
      .describe("WebSocket connections one user may hold on one gateway node."),
    replayWindowEvents: positiveInt
      .max(10_000_000)
      .default(100_000)
      .describe("Recent routed events each gateway node keeps so `events(since:)` can resume without a gap."),
    replayWindowSeconds: positiveInt
      .max(86_400)
      .default(300)
      .describe(
        "Oldest routed event (seconds) a gateway node keeps for resume; older `since` gets ResyncRequired.",
      ),
    maxSocketBufferBytes: positiveInt
      .default(4 * 1024 * 1024)
      .describe("Unsent bytes one WebSocket may queue; beyond that it is closed with 4008 (slow consumer)."),
    inboundMessagesPerWindow: positiveInt
      .default(100)
      .describe("WebSocket messages one socket may send per window; beyond that it is closed with 4029."),
    inboundWindowSeconds: positiveInt
      .max(3_600)
      .default(10)
      .describe("Length of the inbound message window of `gateway.inboundMessagesPerWindow`."),
  }),
});

/** The validated configuration. */
export type BeepConfig = z.infer<typeof configSchema>;
