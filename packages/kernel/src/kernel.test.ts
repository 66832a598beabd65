import { createLogger } from "@beep/observability";
import { describe, expect, it } from "vitest";
import { Kernel } from "./kernel.ts";
import { defineModule, type ModuleDefinition } from "./module.ts";

const logger = createLogger({ service: "test", level: "silent" });

function recordingGraph(events: string[], failing?: string): ModuleDefinition[] {
  const mod = (name: string, deps: string[], target = false) =>
    defineModule({
      name,
      deps,
      target,
      async init(k) {
        for (const dep of deps) events.push(`${name} sees ${k.get<string>(dep)}`);
        if (name === failing) throw new Error(`${name} is broken`);
        return {
          value: `${name}-value`,
          start: async () => void events.push(`start ${name}`),
          stop: async () => void events.push(`stop ${name}`),
        };
      },
    });
  return [
    mod("db", []),
    mod("bus", []),
    mod("users", ["db", "bus"], true),
    mod("gateway", ["users", "bus"], true),
  ];
}

describe("Kernel", () => {
  it("lists targets and expands all and comma lists", () => {
    const kernel = new Kernel(recordingGraph([]), logger);
    expect(kernel.listTargets()).toEqual(["all", "gateway", "users"]);
    expect([...kernel.resolveTargets("all")].sort()).toEqual(["gateway", "users"]);
    expect([...kernel.resolveTargets("users, gateway")].sort()).toEqual(["gateway", "users"]);
    expect(() => kernel.resolveTargets("user")).toThrow(
      /unknown target "user"; valid targets: all, gateway, users/,
    );
    expect(() => kernel.resolveTargets("db")).toThrow(/unknown target "db"/);
  });

  it("starts only what a target needs, in dependency order, and stops in reverse", async () => {
    const events: string[] = [];
    const kernel = new Kernel(recordingGraph(events), logger);
    await kernel.start(kernel.resolveTargets("users"));
    expect(events).toEqual([
      "start db",
      "start bus",
      "users sees db-value",
      "users sees bus-value",
      "start users",
    ]);
    expect(await kernel.readiness()).toEqual([]);
    events.length = 0;
    await kernel.stop();
    expect(events).toEqual(["stop users", "stop bus", "stop db"]);
    expect(await kernel.readiness()).not.toEqual([]);
  });

  it("stops what started when one module fails to start", async () => {
    const events: string[] = [];
    const kernel = new Kernel(recordingGraph(events, "gateway"), logger);
    await expect(kernel.start(kernel.resolveTargets("all"))).rejects.toThrow(
      /module gateway failed to start/,
    );
    expect(events.filter((e) => e.startsWith("stop"))).toEqual(["stop users", "stop bus", "stop db"]);
    expect(kernel.isAlive()).toBe(false);
  });

  it("stops everything when a running module fails", async () => {
    let failNow: ((error: Error) => void) | undefined;
    const stopped: string[] = [];
    const kernel = new Kernel(
      [
        defineModule({
          name: "a",
          deps: [],
          async init() {
            return { value: 1, stop: async () => void stopped.push("a") };
          },
        }),
        defineModule({
          name: "b",
          deps: ["a"],
          target: true,
          async init(k) {
            failNow = k.fail;
            return { value: 2, stop: async () => void stopped.push("b") };
          },
        }),
      ],
      logger,
    );
    await kernel.start(kernel.resolveTargets("b"));
    const failed = new Promise<Error>((resolve) => kernel.onFailure(resolve));
    failNow?.(new Error("lost connection"));
    expect((await failed).message).toMatch(/module b failed: lost connection/);
    expect(stopped).toEqual(["b", "a"]);
  });

  it("reports readiness failures by module", async () => {
    const kernel = new Kernel(
      [
        defineModule({
          name: "db",
          deps: [],
          target: true,
          async init() {
            return {
              value: null,
              ready: async () => {
                throw new Error("connection refused");
              },
            };
          },
        }),
      ],
      logger,
    );
    await kernel.start(kernel.resolveTargets("all"));
    expect(await kernel.readiness()).toEqual([{ module: "db", error: "connection refused" }]);
    await kernel.stop();
  });

  it("refuses cycles, unknown deps and undeclared gets", async () => {
    const mod = (name: string, deps: string[]) =>
      defineModule({ name, deps, target: true, init: async () => ({ value: name }) });
    expect(() => new Kernel([mod("a", ["b"]), mod("b", ["a"])], logger)).toThrow(/cycle: a -> b -> a/);
    expect(() => new Kernel([mod("a", ["zzz"])], logger)).toThrow(/unknown module zzz/);
    const sneaky = new Kernel(
      [
        mod("a", []),
        defineModule({
          name: "b",
          deps: [],
          target: true,
          async init(k) {
            return { value: k.get("a") };
          },
        }),
      ],
      logger,
    );
    await expect(sneaky.start(sneaky.resolveTargets("b"))).rejects.toThrow(/not in its deps/);
  });
});
