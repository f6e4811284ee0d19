/**
 * Merkle trees compatible with OpenZeppelin's `StandardMerkleTree` and `MerkleProof.verify`
 * (docs/protocol.md, "Commitments"): leaves are double-hashed (`keccak256(keccak256(abi.encode(...)))`), pairs
 * are hashed sorted, leaves are sorted by hash and laid out in the same array ("heap") shape,
 * so roots and proofs are identical to OpenZeppelin's for the same leaves.
 *
 * The heap: `2n - 1` nodes, node `i` has children `2i + 1` and `2i + 2`; the leaf of sort rank
 * `r` (ascending by hash, equal hashes in input order, as OpenZeppelin's stable sort leaves them)
 * is node `2n - 2 - r`. `protocol/stored-merkle.ts` builds the same heap in storage.
 *
 * Nodes live in one flat buffer of 32-byte words and are hashed through one reused keccak state
 * (`protocol/keccak.ts`): no hex strings and no allocation per node (docs/performance.md).
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import { type Hex, toHex } from "./hex.js";
import { hashPairWords, keccak256Into } from "./keccak.js";

/** ABI-encodes a tuple of static words: each value is a 32-byte big-endian word. */
export function encodeWords(words: readonly (bigint | number | Uint8Array | Hex)[]): Uint8Array {
  return encodeWordsInto(words, new Uint8Array(words.length * 32), 0);
}

/** `encodeWords` into `out` from `offset` (32 bytes per word, each word fully written); returns `out`. */
export function encodeWordsInto(
  words: readonly (bigint | number | Uint8Array | Hex)[],
  out: Uint8Array,
  offset: number,
): Uint8Array {
  out.fill(0, offset, offset + words.length * 32);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const at = offset + i * 32;
    if (typeof word === "string") writeHex(out, at, word);
    else if (word instanceof Uint8Array) {
      if (word.length > 32) throw new Error("encodeWords: byte value longer than 32 bytes");
      out.set(word, at + 32 - word.length);
    } else if (typeof word === "number" && Number.isSafeInteger(word) && word >= 0) {
      const high = Math.floor(word / 2 ** 32);
      const low = word >>> 0;
      for (let b = 0; b < 4; b++) {
        out[at + 27 - b] = (high >>> (8 * b)) & 0xff;
        out[at + 31 - b] = (low >>> (8 * b)) & 0xff;
      }
    } else {
      let v = BigInt(word);
      if (v < 0n) throw new Error("encodeWords: negative values are not encoded");
      for (let b = 31; b >= 0 && v > 0n; b--) {
        out[at + b] = Number(v & 0xffn);
        v >>= 8n;
      }
      if (v > 0n) throw new Error("encodeWords: value longer than 32 bytes");
    }
  }
  return out;
}

/** Writes a 0x-hex value right-aligned into a 32-byte word, without intermediate strings. */
function writeHex(out: Uint8Array, at: number, hex: string): void {
  const digits = hex.length - 2;
  if (digits > 64) throw new Error("encodeWords: hex value longer than 32 bytes");
  let pos = at + 32 - Math.ceil(digits / 2);
  let i = 2;
  if (digits % 2 === 1) out[pos++] = nibble(hex.charCodeAt(i++));
  for (; i < hex.length; i += 2) out[pos++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  throw new Error("encodeWords: not a hex digit");
}

/** OpenZeppelin's standard leaf: keccak256(bytes.concat(keccak256(abi.encode(...)))). */
export function standardLeafHash(encoded: Uint8Array): Uint8Array {
  return standardLeafHashInto(encoded, 0, encoded.length, new Uint8Array(32), 0);
}

/** `standardLeafHash` of `encoded[offset .. offset + length)` written at `out[outOffset ..]`; returns `out`. */
export function standardLeafHashInto(
  encoded: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): Uint8Array {
  keccak256Into(encoded, offset, length, out, outOffset);
  keccak256Into(out, outOffset, 32, out, outOffset);
  return out;
}

/** Compares leaf `a` and leaf `b` of a flat buffer as OpenZeppelin sorts them: by hash, then input index. */
function compareLeaves(leaves: Uint8Array, a: number, b: number): number {
  const x = a * 32;
  const y = b * 32;
  for (let k = 0; k < 32; k++) {
    const d = leaves[x + k] - leaves[y + k];
    if (d !== 0) return d;
  }
  return a - b;
}

/** Where a u32's halves sit in a `BigUint64Array`'s buffer, seen as u32s. */
const HIGH_HALF = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * Input indexes of a flat buffer of `n` leaf hashes in OpenZeppelin's leaf order (ascending by
 * hash, equal hashes in input order). Sorts 64-bit keys (first four hash bytes, input index)
 * natively, then orders the rare runs that share four bytes by whole hash.
 */
export function sortedLeafOrder(leaves: Uint8Array, n: number): Uint32Array {
  if (leaves.length < n * 32) throw new Error("sortedLeafOrder: fewer than n leaves");
  if (n > 2 ** 32) throw new Error("sortedLeafOrder: more than 2^32 leaves");
  const keys = new BigUint64Array(n);
  const halves = new Uint32Array(keys.buffer);
  for (let i = 0; i < n; i++) {
    const at = i * 32;
    halves[2 * i + HIGH_HALF] = ((leaves[at] << 24) | (leaves[at + 1] << 16) | (leaves[at + 2] << 8) | leaves[at + 3]) >>> 0;
    halves[2 * i + 1 - HIGH_HALF] = i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let r = 0; r < n; r++) order[r] = halves[2 * r + 1 - HIGH_HALF];
  for (let r = 0; r < n; ) {
    let end = r + 1;
    while (end < n && halves[2 * end + HIGH_HALF] === halves[2 * r + HIGH_HALF]) end++;
    if (end - r > 1) order.subarray(r, end).sort((a, b) => compareLeaves(leaves, a, b));
    r = end;
  }
  return order;
}

/** The heap node of the leaf of sort rank `rank` in a tree of `leafCount` leaves. */
export const leafNode = (leafCount: number, rank: number): number => 2 * leafCount - 2 - rank;

/** The siblings of the path from `node` to the root, bottom-up: the nodes of its proof. */
export function proofNodes(node: number): number[] {
  const nodes: number[] = [];
  for (let i = node; i > 0; i = Math.floor((i - 1) / 2)) nodes.push(i % 2 === 1 ? i + 1 : i - 1);
  return nodes;
}

/** A flat copy of a list of 32-byte leaf hashes. */
function flatten(leafHashes: readonly Uint8Array[]): Uint8Array {
  const flat = new Uint8Array(leafHashes.length * 32);
  leafHashes.forEach((leaf, i) => {
    if (leaf.length !== 32) throw new Error(`MerkleTree: leaf ${i} is ${leaf.length} bytes, not 32`);
    flat.set(leaf, i * 32);
  });
  return flat;
}

/** A built tree: root, and a proof for any leaf. */
export class MerkleTree {
  /** (2n - 1) nodes of 32 bytes, heap-ordered: node i has children 2i+1 and 2i+2. */
  private readonly nodes: Uint8Array;
  /** Leaf position (heap node) of each input index. */
  private readonly positionOf: Uint32Array;
  readonly leafCount: number;

  /**
   * Builds from leaf hashes (already double-hashed): one flat buffer of n x 32 bytes (the fast
   * way: no object per leaf), or a list of 32-byte arrays. Empty input is refused: a batch is
   * never empty.
   *
   * @example
   * const tree = new MerkleTree(leafHashes); // Uint8Array of n * 32 bytes
   * verifyProof(leafHashes.subarray(0, 32), tree.proof(0), tree.root); // true
   */
  constructor(leafHashes: Uint8Array | readonly Uint8Array[]) {
    const flat = leafHashes instanceof Uint8Array ? leafHashes : flatten(leafHashes);
    if (flat.length % 32 !== 0) throw new Error("MerkleTree: leaf hashes are not a whole number of 32-byte words");
    const n = flat.length / 32;
    if (n === 0) throw new Error("MerkleTree: no leaves");
    this.leafCount = n;
    const order = sortedLeafOrder(flat, n);
    const size = 2 * n - 1;
    this.nodes = new Uint8Array(size * 32);
    this.positionOf = new Uint32Array(n);
    const words = new Uint32Array(this.nodes.buffer);
    const aligned = flat.byteOffset % 4 === 0 ? new Uint32Array(flat.buffer, flat.byteOffset, n * 8) : null;
    for (let rank = 0; rank < n; rank++) {
      const input = order[rank];
      const node = leafNode(n, rank);
      if (aligned) for (let k = 0; k < 8; k++) words[node * 8 + k] = aligned[input * 8 + k];
      else for (let k = 0; k < 32; k++) this.nodes[node * 32 + k] = flat[input * 32 + k];
      this.positionOf[input] = node;
    }
    for (let i = n - 2; i >= 0; i--) hashPairWords(words, (2 * i + 1) * 8, words, (2 * i + 2) * 8, words, i * 8);
  }

  private node(i: number): Uint8Array {
    return this.nodes.subarray(i * 32, i * 32 + 32);
  }

  get root(): Hex {
    return toHex(this.node(0));
  }

  /** Proof for the leaf given at `index` in the constructor's input. */
  proof(index: number): Hex[] {
    if (!(Number.isInteger(index) && index >= 0 && index < this.leafCount)) throw new Error(`MerkleTree: no leaf ${index}`);
    return proofNodes(this.positionOf[index]).map((i) => toHex(this.node(i)));
  }
}

/** Two words of scratch for `processProof`: the running node and the next sibling. */
const proofScratch = new Uint32Array(16);
const proofScratchBytes = new Uint8Array(proofScratch.buffer);

/** Recomputes a root from a leaf hash and its proof (OpenZeppelin `MerkleProof.processProof`). */
export function processProof(leafHash: Uint8Array | Hex, proof: readonly Hex[]): Hex {
  const leaf = typeof leafHash === "string" ? hexToBytes(leafHash.slice(2)) : leafHash;
  if (leaf.length !== 32) throw new Error("processProof: a leaf hash is 32 bytes");
  proofScratchBytes.set(leaf, 0);
  for (const sibling of proof) {
    const bytes = hexToBytes(sibling.slice(2));
    if (bytes.length !== 32) throw new Error("processProof: a proof node is 32 bytes");
    proofScratchBytes.set(bytes, 32);
    hashPairWords(proofScratch, 0, proofScratch, 8, proofScratch, 0);
  }
  return toHex(proofScratchBytes.slice(0, 32));
}

export function verifyProof(leafHash: Uint8Array | Hex, proof: readonly Hex[], root: Hex): boolean {
  return processProof(leafHash, proof) === root.toLowerCase();
}
