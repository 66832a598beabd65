import { newId } from "@beep/ids";
import { afterEach, describe, expect, it } from "vitest";
import type { Bus, BusEvent } from "./bus.ts";

/** Builds a fresh, isolated bus for one test (its own stream/prefix for networked drivers). */
export type BusFactory = () => Promise<Bus>;

/** Options of {@link describeBusConformance}. */
export interface BusConformanceOptions {
  /** How long "nothing more arrives" checks wait; networked drivers need more. Default 300 ms. */
  quietMs?: number;
  /**
   * Opens a second handle on the same bus as `bus` (NATS: another connection with
   * the same prefix, as another process would); default: `bus` itself (memory).
   */
  openPeer?: (bus: Bus) => Promise<Bus>;
}

/** Builds a bus event with a fresh id. */
export function testEvent(type: string, payload: unknown = {}): BusEvent {
  return { id: newId(), type, occurredAt: new Date().toISOString(), payload };
}

/** Polls `condition` until it holds or `timeoutMs` passes. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Defines the port's conformance tests for a driver. Every driver must pass
 * them unchanged; that is what keeps the memory driver an honest stand-in.
 */
export function describeBusConformance(
  name: string,
  factory: BusFactory,
  options: BusConformanceOptions = {},
): void {
  const quietMs = options.quietMs ?? 300;
  const open: Bus[] = [];
  const make = async (): Promise<Bus> => {
    const bus = await factory();
    open.push(bus);
    return bus;
  };
  const peerOf = async (bus: Bus): Promise<Bus> => {
    const peer = options.openPeer ? await options.openPeer(bus) : bus;
    if (peer !== bus) open.push(peer);
    return peer;
  };
  const followLog = async (bus: Bus, patterns: string[] = [">"]) => {
    const seen: { id: string; type: string; position: string }[] = [];
    const subscription = await bus.follow(patterns, (e, position) =>
      seen.push({ id: e.id, type: e.type, position }),
    );
    return { seen, subscription };
  };

  describe(`bus conformance: ${name}`, () => {
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it("answers ping while open and refuses it once closed", async () => {
      const bus = await factory();
      await expect(bus.ping()).resolves.toBeUndefined();
      await bus.close();
      await expect(bus.ping()).rejects.toThrow(/closed/);
    });

    it("delivers a published event to a consumer, unchanged", async () => {
      const bus = await make();
      const got: BusEvent[] = [];
      await bus.consume("g1", ["user.created"], async (e) => {
        got.push(e);
      });
      const sent = {
        ...testEvent("user.created", { userId: "42", tags: ["a"] }),
        traceparent: "00-abc-def-01",
      };
      await bus.publish(sent);
      await waitUntil(() => got.length === 1, 10_000, "delivery");
      expect(got[0]).toEqual(sent);
      await sleep(quietMs);
      expect(got).toHaveLength(1);
    });

    it("competing consumers in one group get each event exactly once", async () => {
      const bus = await make();
      const seen: string[] = [];
      const byMember = [0, 0];
      for (const m of [0, 1]) {
        await bus.consume("workers", ["job.*"], async (e) => {
          byMember[m]! += 1;
          seen.push(e.id);
          await sleep(2);
        });
      }
      const sent = Array.from({ length: 40 }, (_, i) => testEvent("job.run", { i }));
      for (const e of sent) await bus.publish(e);
      await waitUntil(() => seen.length >= sent.length, 15_000, "all jobs");
      await sleep(quietMs);
      expect(seen.sort()).toEqual(sent.map((e) => e.id).sort());
      expect(byMember[0]! + byMember[1]!).toBe(sent.length);
    });

    it("two groups each get every event", async () => {
      const bus = await make();
      const a: string[] = [];
      const b: string[] = [];
      await bus.consume("group-a", ["order.*"], async (e) => void a.push(e.id));
      await bus.consume("group-b", ["order.*"], async (e) => void b.push(e.id));
      const sent = [testEvent("order.placed"), testEvent("order.paid"), testEvent("order.shipped")];
      for (const e of sent) await bus.publish(e);
      await waitUntil(() => a.length === 3 && b.length === 3, 10_000, "both groups");
      await sleep(quietMs);
      expect(a).toEqual(sent.map((e) => e.id));
      expect(b).toEqual(sent.map((e) => e.id));
    });

    it("redelivers an event whose handler threw, then stops once it resolves", async () => {
      const bus = await make();
      const attempts: string[] = [];
      await bus.consume("flaky", ["mail.send"], async (e) => {
        attempts.push(e.id);
        if (attempts.length === 1) throw new Error("transient failure (expected by the test)");
      });
      const sent = testEvent("mail.send");
      await bus.publish(sent);
      await waitUntil(() => attempts.length === 2, 10_000, "redelivery");
      await sleep(quietMs);
      expect(attempts).toEqual([sent.id, sent.id]);
    });

    it("matches `*` as one token and `>` as the rest", async () => {
      const bus = await make();
      const star: string[] = [];
      const all: string[] = [];
      await bus.consume("star", ["user.*"], async (e) => void star.push(e.type));
      await bus.consume("all", [">"], async (e) => void all.push(e.type));
      for (const t of ["user.created", "user.profile.updated", "server.created", "user.deleted"]) {
        await bus.publish(testEvent(t));
      }
      await waitUntil(() => all.length === 4 && star.length === 2, 10_000, "wildcards");
      await sleep(quietMs);
      expect(star).toEqual(["user.created", "user.deleted"]);
      expect(all).toEqual(["user.created", "user.profile.updated", "server.created", "user.deleted"]);
    });

    it("delivers an event matching several patterns of one group once, in publish order", async () => {
      const bus = await make();
      const got: string[] = [];
      await bus.consume("multi", ["user.*", "*.created", "server.>"], async (e) => void got.push(e.type));
      const types = ["user.created", "room.created", "server.role.updated", "room.deleted", "user.deleted"];
      for (const t of types) await bus.publish(testEvent(t));
      await waitUntil(() => got.length >= 4, 10_000, "multi-pattern delivery");
      await sleep(quietMs);
      expect(got).toEqual(["user.created", "room.created", "server.role.updated", "user.deleted"]);
    });

    it("keeps publish order within a group", async () => {
      const bus = await make();
      const got: number[] = [];
      await bus.consume("ordered", ["seq.*"], async (e) => void got.push((e.payload as { i: number }).i));
      const n = 100;
      for (let i = 0; i < n; i++) await bus.publish(testEvent("seq.tick", { i }));
      await waitUntil(() => got.length === n, 15_000, "ordered delivery");
      expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    });

    it("fans out to every subscriber", async () => {
      const bus = await make();
      const a: string[] = [];
      const b: string[] = [];
      await bus.subscribe(["typing.*"], (e) => void a.push(e.id));
      await bus.subscribe(["typing.started", "typing.*"], (e) => void b.push(e.id));
      const sent = [testEvent("typing.started"), testEvent("typing.stopped")];
      for (const e of sent) await bus.publish(e);
      await waitUntil(() => a.length === 2 && b.length === 2, 10_000, "fan-out");
      await sleep(quietMs);
      expect(a.sort()).toEqual(sent.map((e) => e.id).sort());
      expect(b.sort()).toEqual(sent.map((e) => e.id).sort());
    });

    it("does not replay earlier events to a late fan-out subscriber", async () => {
      const bus = await make();
      const early: string[] = [];
      await bus.subscribe([">"], (e) => void early.push(e.id));
      const before = testEvent("presence.updated");
      await bus.publish(before);
      await waitUntil(() => early.length === 1, 10_000, "early subscriber");
      const late: string[] = [];
      await bus.subscribe([">"], (e) => void late.push(e.id));
      const after = testEvent("presence.updated");
      await bus.publish(after);
      await waitUntil(() => late.length === 1, 10_000, "late subscriber");
      await sleep(quietMs);
      expect(late).toEqual([after.id]);
    });

    it("survives a throwing fan-out handler", async () => {
      const bus = await make();
      const got: string[] = [];
      await bus.subscribe(["x.*"], () => {
        throw new Error("subscriber bug (expected by the test)");
      });
      await bus.subscribe(["x.*"], (e) => void got.push(e.id));
      await bus.publish(testEvent("x.a"));
      await bus.publish(testEvent("x.b"));
      await waitUntil(() => got.length === 2, 10_000, "healthy subscriber");
    });

    it("stops delivery after a consumer closes and keeps the group's events for its next member", async () => {
      const bus = await make();
      const first: string[] = [];
      const sub = await bus.consume("closing", ["note.*"], async (e) => void first.push(e.id));
      const e1 = testEvent("note.a");
      await bus.publish(e1);
      await waitUntil(() => first.length === 1, 10_000, "first delivery");
      await sub.close();
      const e2 = testEvent("note.b");
      await bus.publish(e2);
      await sleep(quietMs);
      expect(first).toEqual([e1.id]);
      const second: string[] = [];
      await bus.consume("closing", ["note.*"], async (e) => void second.push(e.id));
      await waitUntil(() => second.length === 1, 10_000, "delivery to the next member");
      expect(second).toEqual([e2.id]);
    });

    it("waits for a running handler when a consumer closes", async () => {
      const bus = await make();
      let finished = false;
      let started = false;
      const sub = await bus.consume("slow", ["slow.*"], async () => {
        started = true;
        await sleep(200);
        finished = true;
      });
      await bus.publish(testEvent("slow.job"));
      await waitUntil(() => started, 10_000, "handler start");
      await sub.close();
      expect(finished).toBe(true);
    });

    it("stops fan-out after a subscription closes", async () => {
      const bus = await make();
      const got: string[] = [];
      const sub = await bus.subscribe(["y.*"], (e) => void got.push(e.id));
      await sub.close();
      await bus.publish(testEvent("y.a"));
      await sleep(quietMs);
      expect(got).toEqual([]);
    });

    it("follow: positions strictly increasing and gap-free over what was published, in publish order", async () => {
      const bus = await make();
      const { seen, subscription } = await followLog(bus);
      const start = Number(subscription.startPosition);
      expect(Number.isSafeInteger(start) && start >= 0).toBe(true);
      const sent = Array.from({ length: 30 }, (_, i) => testEvent(`log.e${i % 3}`, { i }));
      for (const e of sent) await bus.publish(e);
      await waitUntil(() => seen.length === sent.length, 10_000, "followed events");
      await sleep(quietMs);
      expect(seen.map((s) => s.id)).toEqual(sent.map((e) => e.id));
      expect(seen.map((s) => s.position)).toEqual(sent.map((_, i) => String(start + i + 1)));
    });

    it("follow: a later follower starts after the events already in the log, and patterns filter", async () => {
      const bus = await make();
      const first = await followLog(bus);
      await bus.publish(testEvent("log.before"));
      await waitUntil(() => first.seen.length === 1, 10_000, "first follower");
      const second = await followLog(bus, ["log.after"]);
      expect(second.subscription.startPosition).toBe(first.seen[0]!.position);
      await bus.publish(testEvent("log.other"));
      const after = testEvent("log.after");
      await bus.publish(after);
      await waitUntil(() => second.seen.length === 1 && first.seen.length === 3, 10_000, "both followers");
      await sleep(quietMs);
      expect(second.seen).toEqual([{ id: after.id, type: "log.after", position: first.seen[2]!.position }]);
      await second.subscription.close();
      await bus.publish(testEvent("log.after"));
      await waitUntil(() => first.seen.length === 4, 10_000, "first follower after close");
      await sleep(quietMs);
      expect(second.seen).toHaveLength(1);
    });

    it("follow: two followers (two processes) see the same positions for events published by both", async () => {
      const bus = await make();
      const peer = await peerOf(bus);
      const a = await followLog(bus);
      const b = await followLog(peer);
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const e = testEvent("shared.tick", { i });
        sent.push(e.id);
        await (i % 2 === 0 ? bus : peer).publish(e);
      }
      await waitUntil(() => a.seen.length === 20 && b.seen.length === 20, 10_000, "both followers");
      await sleep(quietMs);
      expect(a.seen).toEqual(b.seen);
      expect(a.seen.map((s) => s.id)).toEqual(sent);
      const positions = a.seen.map((s) => Number(s.position));
      for (let i = 1; i < positions.length; i++) expect(positions[i]).toBe(positions[i - 1]! + 1);
    });

    it("ephemeral events reach subscribeEphemeral in every process, never consume/follow/subscribe, and are not stored", async () => {
      const bus = await make();
      const peer = await peerOf(bus);
      const consumed: string[] = [];
      await bus.consume("eph", [">"], async (e) => void consumed.push(e.id));
      const followed = await followLog(bus);
      const fanned: string[] = [];
      await bus.subscribe([">"], (e) => void fanned.push(e.id));
      const ephemeral: string[] = [];
      await peer.subscribeEphemeral(["typing.*"], (e) => void ephemeral.push(e.id));
      const typing = testEvent("typing.started", { channelId: "1" });
      await bus.broadcast(typing);
      await waitUntil(() => ephemeral.length === 1, 10_000, "ephemeral delivery");
      const durable = testEvent("typing.stored");
      await bus.publish(durable);
      await waitUntil(
        () => consumed.length === 1 && followed.seen.length === 1 && fanned.length === 1,
        10_000,
        "durable delivery",
      );
      await sleep(quietMs);
      expect(ephemeral).toEqual([typing.id]);
      expect(consumed).toEqual([durable.id]);
      expect(fanned).toEqual([durable.id]);
      // Not stored: the durable event takes the very next position.
      expect(followed.seen).toEqual([
        {
          id: durable.id,
          type: "typing.stored",
          position: String(Number(followed.subscription.startPosition) + 1),
        },
      ]);
    });

    it("rejects invalid types, patterns and groups, and use after close", async () => {
      const bus = await make();
      await expect(bus.publish(testEvent("bad.*"))).rejects.toThrow(/invalid event type/);
      await expect(bus.consume("g", ["a..b"], async () => {})).rejects.toThrow(/invalid event pattern/);
      await expect(bus.consume("no.dots", ["a"], async () => {})).rejects.toThrow(/invalid consumer group/);
      await expect(bus.subscribe([], () => {})).rejects.toThrow(/at least one/);
      await expect(bus.follow([], () => {})).rejects.toThrow(/at least one/);
      await expect(bus.broadcast(testEvent("bad.*"))).rejects.toThrow(/invalid event type/);
      await bus.close();
      await expect(bus.publish(testEvent("a.b"))).rejects.toThrow(/closed/);
    });
  });
}
