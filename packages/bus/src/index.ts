export type {
  Bus,
  BusEvent,
  BusSubscription,
  DurableHandler,
  FanoutHandler,
  FollowHandler,
  FollowSubscription,
} from "./bus.ts";
export { processOnce, pruneInbox } from "./inbox-process-once.ts";
export { MemoryBus } from "./memory.bus.ts";
export { NatsBus, type NatsBusOptions, natsStreamName, openNatsBus } from "./nats.bus.ts";
export { BUS_SCHEMES, type OpenBusOptions, openBus } from "./open-bus.ts";
export { inboxMigration, outboxChannel, outboxMigration } from "./outbox.migrations.ts";
export { OutboxRelay, type OutboxRelayOptions } from "./outbox.relay.ts";
export { type OutboxEventInput, type OutboxRow, outboxRows, writeOutbox } from "./outbox-write.ts";
export { matchesPattern } from "./subject-pattern.ts";
