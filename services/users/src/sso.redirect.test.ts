import { describe, expect, it } from "vitest";
import { safeRedirectPath } from "./sso.service.ts";

const PUBLIC = "https://chat.example.org";

describe("safeRedirectPath", () => {
  it("keeps same-origin paths and reduces same-origin URLs to their path", () => {
    expect(safeRedirectPath("", PUBLIC)).toBe("/");
    expect(safeRedirectPath("/app/rooms?id=4", PUBLIC)).toBe("/app/rooms?id=4");
    expect(safeRedirectPath("https://chat.example.org/app", PUBLIC)).toBe("/app");
  });

  it.each([
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "https://chat.example.org.evil.example/",
    "http://chat.example.org/app",
    "app",
    "/ok\nLocation: x",
  ])("refuses %j", (target) => {
    expect(() => safeRedirectPath(target, PUBLIC)).toThrow(/same-origin/);
  });
});
