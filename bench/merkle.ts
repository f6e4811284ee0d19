/**
 * Merkle trees for 10k, 100k and 1M receipts, ours against @openzeppelin/merkle-tree on the same
 * leaves, each measurement in a fresh process (time and peak memory). From receipts (ABI encoding
 * and leaf hashing included: StandardMerkleTree) at 10k and 100k; over the same precomputed leaf
 * hashes (the tree and its proofs alone: SimpleMerkleTree) at every size, because
 * StandardMerkleTree at 1M takes longer than this whole benchmark may (over eight minutes here).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

export interface MerkleRun {
  impl: string;
  input: string;
  leaves: number;
  proofs: number;
  buildMs: number;
  proofsMs: number;
  totalMs: number;
  peakRssMb: number;
  root: string;
}

const tsx = path.join("node_modules", "tsx", "dist", "cli.mjs");

function run(impl: string, leaves: number, proofs: number, input: string): MerkleRun {
  const out = execFileSync(
    process.execPath,
    ["--max-old-space-size=8192", tsx, "bench/merkle-child.ts", impl, String(leaves), String(proofs), input],
    { encoding: "utf8" },
  );
  return JSON.parse(out.trim().split("\n").pop() as string);
}

export function benchMerkle({ proofs = 10_000 } = {}) {
  const rows = [];
  for (const [input, sizes] of [
    ["receipts", [10_000, 100_000]],
    ["leaf-hashes", [10_000, 100_000, 1_000_000]],
  ] as const) {
    for (const leaves of sizes) {
      const ours = run("ours", leaves, proofs, input);
      const oz = run("openzeppelin", leaves, proofs, input);
      rows.push({
        input,
        leaves,
        proofs: ours.proofs,
        ours,
        openzeppelin: oz,
        sameRoot: ours.root === oz.root,
        speedup: oz.totalMs / ours.totalMs,
      });
    }
  }
  return rows;
}
