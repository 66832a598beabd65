import { describe, expect, it } from "vitest";
import { loadBatched } from "./request-batch.ts";

describe("loadBatched", () => {
  it("sends every id asked for in one pass as one fetch, caches per context, and keeps contexts apart", async () => {
    const calls: string[][] = [];
    const fetch = async (ids: string[]) => {
      calls.push(ids);
      return new Map(ids.filter((id) => id !== "none").map((id) => [id, `v${id}`]));
    };
    const context = {};
    const page = await Promise.all(
      ["1", "2", "3", "2", "none"].map((id) => loadBatched(context, "r", fetch, id)),
    );
    expect(page).toEqual(["v1", "v2", "v3", "v2", undefined]);
    expect(calls).toEqual([["1", "2", "3", "none"]]);
    expect(await loadBatched(context, "r", fetch, "1")).toBe("v1");
    expect(calls).toHaveLength(1);
    await loadBatched({}, "r", fetch, "1");
    expect(calls).toHaveLength(2);
  });

  it("rejects every waiter of a failed fetch, and retries those ids next time", async () => {
    let fail = true;
    const fetch = async (ids: string[]) => {
      if (fail) throw new Error("down");
      return new Map(ids.map((id) => [id, id]));
    };
    const context = {};
    await expect(loadBatched(context, "r", fetch, "1")).rejects.toThrow("down");
    fail = false;
    expect(await loadBatched(context, "r", fetch, "1")).toBe("1");
  });
});
