import { SimpleMerkleTree, StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardLeafHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { describe, expect, it } from "vitest";
import {
  batchIdOf,
  buildBatch,
  RECEIPT_LEAF_TYPES,
  RECEIPT_LEAF_V2_TYPES,
  REPORT_CARD_LEAF_TYPES,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptLeafValues,
  receiptLeafVersion,
  reportCardLeafHash,
  reportCardLeafValues,
  SESSION_LEAF_TYPES,
  sessionLeafValues,
  sessionTree,
} from "../../protocol/commitments.js";
import { sha256Hex, toHex } from "../../protocol/hex.js";
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

  it("receipt leaf format 2 (token-metered relays) adds the two token words; format 1 is unchanged", () => {
    const [plain] = receipts(1);
    const metered = { ...plain, promptTokens: 120, completionTokens: 9 };
    expect(receiptLeafVersion(plain)).toBe(1);
    expect(receiptLeafVersion({ ...plain, promptTokens: null, completionTokens: null })).toBe(1);
    expect(receiptLeafVersion(metered)).toBe(2);
    expect(receiptLeafValues(metered)).toEqual([...receiptLeafValues(plain), 120n, 9n]);
    expect(toHex(receiptLeafHash(plain))).toBe(standardLeafHash([...RECEIPT_LEAF_TYPES], asOz(receiptLeafValues(plain))));
    expect(toHex(receiptLeafHash(metered))).toBe(standardLeafHash([...RECEIPT_LEAF_V2_TYPES], asOz(receiptLeafValues(metered))));
    // Zero tokens are still format 2: a metered relay's receipt never reads as a per-request one.
    expect(toHex(receiptLeafHash({ ...plain, promptTokens: 0, completionTokens: 0 }))).not.toBe(toHex(receiptLeafHash(plain)));
  });

  it("a session mixing both receipt formats has OpenZeppelin's root and proofs over the leaf hashes", () => {
    const leaves = receipts(40).map((r, i) => (i % 3 === 0 ? { ...r, promptTokens: i * 10, completionTokens: i } : r));
    const ours = sessionTree(leaves);
    const oz = SimpleMerkleTree.of(leaves.map((r) => toHex(receiptLeafHash(r))));
    expect(ours.root).toBe(oz.root);
    for (const i of [0, 1, 20, 39]) expect(verifyProof(receiptLeafHash(leaves[i]), ours.proof(i), ours.root)).toBe(true);
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
