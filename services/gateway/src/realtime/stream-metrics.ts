import type { Metrics } from "@beep/observability";
import { Counter } from "prom-client";
import type { StreamHubMetrics } from "./stream-hub.ts";

/** Prometheus counters of the stream hub and the WebSocket guards, on the process registry. */
export function streamHubMetrics(metrics: Metrics): {
  metrics: StreamHubMetrics;
  inboundRateLimited: () => void;
} {
  const registers = [metrics.registry];
  const deliveries = new Counter({
    name: "gateway_event_deliveries_total",
    help: "Frames of the events stream written to sockets (rate = deliveries/s)",
    registers,
  });
  const executions = new Counter({
    name: "gateway_event_executions_total",
    help: "Executions of an events selection (one per group of equal subscriptions per event)",
    registers,
  });
  const resyncs = new Counter({
    name: "gateway_event_resyncs_total",
    help: "Streams that started with ResyncRequired, by reason",
    labelNames: ["reason"],
    registers,
  });
  const slowConsumers = new Counter({
    name: "gateway_slow_consumer_disconnects_total",
    help: "WebSockets closed with 4008 because their unsent data exceeded gateway.maxSocketBufferBytes",
    registers,
  });
  const rateLimited = new Counter({
    name: "gateway_inbound_rate_limited_total",
    help: "WebSockets closed with 4029 for sending too many messages",
    registers,
  });
  return {
    metrics: {
      delivered: (frames) => deliveries.inc(frames),
      executed: () => executions.inc(),
      resync: (reason) => resyncs.inc({ reason }),
      slowConsumer: () => slowConsumers.inc(),
    },
    inboundRateLimited: () => rateLimited.inc(),
  };
}
