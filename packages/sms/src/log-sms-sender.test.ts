import { createLogger } from "@beep/observability";
import { describe, expect, it } from "vitest";
import { createSmsSender } from "./create-sms-sender.ts";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: "sms-test",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { lines, logger };
}

describe("log:// SMS sender", () => {
  it("shows the text in development so a developer can sign in by phone", async () => {
    const { lines, logger } = capture();
    await createSmsSender({ url: "log://", token: "", logText: true, env: "development", logger }).send({
      to: "+33600000000",
      text: "Your Beep code: 123456",
    });
    expect(lines[0]).toMatchObject({
      sms: { to: "+33600000000" },
      developmentSmsText: "Your Beep code: 123456",
    });
  });

  it("never writes the text in test or production, whatever the switch says", async () => {
    for (const env of ["test", "production"] as const) {
      const { lines, logger } = capture();
      await createSmsSender({ url: "log://", token: "", logText: true, env, logger }).send({
        to: "+33600000000",
        text: "Your Beep code: 123456",
      });
      expect(JSON.stringify(lines)).not.toContain("123456");
      expect(lines[0]).toMatchObject({ sms: { to: "+33600000000" } });
    }
  });
});
