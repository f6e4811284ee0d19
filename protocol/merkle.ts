/**
 * Merkle trees compatible with OpenZeppelin's `StandardMerkleTree` and `MerkleProof.verify`
 * (docs/protocol.md, "Commitments"): leaves are double-hashed (`keccak256(keccak256(abi.encode(...)))`), pairs
 * are hashed sorted, leaves are sorted by hash and laid out in the same array ("heap") shape,
 * so roots and proofs are identical to OpenZeppelin's for the same leaves.
 *
 * Nodes live in one flat buffer of 32-byte words, hashed with `@noble/hashes` keccak: no hex
 * strings on the way, which is what makes this faster than the reference library.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { type Hex, toHex } from "./hex.js";

/** ABI-encodes a tuple of static words: each value is a 32-byte big-endian word. */
export function encodeWords(words: readonly (bigint | number | Uint8Array | Hex)[]): Uint8Array {
  const out = new Uint8Array(words.length * 32);
  const view = new DataView(out.buffer);
  words.forEach((word, i) => {
    const at = i * 32;
    if (typeof word === "string") writeHex(out, at, word);
    else if (word instanceof Uint8Array) out.set(word, at + 32 - word.length);
    else if (typeof word === "number" && Number.isSafeInteger(word) && word >= 0) {
      view.setUint32(at + 24, Math.floor(word / 2 ** 32));
      view.setUint32(at + 28, word >>> 0);
    } else {
      let v = BigInt(word);
      if (v < 0n) throw new Error("encodeWords: negative values are not encoded");
      for (let b = 31; b >= 0 && v > 0n; b--) {
        out[at + b] = Number(v & 0xffn);
        v >>= 8n;
      }
    }
  });
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
  return keccak_256(keccak_256(encoded));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const scratch = new Uint8Array(64);

/** keccak256 of the two nodes in ascending order (OpenZeppelin's commutative hash). */
function hashPairInto(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [lo, hi] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  scratch.set(lo, 0);
  scratch.set(hi, 32);
  return keccak_256(scratch);
}

/** A built tree: root, and a proof for any leaf. */
export class MerkleTree {
  /** (2n - 1) nodes of 32 bytes, heap-ordered: node i has children 2i+1 and 2i+2. */
  private readonly nodes: Uint8Array;
  /** Leaf position (after sorting) of each input index. */
  private readonly positionOf: Uint32Array;
  readonly leafCount: number;

  /** Builds from leaf hashes (already double-hashed). Empty input is refused: a batch is never empty. */
  constructor(leafHashes: readonly Uint8Array[]) {
    const n = leafHashes.length;
    if (n === 0) throw new Error("MerkleTree: no leaves");
    this.leafCount = n;
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => compareBytes(leafHashes[x], leafHashes[y]));
    const size = 2 * n - 1;
    this.nodes = new Uint8Array(size * 32);
    this.positionOf = new Uint32Array(n);
    order.forEach((input, sorted) => {
      const node = size - 1 - sorted;
      this.nodes.set(leafHashes[input], node * 32);
      this.positionOf[input] = node;
    });
    for (let i = size - 1 - n; i >= 0; i--) {
      this.nodes.set(hashPairInto(this.node(2 * i + 1), this.node(2 * i + 2)), i * 32);
    }
  }

  private node(i: number): Uint8Array {
    return this.nodes.subarray(i * 32, i * 32 + 32);
  }

  get root(): Hex {
    return toHex(this.node(0));
  }

  /** Proof for the leaf given at `index` in the constructor's input. */
  proof(index: number): Hex[] {
    if (!(index >= 0 && index < this.leafCount)) throw new Error(`MerkleTree: no leaf ${index}`);
    const proof: Hex[] = [];
    for (let i = this.positionOf[index]; i > 0; i = Math.floor((i - 1) / 2)) {
      proof.push(toHex(this.node(i % 2 === 1 ? i + 1 : i - 1)));
    }
    return proof;
  }
}

/** Recomputes a root from a leaf hash and its proof (OpenZeppelin `MerkleProof.processProof`). */
export function processProof(leafHash: Uint8Array | Hex, proof: readonly Hex[]): Hex {
  let node = typeof leafHash === "string" ? hexToBytes(leafHash.slice(2)) : leafHash;
  for (const sibling of proof) node = hashPairInto(node, hexToBytes(sibling.slice(2)));
  return toHex(node);
}

export function verifyProof(leafHash: Uint8Array | Hex, proof: readonly Hex[], root: Hex): boolean {
  return processProof(leafHash, proof) === root.toLowerCase();
}
