/**
 * The citation reward flow (protocol/citations.ts) on small graphs with exact integer amounts
 * (golden values worked out by hand in the comments), refusals of unknown and newer citations,
 * and the contribution tree's inclusion proofs against OpenZeppelin's StandardMerkleTree.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak256, toBytes } from "viem";
import { describe, expect, it } from "vitest";
import {
  type CitationNode,
  type ContributionRecord,
  citationProblem,
  citationRewardFlow,
  contributionLeafHash,
  contributionTree,
} from "../../protocol/citations.js";
import { toHex } from "../../protocol/hex.js";
import { verifyProof } from "../../protocol/merkle.js";

const params = { citationShareBps: 3_000n, decayBps: 5_000n };
const node = (id: string, createdAt: number, cites: string[] = [], author = `author-${id}`): CitationNode => ({
  id,
  author,
  cites,
  createdAt,
});

describe("citation reward flow", () => {
  it("chain p4 -> p3 -> p2 -> p1: hops 1, 2, 3 weigh 4 : 2 : 1", () => {
    const graph = [node("p1", 1), node("p2", 2, ["p1"]), node("p3", 3, ["p2"]), node("p4", 4, ["p3"])];
    const flow = citationRewardFlow(graph, "p4", 1_000n, params);
    // 30 % of 1,000 = 300 to citations; weights 10000^2 : 5000x10000 : 5000^2 = 4 : 2 : 1 (sum 7).
    // 300 x 4/7 = 171.4 -> 171; 300 x 2/7 = 85.7 -> 85; 300 x 1/7 = 42.8 -> 42; dust 2 to the proposer.
    expect(flow.ancestors).toEqual([
      { id: "p1", author: "author-p1", hops: 3, amount: 42n },
      { id: "p2", author: "author-p2", hops: 2, amount: 85n },
      { id: "p3", author: "author-p3", hops: 1, amount: 171n },
    ]);
    expect(flow.toCitations).toBe(298n);
    expect(flow.toProposer).toBe(702n);
    expect(flow.byAuthor.reduce((n, a) => n + a.amount, 0n)).toBe(1_000n);
  });

  it("diamond d -> {b, c} -> a: a is counted once, at its shortest distance", () => {
    const graph = [node("a", 1), node("b", 2, ["a"]), node("c", 3, ["a"]), node("d", 4, ["b", "c"])];
    const flow = citationRewardFlow(graph, "d", 1_000n, params);
    // Weights b 10000, c 10000, a 5000 (sum 25000): 300 x 2/5 = 120, 120, 300 x 1/5 = 60; no dust.
    expect(flow.ancestors.map((a) => [a.id, a.hops, a.amount])).toEqual([
      ["a", 2, 60n],
      ["b", 1, 120n],
      ["c", 1, 120n],
    ]);
    expect(flow.toProposer).toBe(700n);
  });

  it("wide fan-in: seven direct citations share equally, the dust goes to the proposer", () => {
    const cited = Array.from({ length: 7 }, (_, i) => node(`f${i}`, i + 1));
    const graph = [
      ...cited,
      node(
        "sink",
        10,
        cited.map((c) => c.id),
      ),
      node("stranger", 11),
    ];
    const flow = citationRewardFlow(graph, "sink", 1_000n, params);
    // 300 / 7 = 42 each (294), dust 6: the proposer gets 700 + 6.
    expect(flow.ancestors.map((a) => a.amount)).toEqual(Array(7).fill(42n));
    expect(flow.toProposer).toBe(706n);
    expect(flow.byAuthor.find((a) => a.author === "author-stranger")).toBeUndefined();
  });

  it("an author of several ancestors receives their sum; an unconnected proposal passes nothing on", () => {
    const graph = [
      node("x", 1, [], "alice"),
      node("y", 2, ["x"], "alice"),
      node("z", 3, ["y"], "bob"),
      node("lone", 4, [], "carol"),
    ];
    const flow = citationRewardFlow(graph, "z", 999n, params);
    // 299 to citations (999 x 0.3 = 299.7 -> 299); y 10000, x 5000: 199 and 99 (dust 1).
    expect(flow.byAuthor).toEqual([
      { author: "alice", amount: 298n },
      { author: "bob", amount: 701n },
    ]);
    const alone = citationRewardFlow(graph, "lone", 999n, params);
    expect(alone).toMatchObject({ toProposer: 999n, toCitations: 0n, ancestors: [] });
  });

  it("refuses citations of unknown or newer proposals (so the graph has no cycle)", () => {
    const known = new Map([["old", node("old", 5)]]);
    expect(citationProblem({ cites: ["old"], createdAt: 6 }, (id) => known.get(id))).toBeNull();
    expect(citationProblem({ cites: ["nope"], createdAt: 6 }, (id) => known.get(id))).toMatch(/unknown/);
    expect(citationProblem({ cites: ["old"], createdAt: 5 }, (id) => known.get(id))).toMatch(/not older/);
    expect(citationProblem({ cites: ["old", "old"], createdAt: 9 }, (id) => known.get(id))).toMatch(/twice/);
    expect(() => citationRewardFlow([node("a", 2, ["b"]), node("b", 1, ["a"])], "a", 10n, params)).toThrow(/not older/);
  });
});

describe("contribution tree", () => {
  const records: ContributionRecord[] = [1, 2, 3, 4, 5].map((i) => ({
    proposalId: String(i),
    contentHash: keccak256(toBytes(`proposal ${i}`)),
    author: `0x${String(i).repeat(40)}`,
    citations: i > 1 ? [String(i - 1)] : [],
    createdAt: 1_700_000_000_000 + i,
    serviceRecord: i % 2 === 0,
  }));

  it("gives OpenZeppelin's root and proofs; marking a record as a service record changes its leaf", () => {
    const tree = contributionTree(records);
    const oz = StandardMerkleTree.of(
      records.map((r) => [
        keccak256(toBytes(r.proposalId)),
        r.contentHash,
        r.author,
        keccak256(toBytes(r.citations.join(","))),
        BigInt(r.createdAt),
        r.serviceRecord ? 1n : 0n,
      ]),
      ["bytes32", "bytes32", "address", "bytes32", "uint64", "uint8"],
    );
    expect(tree.root).toBe(oz.root);
    for (const [i, r] of records.entries()) expect(verifyProof(contributionLeafHash(r), tree.proof(i), tree.root)).toBe(true);
    const adopted = { ...records[0], serviceRecord: true };
    expect(toHex(contributionLeafHash(adopted))).not.toBe(tree.leaves[0]);
    expect(verifyProof(contributionLeafHash(adopted), tree.proof(0), tree.root)).toBe(false);
  });
});
