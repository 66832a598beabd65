import { z } from "zod";

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
  }),
  users: z.strictObject({
    maxPictureBytes: positiveInt
      .max(64 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe("Largest profile picture or banner upload, in bytes (the gateway stops reading past it)."),
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
  }),
});

/** The validated configuration. */
export type BeepConfig = z.infer<typeof configSchema>;
