// One Merkle measurement in a fresh process (so peak memory is this measurement's alone):
//   tsx bench/merkle-child.ts <ours|openzeppelin> <leaves> <proofs> <receipts|leaf-hashes>
// `receipts`: builds the tree from receipts, ABI encoding and leaf hashing included
// (StandardMerkleTree for OpenZeppelin). `leaf-hashes`: builds the tree over the same precomputed
// leaf hashes (SimpleMerkleTree for OpenZeppelin), the tree and proofs alone. Then `proofs` proofs
// spread over the leaves. Prints one JSON line.
import { SimpleMerkleTree, StandardMerkleTree } from "@openzeppelin/merkle-tree";
import {
  RECEIPT_LEAF_TYPES,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptLeafValues,
  sessionTree,
} from "../protocol/commitments.js";
import { sha256Hex } from "../protocol/hex.js";
import { MerkleTree } from "../protocol/merkle.js";

const [impl, leavesArg, proofsArg, input = "receipts"] = process.argv.slice(2);
const n = Number(leavesArg);
const proofs = Math.min(n, Number(proofsArg));
const seed = sha256Hex("bench-session");
const receipts: ReceiptLeaf[] = Array.from({ length: n }, (_, i) => ({
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
}));
const indexes = Array.from({ length: proofs }, (_, k) => Math.floor((k * n) / proofs));
const leafHashes = input === "leaf-hashes" ? receipts.map(receiptLeafHash) : [];
const leafHex =
  impl === "openzeppelin" && input === "leaf-hashes" ? leafHashes.map((h) => `0x${Buffer.from(h).toString("hex")}`) : [];
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
