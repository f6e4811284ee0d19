// One Merkle measurement in a fresh process (so peak memory is this measurement's alone):
//   tsx bench/merkle-child.ts <ours|openzeppelin> <leaves> <proofs> receipts
//   tsx bench/merkle-child.ts <ours|openzeppelin> <leaves> <proofs> leaf-hashes <file>
// `receipts`: builds the tree from receipts, ABI encoding and leaf hashing included
// (StandardMerkleTree for OpenZeppelin). `leaf-hashes`: builds the tree over the same precomputed
// leaf hashes (SimpleMerkleTree for OpenZeppelin), the tree and proofs alone; the leaf hashes are
// read from `file` (n x 32 bytes, written by bench/merkle.ts), so the input costs 32 bytes a leaf
// (plus hex strings for OpenZeppelin, which takes those) and peak memory is the tree's. Then
// `proofs` proofs spread over the leaves. Prints one JSON line.
import fs from "node:fs";
import { SimpleMerkleTree, StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { RECEIPT_LEAF_TYPES, type ReceiptLeaf, receiptLeafValues, sessionTree } from "../protocol/commitments.js";
import { MerkleTree } from "../protocol/merkle.js";
import { benchReceipt } from "./bench-receipts.js";

const [impl, leavesArg, proofsArg, input = "receipts", leafFile] = process.argv.slice(2);
const n = Number(leavesArg);
const proofs = Math.min(n, Number(proofsArg));
const receipts: ReceiptLeaf[] = input === "receipts" ? Array.from({ length: n }, (_, i) => benchReceipt(i)) : [];
const leafHashes: Uint8Array = input === "leaf-hashes" ? fs.readFileSync(leafFile) : new Uint8Array(0);
if (leafHashes.length !== (input === "leaf-hashes" ? n * 32 : 0)) throw new Error(`${leafFile}: not ${n} leaf hashes`);
const leafHex =
  impl === "openzeppelin" && input === "leaf-hashes"
    ? Array.from({ length: n }, (_, i) => `0x${Buffer.from(leafHashes.subarray(i * 32, i * 32 + 32)).toString("hex")}`)
    : [];
const indexes = Array.from({ length: proofs }, (_, k) => Math.floor((k * n) / proofs));
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
let root: string;
let built: number;
if (input === "leaf-hashes" && impl === "ours") {
  const tree = new MerkleTree(leafHashes);
  root = tree.root;
  built = performance.now();
  for (const i of indexes) tree.proof(i);
} else if (input === "leaf-hashes") {
  const tree = SimpleMerkleTree.of(leafHex);
  root = tree.root;
  built = performance.now();
  for (const i of indexes) tree.getProof(i);
} else if (impl === "ours") {
  const tree = sessionTree(receipts);
  root = tree.root;
  built = performance.now();
  for (const i of indexes) tree.proof(i);
} else {
  const values = receipts.map((r) => receiptLeafValues(r).map(String));
  const tree = StandardMerkleTree.of(values, [...RECEIPT_LEAF_TYPES]);
  root = tree.root;
  built = performance.now();
  for (const i of indexes) tree.getProof(i);
}
const done = performance.now();
console.log(
  JSON.stringify({
    impl,
    input,
    leaves: n,
    proofs,
    buildMs: built - started,
    proofsMs: done - built,
    totalMs: done - started,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    inputRssMb: rssBefore / 1024 / 1024,
    root,
  }),
);
