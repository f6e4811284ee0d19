/**
 * The session tree of `protocol/merkle.ts`, built in storage instead of memory, so a session of
 * any size closes in a few megabytes (docs/performance.md): the same OpenZeppelin heap, node for
 * node, so the same root and the same proofs.
 *
 * Building walks the heap once, from its last node down to the root, a block of consecutive
 * nodes at a time: a block's leaves come from the sorted leaf stream (the leaf of rank `r` is
 * node `2n - 2 - r`, so ascending ranks are descending nodes), and its inner nodes are hashed from
 * their children (`2i + 1`, `2i + 2`), which are all in the block or in blocks written before it,
 * read back in one run. Memory is three blocks, whatever the number of leaves. A proof reads its
 * sibling nodes, one per level, in one call.
 *
 * Storage is behind `MerkleNodeStore`; `workers/sessions/session-tree.ts` keeps it in a Durable
 * Object's SQLite.
 */
import { type Hex, toHex } from "./hex.js";
import { hashPairWords } from "./keccak.js";
import { proofNodes } from "./merkle.js";

/** Where a stored tree's nodes live: heap nodes by index, 32 bytes each. */
export interface MerkleNodeStore {
  /**
   * Stores nodes `first ..` (`hashes` holds them in node order, 32 bytes each; the store copies
   * what it keeps). `buildStoredTree` writes each node once, in runs that start at a multiple of
   * its block size, from the highest nodes down.
   */
  writeRun(first: number, hashes: Uint8Array): void;
  /** Fills `into` with nodes `first .. first + into.length / 32 - 1`, all written before. */
  readRun(first: number, into: Uint8Array): void;
  /** Nodes by index (distinct), as `nodes.length` x 32 bytes in the order given: one read. */
  readNodes(nodes: readonly number[]): Uint8Array;
}

/** Nodes hashed and written per block: 8,192 nodes is 256 KiB, and memory is three blocks. */
export const DEFAULT_BLOCK_NODES = 8192;

export interface BuildStoredTreeOptions {
  /** Nodes per block (default `DEFAULT_BLOCK_NODES`); the store may require a multiple of its row size. */
  blockNodes?: number;
}

/**
 * Builds the tree of `leafCount` leaves into `store` and returns its root (32 bytes).
 * `sortedLeaves` yields the leaf hashes in OpenZeppelin's order: ascending bytes, equal hashes in
 * input order (for SQLite, `ORDER BY leaf_hash, relay_index`); anything out of order is refused.
 *
 * @example
 * const root = buildStoredTree(n, sortedLeafHashes, store); // same root as new MerkleTree(leaves)
 */
export function buildStoredTree(
  leafCount: number,
  sortedLeaves: Iterable<Uint8Array>,
  store: MerkleNodeStore,
  { blockNodes = DEFAULT_BLOCK_NODES }: BuildStoredTreeOptions = {},
): Uint8Array {
  if (!(Number.isSafeInteger(leafCount) && leafCount > 0)) throw new Error("buildStoredTree: a tree has at least one leaf");
  if (!(Number.isSafeInteger(blockNodes) && blockNodes > 0)) throw new Error("buildStoredTree: blockNodes is a positive integer");
  const n = leafCount;
  const size = 2 * n - 1;
  const firstLeaf = n - 1;
  const block = new Uint8Array(blockNodes * 32);
  const blockWords = new Uint32Array(block.buffer);
  // Children of a block's inner nodes that lie above the block: at most two per node.
  const children = new Uint8Array(2 * blockNodes * 32);
  const childWords = new Uint32Array(children.buffer);
  const leaves = sortedLeaves[Symbol.iterator]();
  const previous = new Uint8Array(32);
  let rank = 0;

  for (let lo = Math.floor((size - 1) / blockNodes) * blockNodes; lo >= 0; lo -= blockNodes) {
    const hi = Math.min(lo + blockNodes - 1, size - 1);
    for (let i = hi; i >= Math.max(lo, firstLeaf); i--) {
      const next = leaves.next();
      if (next.done) throw new Error(`buildStoredTree: ${rank} leaves, expected ${n}`);
      const leaf = next.value;
      if (leaf.length !== 32) throw new Error(`buildStoredTree: leaf of rank ${rank} is ${leaf.length} bytes, not 32`);
      if (rank > 0 && compareBytes(previous, leaf) > 0) throw new Error(`buildStoredTree: leaf of rank ${rank} is out of order`);
      previous.set(leaf);
      block.set(leaf, (i - lo) * 32);
      rank++;
    }
    const topInner = Math.min(hi, firstLeaf - 1);
    if (topInner >= lo) {
      // Children above the block were written by earlier blocks; those inside it were just hashed
      // (children have higher indexes than parents, and the block is hashed from its top down).
      const readFirst = Math.max(2 * lo + 1, hi + 1);
      const readLast = 2 * topInner + 2;
      if (readLast >= readFirst) store.readRun(readFirst, children.subarray(0, (readLast - readFirst + 1) * 32));
      for (let i = topInner; i >= lo; i--) {
        const left = 2 * i + 1;
        const right = left + 1;
        hashPairWords(
          left > hi ? childWords : blockWords,
          (left > hi ? left - readFirst : left - lo) * 8,
          right > hi ? childWords : blockWords,
          (right > hi ? right - readFirst : right - lo) * 8,
          blockWords,
          (i - lo) * 8,
        );
      }
    }
    store.writeRun(lo, block.subarray(0, (hi - lo + 1) * 32));
  }
  if (!leaves.next().done) throw new Error(`buildStoredTree: more than ${n} leaves`);
  return block.slice(0, 32);
}

/** The proof of the leaf at heap node `node`, bottom-up (as OpenZeppelin's `getProof`), in one read. */
export function readStoredProof(store: MerkleNodeStore, node: number): Hex[] {
  const nodes = proofNodes(node);
  if (nodes.length === 0) return [];
  const hashes = store.readNodes(nodes);
  return nodes.map((_, k) => toHex(hashes.subarray(k * 32, k * 32 + 32)));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] - b[k];
  return 0;
}
