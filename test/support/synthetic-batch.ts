/**
 * A batch of made-up receipts, built with protocol/ code exactly as the gateway builds real ones:
 * one session per entry of `relayCounts`, each with that many receipts. `label` keeps seeds and
 * digests unique between batches; every third receipt records tokens (receipt leaf format 2). Used by the contract tests and the gas benchmark.
 */
import { buildBatch, type ReceiptLeaf, type SessionLeaf, sessionTree } from "../../protocol/commitments.js";
import { sha256Hex } from "../../protocol/hex.js";

export function syntheticBatch(label: string, relayCounts: readonly number[]) {
  const members = relayCounts.map((relays, ordinal) => {
    const sessionSeed = sha256Hex(`${label}-session${ordinal}`);
    const receipts: ReceiptLeaf[] = Array.from({ length: relays }, (_, i) => ({
      sessionSeed,
      relayIndex: i,
      hostId: `host_${i % 24}`,
      requestDigest: sha256Hex(`${label}-q${ordinal}-${i}`),
      responseDigest: sha256Hex(`${label}-r${ordinal}-${i}`),
      status: 200,
      outcome: "ok",
      latencyMs: 20 + (i % 100),
      computeUnits: 1,
      createdAt: 1_700_000_000_000 + i,
      // Every third relay token-metered: both receipt leaf formats in every session.
      ...(i % 3 === 2 ? { promptTokens: 40 + i, completionTokens: 7 + (i % 50) } : {}),
    }));
    const tree = sessionTree(receipts);
    const leaf: SessionLeaf = { sessionSeed, ordinal, sessionRoot: tree.root, relayCount: relays, computeUnits: relays };
    return { leaf, receipts, tree };
  });
  return {
    ...buildBatch(
      members.map((m) => m.leaf),
      [],
    ),
    members,
  };
}

/** The `commitBatch` arguments of a built batch. */
export function commitArgs(b: ReturnType<typeof syntheticBatch>) {
  return [
    b.batchId,
    b.summary.root,
    BigInt(b.summary.relayCount),
    BigInt(b.summary.computeUnits),
    b.summary.reportCardRoot,
    b.summary.sessionCount,
  ] as const;
}
