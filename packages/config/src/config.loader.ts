import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { type ZodType, z } from "zod";
import { type BeepConfig, configSchema } from "./config.schema.ts";

/** A configuration leaf as `beep config defaults` shows it. */
export interface ConfigKey {
  /** Dotted path, e.g. `database.url`. */
  path: string;
  /** Environment variable that sets it. */
  env: string;
  /** The default value. */
  defaultValue: unknown;
  /** One-line documentation. */
  doc: string;
  /** Never printed when true. */
  secret: boolean;
}

/** Thrown for a configuration that cannot start Beep; the message names every bad key. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where configuration comes from, lowest precedence first. */
export interface ConfigSources {
  /** Path of a YAML or JSON config file; optional. */
  file?: string;
  /** The environment; `BEEP_*` variables override the file. */
  env?: NodeJS.ProcessEnv;
}

function toEnvName(path: string): string {
  return `BEEP_${path
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/\./g, "_")
    .toUpperCase()}`;
}

function unwrapDefault(schema: ZodType): { inner: ZodType; defaultValue: unknown } {
  const def = schema.def as { type: string; defaultValue?: unknown; innerType?: ZodType };
  if (def.type === "default") return { inner: def.innerType as ZodType, defaultValue: def.defaultValue };
  return { inner: schema, defaultValue: undefined };
}

/** Every leaf of the schema with its env name, default and doc, in schema order. */
export function listConfigKeys(): ConfigKey[] {
  const keys: ConfigKey[] = [];
  const walk = (schema: ZodType, path: string[]): void => {
    const { inner, defaultValue } = unwrapDefault(schema);
    if (inner instanceof z.ZodObject && defaultValue === undefined) {
      for (const [name, child] of Object.entries(inner.shape)) walk(child as ZodType, [...path, name]);
      return;
    }
    const meta = (schema.meta() ?? {}) as { description?: string; secret?: boolean };
    const dotted = path.join(".");
    keys.push({
      path: dotted,
      env: toEnvName(dotted),
      defaultValue,
      doc: meta.description ?? schema.description ?? "",
      secret: meta.secret === true,
    });
  };
  walk(configSchema, []);
  return keys;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${file}: ${(cause as Error).message}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping of keys`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Loads the configuration: defaults < config file < `BEEP_*` environment.
 * Throws a {@link ConfigError} naming each bad key and its source; never
 * echoes a secret's value.
 */
export function loadConfig(sources: ConfigSources = {}): BeepConfig {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.BEEP_CONFIG_FILE;
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  const known = new Map(listConfigKeys().map((key) => [key.env, key]));
  // Groups left out of the file still need an object for their defaults to apply.
  for (const key of known.values()) {
    let node = raw;
    for (const part of key.path.split(".").slice(0, -1)) {
      if (node[part] === undefined) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
  }
  const origin = new Map<string, string>();
  for (const key of known.values()) origin.set(key.path, file ? `config file ${file}` : "default");
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("BEEP_") || name === "BEEP_CONFIG_FILE" || value === undefined) continue;
    const key = known.get(name);
    // Unknown BEEP_ variables are almost always typos; failing loudly beats silently ignoring them.
    if (!key) {
      if (name.startsWith("BEEP_TEST_")) continue;
      throw new ConfigError(`unknown environment variable ${name}: no configuration key uses it`);
    }
    setPath(raw, key.path, value);
    origin.set(key.path, `environment ${name}`);
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const secretPaths = new Set(
    listConfigKeys()
      .filter((key) => key.secret)
      .map((key) => key.path),
  );
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.join(".");
    const from = origin.get(path) ?? (file ? `config file ${file}` : "input");
    const message = secretPaths.has(path) ? issue.message.replace(/"[^"]*"/g, "[secret]") : issue.message;
    return `  ${path} (${from}): ${message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}

/** The configuration as printable lines, secrets masked. */
export function describeConfig(config: BeepConfig): string[] {
  return listConfigKeys().map((key) => {
    let value: unknown = config;
    for (const part of key.path.split(".")) value = (value as Record<string, unknown>)[part];
    const shown =
      key.secret && value !== "" && value !== key.defaultValue ? "[secret]" : JSON.stringify(value);
    return `${key.path} = ${shown}`;
  });
}
