import { type Logger, redactUrl } from "@beep/observability";
import type { Bus } from "./bus.ts";
import { MemoryBus } from "./memory.bus.ts";
import { openNatsBus } from "./nats.bus.ts";

/** Options for {@link openBus}; driver-specific keys are ignored by drivers that do not use them. */
export interface OpenBusOptions {
  /** Logger for delivery failures and connection changes. */
  logger: Logger;
  /** Process/service name (NATS connection name; recorded on consumers it creates). */
  name: string;
  /** NATS: subject/stream namespace; default `beep`. Tests pass a unique one. */
  prefix?: string;
  /** NATS: stream retention for durable groups; default 7 days. */
  maxAgeMs?: number;
  /** NATS: window in which a republished event id is dropped; default 2 minutes. */
  duplicateWindowMs?: number;
}

/** URL schemes {@link openBus} understands. */
export const BUS_SCHEMES = ["memory://", "nats://host:port"] as const;

/** Opens the bus driver chosen by the URL scheme: `memory://` or `nats://host:port`. */
export async function openBus(url: string, options: OpenBusOptions): Promise<Bus> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "memory") return new MemoryBus(options.logger);
  if (scheme === "nats") {
    try {
      return await openNatsBus(url, options);
    } catch (err) {
      throw new Error(`open bus ${redactUrl(url)}`, { cause: err });
    }
  }
  throw new Error(
    `unknown bus URL ${JSON.stringify(redactUrl(url))}: valid schemes are ${BUS_SCHEMES.join(", ")}`,
  );
}
