import { hostname } from "node:os";
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Service (target) name written in every line's `service` field. */
  service: string;
  /** Minimum level; defaults to `info`. */
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

// Keys whose values must never reach a log line, wherever they are nested.
const REDACTED_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "secret",
  "*.secret",
];

/**
 * JSON logger in the seeds' format: one object per line with `level`,
 * `timestamp`, `service`, `container_id`, `message`, plus fields.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      messageKey: "message",
      base: { service: options.service, container_id: process.env.HOSTNAME ?? hostname() },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
