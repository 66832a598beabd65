import { describe, expect, it } from "vitest";
import { parseMentions } from "./mentions.ts";

describe("parseMentions", () => {
  it("finds @names, <@id>, <@&id>, #names, <#id> and @everyone/@here", () => {
    const parsed = parseMentions(
      "hi @alice and @bob.smith, <@123> <@!124> <@&55> in #general and <#77> @here",
    );
    expect(parsed).toEqual({
      names: ["alice", "bob.smith"],
      userIds: ["123", "124"],
      roleIds: ["55"],
      channelNames: ["general"],
      channelIds: ["77"],
      everyone: true,
    });
  });

  it("ignores code spans and blocks, e-mail addresses and trailing dots", () => {
    const parsed = parseMentions("mail a@b.com `@alice` ```\n@bob #x\n``` then @carol. done");
    expect(parsed.names).toEqual(["carol"]);
    expect(parsed.channelNames).toEqual([]);
    expect(parsed.everyone).toBe(false);
  });

  it("keeps at most 50 candidates of a kind", () => {
    const many = Array.from({ length: 80 }, (_, i) => `@user${i}`).join(" ");
    expect(parseMentions(many).names).toHaveLength(50);
  });
});
