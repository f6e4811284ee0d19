/** What a subscription delivered (`workers/ws/subscription-trails.ts`): duplicates, gaps, forks, log removals. */
import { describe, expect, it } from "vitest";
import { HeadTrail, headerOf, headFields, LogTrail, logFields, SeenHashes } from "../../workers/ws/subscription-trails.js";

const hash = (n: number, fork = "") => `0x${fork || "a"}${n.toString(16).padStart(63, "0")}`;
const head = (n: number, fork = "", parentFork = fork) => ({
  number: n,
  hash: hash(n, fork),
  parentHash: hash(n - 1, parentFork),
});

describe("HeadTrail", () => {
  it("delivers the first head as it is, then drops duplicates", () => {
    const trail = new HeadTrail();
    expect(trail.missingParent(head(10))).toBeNull();
    trail.deliver(head(10));
    expect(trail.delivered(head(10))).toBe(true);
    expect(trail.delivered(head(10, "b"))).toBe(false);
    expect(trail.missingParent(head(11))).toBeNull();
  });

  it("asks for every block of a gap, newest first, until the chain joins", () => {
    const trail = new HeadTrail();
    trail.deliver(head(10));
    expect(trail.missingParent(head(13))).toEqual({ number: 12, hash: hash(12) });
    expect(trail.missingParent(head(12))).toEqual({ number: 11, hash: hash(11) });
    expect(trail.missingParent(head(11))).toBeNull();
  });

  it("follows a fork back to the common ancestor and replaces the delivered branch", () => {
    const trail = new HeadTrail();
    for (let n = 10; n <= 12; n++) trail.deliver(head(n));
    // The new branch forks after 10: its 12 has a parent 11 that is not the delivered one.
    expect(trail.missingParent(head(12, "b"))).toEqual({ number: 11, hash: hash(11, "b") });
    expect(trail.missingParent(head(11, "b", "a"))).toBeNull();
    trail.deliver(head(11, "b", "a"));
    trail.deliver(head(12, "b"));
    expect(trail.last).toEqual({ number: 12, hash: hash(12, "b") });
    expect(trail.delivered(head(12))).toBe(false);
    expect(trail.delivered(head(10))).toBe(true);
  });

  it("takes a head above the last, or one replacement at the last height; never a head below it", () => {
    const trail = new HeadTrail();
    expect(trail.acceptable(head(10))).toBe(true);
    for (let n = 10; n <= 12; n++) trail.deliver(head(n));
    expect(trail.acceptable(head(13))).toBe(true);
    expect(trail.acceptable(head(11, "b"))).toBe(false); // stale, or spam the requestor would pay for
    expect(trail.acceptable(head(12))).toBe(false); // the same head
    expect(trail.acceptable(head(12, "b"))).toBe(true);
    trail.deliver(head(12, "b"));
    expect(trail.acceptable(head(12, "c"))).toBe(false); // one replacement per height
    expect(trail.acceptable(head(13, "c"))).toBe(true);
  });

  it("does not ask for blocks below what it remembers", () => {
    const trail = new HeadTrail();
    trail.deliver(head(10));
    expect(trail.missingParent(head(10, "b", "b"))).toBeNull(); // a fork at the first head: its parent is unknown
  });

  it("reads headers and strips full blocks to headers", () => {
    expect(headFields({ number: "0x10", hash: "0xAB", parentHash: "0xCD" })).toEqual({
      number: 16,
      hash: "0xab",
      parentHash: "0xcd",
    });
    expect(headFields({ number: 16, hash: "0xab", parentHash: "0xcd" })).toBeNull();
    expect(headFields(null)).toBeNull();
    expect(headerOf({ number: "0x1", transactions: [], uncles: [], size: "0x1", hash: "0x2" })).toEqual({
      number: "0x1",
      hash: "0x2",
    });
  });
});

describe("LogTrail", () => {
  const log = (n: number, fork = "", removed = false) => ({
    blockNumber: `0x${n.toString(16)}`,
    blockHash: hash(n, fork),
    logIndex: "0x0",
    removed,
  });

  it("delivers a log once, a removal only of a delivered log, and names the blocks to check after a move", () => {
    const trail = new LogTrail(9);
    const first = logFields(log(10)) as NonNullable<ReturnType<typeof logFields>>;
    expect(trail.accept(first)).toBe(true);
    trail.record(first, log(10));
    expect(trail.accept(first)).toBe(false);
    expect(trail.cursor).toBe(10);
    expect(trail.accept(logFields(log(11, "", true)) as NonNullable<ReturnType<typeof logFields>>)).toBe(false);
    expect(trail.blocks()).toEqual([{ number: 10, hash: hash(10) }]);
    expect(trail.removalsOf(hash(10))).toEqual([{ ...log(10), removed: true }]);
    const removal = logFields(log(10, "", true)) as NonNullable<ReturnType<typeof logFields>>;
    expect(trail.accept(removal)).toBe(true);
    trail.record(removal, log(10, "", true));
    expect(trail.blocks()).toEqual([]);
    expect(trail.accept(first)).toBe(true); // back on the chain: delivered again
  });

  it("refuses what is not a log", () => {
    expect(logFields({ blockNumber: 1, blockHash: "0x", logIndex: "0x0" })).toBeNull();
    expect(logFields("0x1")).toBeNull();
  });
});

describe("SeenHashes", () => {
  it("says first once per hash, whatever its case", () => {
    const seen = new SeenHashes();
    expect(seen.first("0xAbC")).toBe(true);
    expect(seen.first("0xabc")).toBe(false);
    expect(seen.first("0xdef")).toBe(true);
  });
});
