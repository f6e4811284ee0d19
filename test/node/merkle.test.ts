import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { describe, expect, it } from "vitest";
import {
  batchIdOf,
  buildBatch,
  RECEIPT_LEAF_TYPES,
  REPORT_CARD_LEAF_TYPES,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptLeafValues,
  reportCardLeafHash,
  reportCardLeafValues,
  SESSION_LEAF_TYPES,
  sessionLeafValues,
  sessionTree,
} from "../../protocol/commitments.js";
import { sha256Hex } from "../../protocol/hex.js";
import { MerkleTree, processProof, verifyProof } from "../../protocol/merkle.js";

const seed = sha256Hex("session-seed");

function receipts(n: number, sessionSeed = seed): ReceiptLeaf[] {
  return Array.from({ length: n }, (_, i) => ({
    sessionSeed,
    relayIndex: i,
    hostId: i % 5 === 4 ? null : `host_${i % 3}`,
    requestDigest: sha256Hex(`req${i}`),
    responseDigest: i % 7 === 6 ? null : sha256Hex(`res${i}`),
    status: i % 11 === 10 ? 503 : 200,
    outcome: i % 11 === 10 ? "failed" : i % 13 === 12 ? "pending" : "ok",
    latencyMs: i % 5 === 4 ? null : 10 + i,
    computeUnits: 1 + (i % 4),
    createdAt: 1_763_712_000_000 + i,
  }));
}

/** OpenZeppelin's tree takes values as strings; ours as bigint/hex. */
const asOz = (values: readonly (bigint | string)[]) => values.map(String);

describe("Merkle trees match @openzeppelin/merkle-tree", () => {
  it.each([1, 2, 3, 7, 8, 33, 1000])("receipt trees of %i leaves: same root, proofs that verify in both", (n) => {
    const leaves = receipts(n);
    const ours = sessionTree(leaves);
    const oz = StandardMerkleTree.of(
      leaves.map((r) => asOz(receiptLeafValues(r))),
      [...RECEIPT_LEAF_TYPES],
    );
    expect(ours.root).toBe(oz.root);
    for (const i of [0, Math.floor(n / 2), n - 1]) {
      expect(ours.proof(i)).toEqual(oz.getProof(i));
      expect(StandardMerkleTree.verify(oz.root, [...RECEIPT_LEAF_TYPES], asOz(receiptLeafValues(leaves[i])), ours.proof(i))).toBe(
        true,
      );
    }
  });

  it("session and report-card leaves encode as OpenZeppelin encodes them", () => {
    const sessions = [0, 1, 2].map((ordinal) => ({
      sessionSeed: sha256Hex(`s${ordinal}`),
      ordinal,
      sessionRoot: sessionTree(receipts(3 + ordinal)).root,
      relayCount: 3 + ordinal,
      computeUnits: 7,
    }));
    const cards = [
      {
        sessionSeed: sessions[0].sessionSeed,
        hostId: "host_a",
        samples: 12,
        score: 0.987654,
        samplesHash: sha256Hex("a"),
        planHash: sha256Hex("plan a"),
      },
      {
        sessionSeed: sessions[1].sessionSeed,
        hostId: "host_b",
        samples: 3,
        score: null,
        samplesHash: sha256Hex("b"),
        planHash: null,
      },
    ];
    const { tree, cardTree, summary, batchId } = buildBatch(sessions, cards);
    expect(tree.root).toBe(
      StandardMerkleTree.of(
        sessions.map((s) => asOz(sessionLeafValues(s))),
        [...SESSION_LEAF_TYPES],
      ).root,
    );
    expect(cardTree?.root).toBe(
      StandardMerkleTree.of(
        cards.map((c) => asOz(reportCardLeafValues(c))),
        [...REPORT_CARD_LEAF_TYPES],
      ).root,
    );
    // Leaf format 2: the sixth word is the probe plan commitment (zero without one), so a card's
    // leaf changes with its plan.
    expect(REPORT_CARD_LEAF_TYPES).toHaveLength(6);
    expect(reportCardLeafValues(cards[1])[5]).toBe(`0x${"0".repeat(64)}`);
    expect(reportCardLeafHash({ ...cards[0], planHash: sha256Hex("another plan") })).not.toEqual(reportCardLeafHash(cards[0]));
    expect(summary).toMatchObject({ relayCount: 12, computeUnits: 21, sessionCount: 3 });
    expect(batchIdOf(summary)).toBe(batchId);
  });

  it("refuses empty trees and unordered receipts, and detects any changed leaf", () => {
    expect(() => new MerkleTree([])).toThrow();
    const leaves = receipts(9);
    expect(() => sessionTree([leaves[1], leaves[0]])).toThrow(/relay index/);
    const tree = sessionTree(leaves);
    const changed = sessionTree(leaves.map((r, i) => (i === 4 ? { ...r, status: 500 } : r)));
    expect(changed.root).not.toBe(tree.root);
    expect(verifyProof(receiptLeafHash(leaves[4]), tree.proof(4), tree.root)).toBe(true);
    expect(verifyProof(receiptLeafHash({ ...leaves[4], computeUnits: 99 }), tree.proof(4), tree.root)).toBe(false);
    expect(processProof(receiptLeafHash(leaves[4]), [])).not.toBe(tree.root);
  });
});
