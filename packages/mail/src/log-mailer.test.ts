import { Writable } from "node:stream";
import { createLogger } from "@beep/observability";
import { describe, expect, it } from "vitest";
import { createMailer } from "./create-mailer.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, logger: createLogger({ service: "mail-test", destination }) };
}

const message = { to: "ada@example.org", subject: "Your code", text: "The code is 987654" };

describe("log:// mailer", () => {
  it("logs recipient and subject but never the body outside development", async () => {
    for (const env of ["production", "test"] as const) {
      const { lines, logger } = capture();
      await createMailer({ url: "log://", from: "a@b.c", logBodies: true, env, logger }).send(message);
      expect(lines.join("")).toContain("ada@example.org");
      expect(lines.join("")).toContain("Your code");
      expect(lines.join("")).not.toContain("987654");
    }
  });

  it("logs the body in development when bodies are enabled, and not when disabled", async () => {
    const on = capture();
    await createMailer({
      url: "log://",
      from: "a@b.c",
      logBodies: true,
      env: "development",
      logger: on.logger,
    }).send(message);
    expect(on.lines.join("")).toContain("987654");
    const off = capture();
    await createMailer({
      url: "log://",
      from: "a@b.c",
      logBodies: false,
      env: "development",
      logger: off.logger,
    }).send(message);
    expect(off.lines.join("")).not.toContain("987654");
  });
});
