import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, listConfigKeys, loadConfig } from "./config.loader.ts";

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "beep-config-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadConfig", () => {
  it("gives every key a default and a doc line", () => {
    const config = loadConfig({ env: {} });
    expect(config.http.port).toBe(4000);
    expect(config.bus.url).toBe("memory://");
    expect(config.database.url).toBe("");
    for (const key of listConfigKeys()) {
      expect(key.doc, key.path).not.toBe("");
      expect(key.defaultValue, key.path).not.toBeUndefined();
    }
  });

  it("maps keys to BEEP_ environment names", () => {
    const names = listConfigKeys().map((key) => key.env);
    expect(names).toContain("BEEP_DATABASE_URL");
    expect(names).toContain("BEEP_GRAPHQL_MAX_DEPTH");
    expect(names).toContain("BEEP_HTTP_SHUTDOWN_GRACE_MS");
  });

  it("layers defaults < file < environment", () => {
    const file = tempFile("beep.yaml", "http:\n  port: 5000\n  host: 0.0.0.0\nlog:\n  level: debug\n");
    const config = loadConfig({ file, env: { BEEP_HTTP_PORT: "6000" } });
    expect(config.http.port).toBe(6000);
    expect(config.http.host).toBe("0.0.0.0");
    expect(config.log.level).toBe("debug");
    expect(config.graphql.maxDepth).toBe(12);
  });

  it("names the bad key and where it came from", () => {
    expect(() => loadConfig({ env: { BEEP_HTTP_PORT: "seventy" } })).toThrow(
      /http\.port \(environment BEEP_HTTP_PORT\)/,
    );
    expect(() => loadConfig({ env: { BEEP_BUS_URL: "kafka://x" } })).toThrow(
      /bus\.url.*memory:\/\/, nats:\/\//s,
    );
  });

  it("refuses an unknown BEEP_ variable, which is usually a typo", () => {
    expect(() => loadConfig({ env: { BEEP_DATABSE_URL: "postgres://x" } })).toThrow(ConfigError);
  });

  it("never echoes a secret, valid or not", () => {
    const secret = "mysql://admin:hunter2@db/beep";
    let message = "";
    try {
      loadConfig({ env: { BEEP_DATABASE_URL: secret } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/database\.url/);
    expect(message).not.toContain("hunter2");
    const printed = describeConfig(loadConfig({ env: { BEEP_DATABASE_URL: "postgres://u:hunter2@h/db" } }));
    expect(printed.join("\n")).not.toContain("hunter2");
    expect(printed).toContain("database.url = [secret]");
  });

  it("reports an unreadable or malformed file clearly", () => {
    expect(() => loadConfig({ file: "/nonexistent/beep.yaml", env: {} })).toThrow(/cannot read config file/);
    expect(() => loadConfig({ file: tempFile("bad.yaml", "http: [1, 2\n"), env: {} })).toThrow(
      /not valid YAML/,
    );
  });
});

describe("loadConfig file keys", () => {
  it("refuses an unknown key in the file", () => {
    const file = tempFile("typo.yaml", "http:\n  prot: 5000\n");
    expect(() => loadConfig({ file, env: {} })).toThrow(/prot/);
  });
});
