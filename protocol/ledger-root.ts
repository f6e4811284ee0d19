/**
 * The ledger root (docs/economy.md, "Ledger root"): every holder's posted balance of each asset
 * at an epoch, folded into one Merkle root that `ProofRegistry.commitLedgerRoot` holds on-chain,
 * so any holder can prove its balance at that epoch against the chain with
 * `ProofRegistry.verifyLedgerBalance` (or `verifyLedgerProof` here) without trusting the gateway.
 *
 * Leaf format, version 1 (`LEDGER_LEAF_VERSION`), an OpenZeppelin standard leaf like the batch
 * leaves of protocol/commitments.ts (double keccak of the ABI encoding; pairs hashed sorted):
 *
 *   (bytes32 holderKey, bytes32 asset, uint256 balance, uint64 epoch)
 *
 * - holderKey = keccak256 of the holder id's UTF-8 bytes (a lower-case 0x address or a requestor
 *   id: the `<holder>` of the `balance:<holder>` account);
 * - asset = keccak256 of the asset symbol's UTF-8 bytes (`DB-CPTM` in v0, the only asset);
 * - balance = the holder's posted balance in minor units (credits posted - debits posted, so
 *   value held by pending transfers, as locked revenue payouts, is not in it yet);
 * - epoch = the root's epoch, so a leaf proves a balance at that epoch and no other.
 *
 * Epochs count from 1, one per fold (cron folds after each run that settled a batch).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { type Hex, toHex } from "./hex.js";
import { encodeWordsInto, MerkleTree, standardLeafHashInto, verifyProof } from "./merkle.js";

/** The leaf format's version: bump it with any change to the encoding above. */
export const LEDGER_LEAF_VERSION = 1;
export const LEDGER_LEAF_TYPES = ["bytes32", "bytes32", "uint256", "uint64"] as const;
/** v0's only asset. */
export const LEDGER_ASSET = "DB-CPTM";

const keyCache = new Map<string, Hex>();

/** keccak256 of a holder id or asset symbol (UTF-8): the leaf's key words. */
export function ledgerKey(id: string): Hex {
  let key = keyCache.get(id);
  if (!key) {
    key = toHex(keccak_256(utf8ToBytes(id)));
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

export interface LedgerLeaf {
  holder: string;
  asset: string;
  balance: bigint;
  epoch: number;
}

/** The leaf's ABI words, in `LEDGER_LEAF_TYPES` order. */
export const ledgerLeafValues = (l: LedgerLeaf) => [ledgerKey(l.holder), ledgerKey(l.asset), l.balance, l.epoch] as const;

const scratch = new Uint8Array(4 * 32);

/** Writes the leaf's hash at `out[offset ..]` (no allocation: the fold hashes every holder). */
export function ledgerLeafHashInto(l: LedgerLeaf, out: Uint8Array, offset: number): void {
  if (l.balance < 0n) throw new Error(`ledger leaf of ${l.holder}: negative balance`);
  encodeWordsInto(ledgerLeafValues(l), scratch, 0);
  standardLeafHashInto(scratch, 0, scratch.length, out, offset);
}

export function ledgerLeafHash(l: LedgerLeaf): Uint8Array {
  const out = new Uint8Array(32);
  ledgerLeafHashInto(l, out, 0);
  return out;
}

/**
 * Builds the tree of an epoch from its leaves, streamed in pages (`pages` yields arrays of
 * leaves, in any order): only the flat leaf hashes (32 bytes per holder) and the tree are kept,
 * never the rows. Returns null when there is no leaf.
 */
export async function buildLedgerTree(
  pages: AsyncIterable<readonly LedgerLeaf[]>,
  find?: { holder: string; asset: string },
): Promise<{ tree: MerkleTree; leafCount: number; found: { index: number; leaf: LedgerLeaf } | null } | null> {
  let flat = new Uint8Array(32 * 1024);
  let n = 0;
  let found: { index: number; leaf: LedgerLeaf } | null = null;
  for await (const page of pages) {
    if ((n + page.length) * 32 > flat.length) {
      const bigger = new Uint8Array(Math.max(flat.length * 2, (n + page.length) * 32));
      bigger.set(flat.subarray(0, n * 32));
      flat = bigger;
    }
    for (const leaf of page) {
      if (find && leaf.holder === find.holder && leaf.asset === find.asset) found = { index: n, leaf };
      ledgerLeafHashInto(leaf, flat, n * 32);
      n++;
    }
  }
  if (n === 0) return null;
  return { tree: new MerkleTree(flat.subarray(0, n * 32)), leafCount: n, found };
}

/** Whether `proof` shows `leaf` in the ledger root `root` (OpenZeppelin `MerkleProof.verify`). */
export function verifyLedgerProof(leaf: LedgerLeaf, proof: readonly Hex[], root: Hex): boolean {
  return verifyProof(ledgerLeafHash(leaf), proof, root);
}
