/** The receipts every Merkle benchmark builds trees of: receipt `i` is the same in every process and run. */
import type { ReceiptLeaf } from "../protocol/commitments.js";
import { sha256Hex } from "../protocol/hex.js";

const seed = sha256Hex("bench-session");

export function benchReceipt(i: number): ReceiptLeaf {
  return {
    sessionSeed: seed,
    relayIndex: i,
    hostId: `host_${i % 24}`,
    requestDigest: sha256Hex(`q${i}`),
    responseDigest: sha256Hex(`r${i}`),
    status: 200,
    outcome: "ok",
    latencyMs: 40 + (i % 100),
    computeUnits: 1 + (i % 5),
    createdAt: 1_763_712_000_000 + i,
  };
}
