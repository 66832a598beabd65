/** What a module's `init` may return: its value plus optional lifecycle hooks. */
export interface ModuleInstance<T = unknown> {
  /** What dependants receive from `k.get(name)`. */
  value: T;
  /** Begin serving (listen, consume); called after every dependency started. */
  start?(): Promise<void>;
  /** Stop accepting work, drain, close; called in reverse dependency order. */
  stop?(): Promise<void>;
  /** Throws when something this module depends on (a database, a broker) is unreachable. */
  ready?(): Promise<void>;
}

/** What `init` can see: its declared dependencies and a way to fail the process. */
export interface ModuleContext {
  /** The value of a dependency; only names listed in `deps` are allowed. */
  get<T>(name: string): T;
  /** The targets this process runs (after expanding `all`). */
  readonly targets: ReadonlySet<string>;
  /** Reports a fatal runtime failure: the kernel stops every module and the process exits non-zero. */
  fail(error: Error): void;
}

/** A module declared as data: a name, its dependencies and one init function. */
export interface ModuleDefinition<T = unknown> {
  name: string;
  deps: readonly string[];
  /** A target users may name with `--target`; internal modules (db, bus) are pulled in by dependency only. */
  target?: boolean;
  init(k: ModuleContext): Promise<ModuleInstance<T>>;
}

/** Declares a module; exists for type inference and to keep module files uniform. */
export function defineModule<T>(definition: ModuleDefinition<T>): ModuleDefinition<T> {
  return definition;
}
