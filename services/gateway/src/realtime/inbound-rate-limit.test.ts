import { describe, expect, it } from "vitest";
import { CLOSE_TOO_MANY_MESSAGES, limitInboundMessages } from "./inbound-rate-limit.ts";

function fakeSocket() {
  let listener: () => void = () => {};
  const closes: number[] = [];
  return {
    socket: {
      on: (_event: "message", l: () => void) => {
        listener = l;
      },
      close: (code: number) => void closes.push(code),
    },
    receive: (n: number) => {
      for (let i = 0; i < n; i++) listener();
    },
    closes,
  };
}

describe("limitInboundMessages", () => {
  it("allows the burst per window and closes once with 4029 beyond it", () => {
    let now = 0;
    let exceeded = 0;
    const s = fakeSocket();
    limitInboundMessages(s.socket, {
      maxMessages: 3,
      windowMs: 1_000,
      now: () => now,
      onExceeded: () => exceeded++,
    });
    s.receive(3);
    now = 999;
    expect(s.closes).toEqual([]);
    now = 1_000;
    s.receive(3);
    expect(s.closes).toEqual([]);
    s.receive(5);
    expect(s.closes).toEqual([CLOSE_TOO_MANY_MESSAGES]);
    expect(exceeded).toBe(1);
  });
});
