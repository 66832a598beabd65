import type { Logger } from "@beep/observability";
import type { ModuleContext, ModuleDefinition, ModuleInstance } from "./module.ts";

/** Name of the target that means "every target". */
export const ALL_TARGET = "all";

/** Thrown for a `--target` list or module graph that cannot run. */
export class KernelError extends Error {
  override name = "KernelError";
}

type Phase = "idle" | "starting" | "running" | "stopping" | "stopped" | "failed";

/**
 * Runs a module graph: resolves the requested targets to the modules they
 * need, starts them in dependency order and stops them in reverse. One failed
 * module stops the whole process, as in Loki's single binary.
 */
export class Kernel {
  private readonly modules = new Map<string, ModuleDefinition>();
  private readonly started: Array<{ name: string; instance: ModuleInstance }> = [];
  private readonly values = new Map<string, unknown>();
  private phase: Phase = "idle";
  private failure: Error | undefined;
  private stopPromise: Promise<void> | undefined;
  private readonly failureListeners: Array<(error: Error) => void> = [];

  constructor(
    definitions: readonly ModuleDefinition[],
    private readonly logger: Logger,
  ) {
    for (const definition of definitions) {
      if (this.modules.has(definition.name))
        throw new KernelError(`module ${definition.name} is declared twice`);
      this.modules.set(definition.name, definition);
    }
    for (const definition of definitions) {
      for (const dep of definition.deps) {
        if (!this.modules.has(dep))
          throw new KernelError(`module ${definition.name} depends on unknown module ${dep}`);
      }
    }
    this.topologicalOrder([...this.modules.keys()]);
  }

  /** Names users may pass to `--target`, sorted, plus `all`. */
  listTargets(): string[] {
    const names = [...this.modules.values()].filter((m) => m.target).map((m) => m.name);
    return [ALL_TARGET, ...names.sort()];
  }

  /** Expands a `--target` value (comma list, `all`) to target names; unknown names are an error. */
  resolveTargets(value: string): Set<string> {
    const requested = value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
    if (requested.length === 0) throw new KernelError("--target is empty");
    const valid = this.listTargets();
    const targets = new Set<string>();
    for (const name of requested) {
      if (!valid.includes(name))
        throw new KernelError(`unknown target "${name}"; valid targets: ${valid.join(", ")}`);
      if (name === ALL_TARGET) for (const t of valid.slice(1)) targets.add(t);
      else targets.add(name);
    }
    return targets;
  }

  /** Modules needed by the targets, dependencies first. */
  plan(targets: ReadonlySet<string>): string[] {
    const needed = new Set<string>();
    const visit = (name: string): void => {
      if (needed.has(name)) return;
      needed.add(name);
      for (const dep of this.definition(name).deps) visit(dep);
    };
    for (const target of targets) visit(target);
    return this.topologicalOrder([...needed]);
  }

  /** Initialises and starts every module the targets need; on any failure stops what started and rethrows. */
  async start(targets: ReadonlySet<string>): Promise<void> {
    if (this.phase !== "idle") throw new KernelError(`kernel cannot start while ${this.phase}`);
    this.phase = "starting";
    const values = this.values;
    for (const name of this.plan(targets)) {
      if (this.failure) break;
      const definition = this.definition(name);
      const context: ModuleContext = {
        targets,
        get: <T>(dep: string): T => {
          if (!definition.deps.includes(dep)) {
            throw new KernelError(`module ${name} asked for ${dep}, which is not in its deps`);
          }
          return values.get(dep) as T;
        },
        fail: (error) => this.fail(name, error),
      };
      const began = performance.now();
      try {
        const instance = await definition.init(context);
        this.started.push({ name, instance });
        await instance.start?.();
        values.set(name, instance.value);
      } catch (cause) {
        const error = new KernelError(`module ${name} failed to start: ${(cause as Error).message}`, {
          cause,
        });
        this.logger.error({ module: name, err: cause }, "module failed to start");
        this.phase = "failed";
        await this.stopStarted();
        throw error;
      }
      this.logger.debug(
        { module: name, duration_ms: Math.round(performance.now() - began) },
        "module started",
      );
    }
    if (this.failure) {
      await this.stop();
      throw new KernelError(`a module failed during start-up: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
    this.phase = "running";
  }

  /** Stops every started module in reverse order; safe to call more than once. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      if (this.phase !== "failed") this.phase = "stopping";
      await this.stopStarted();
      if (this.phase === "stopping") this.phase = "stopped";
    })();
    return this.stopPromise;
  }

  /** The value of a started module, for the binary's own wiring (metrics, health); undefined if not started. */
  value<T>(name: string): T | undefined {
    return this.values.get(name) as T | undefined;
  }

  /** Alive: the process runs and has not failed. */
  isAlive(): boolean {
    return this.phase !== "failed";
  }

  /** Ready: every module started and each one's dependencies answer. Resolves to the failures, empty when ready. */
  async readiness(): Promise<Array<{ module: string; error: string }>> {
    if (this.phase !== "running") return [{ module: "kernel", error: `kernel is ${this.phase}` }];
    const checks = this.started.map(async ({ name, instance }) => {
      try {
        await instance.ready?.();
        return undefined;
      } catch (error) {
        return { module: name, error: (error as Error).message };
      }
    });
    return (await Promise.all(checks)).filter((result) => result !== undefined);
  }

  /** Registers a listener for a fatal module failure (the binary exits on it). */
  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  private fail(name: string, error: Error): void {
    if (this.failure) return;
    this.failure = new KernelError(`module ${name} failed: ${error.message}`, { cause: error });
    this.logger.error({ module: name, err: error }, "module failed; stopping");
    if (this.phase === "running") {
      this.phase = "failed";
      void this.stopStarted().then(() => {
        for (const listener of this.failureListeners) listener(this.failure as Error);
      });
    }
  }

  private async stopStarted(): Promise<void> {
    while (this.started.length > 0) {
      const { name, instance } = this.started.pop() as { name: string; instance: ModuleInstance };
      try {
        await instance.stop?.();
        this.logger.debug({ module: name }, "module stopped");
      } catch (error) {
        // Keep stopping the rest: one module that fails to close must not leave others running.
        this.logger.error({ module: name, err: error }, "module failed to stop");
      }
    }
  }

  private definition(name: string): ModuleDefinition {
    const definition = this.modules.get(name);
    if (!definition) throw new KernelError(`unknown module ${name}`);
    return definition;
  }

  private topologicalOrder(names: string[]): string[] {
    const order: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, path: string[]): void => {
      const seen = state.get(name);
      if (seen === "done") return;
      if (seen === "visiting")
        throw new KernelError(`module dependency cycle: ${[...path, name].join(" -> ")}`);
      state.set(name, "visiting");
      for (const dep of this.definition(name).deps) visit(dep, [...path, name]);
      state.set(name, "done");
      order.push(name);
    };
    for (const name of names) visit(name, []);
    return order;
  }
}
