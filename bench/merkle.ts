/**
 * Merkle trees for 10k, 100k and 1M receipts, ours against @openzeppelin/merkle-tree on the same
 * leaves, each measurement in a fresh process (time and peak memory). From receipts (ABI encoding
 * and leaf hashing included: StandardMerkleTree) at 10k and 100k; over the same precomputed leaf
 * hashes (the tree and its proofs alone: SimpleMerkleTree) at every size, because
 * StandardMerkleTree at 1M takes longer than this whole benchmark may (over eight minutes here).
 *
 * Then a session of 1,000,000 receipts in SQLite (node:sqlite, the Durable Object's code through
 * test/support/node-sql.ts): close (`buildStoredSessionTree`) and 1,000 random proofs
 * (`storedProof`), each in a fresh process limited to a 128 MB heap.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { receiptLeafHashInto } from "../protocol/commitments.js";
import { benchReceipt } from "./bench-receipts.js";

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

/** Runs a bench script in a fresh Node process; `--import tsx` (not tsx's CLI) so Node options such as the heap limit apply to it. */
function child(script: string, args: string[], nodeOptions: string[]): string {
  const out = execFileSync(
    process.execPath,
    [...nodeOptions, "--disable-warning=ExperimentalWarning", "--import", "tsx", script, ...args],
    { encoding: "utf8", maxBuffer: 16 * 2 ** 20 },
  );
  return out.trim().split("\n").pop() as string;
}

function run(impl: string, leaves: number, proofs: number, input: string, leafFile?: string): MerkleRun {
  const args = [impl, String(leaves), String(proofs), input, ...(leafFile ? [leafFile] : [])];
  return JSON.parse(child("bench/merkle-child.ts", args, ["--max-old-space-size=8192"]));
}

/** The leaf hashes of the bench's first `n` receipts, in a file both implementations read. */
function leafHashFile(n: number): string {
  const file = path.join(os.tmpdir(), `conductor-bench-leaves-${n}.bin`);
  const flat = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) receiptLeafHashInto(benchReceipt(i), flat, i * 32);
  fs.writeFileSync(file, flat);
  return file;
}

export function benchMerkle({ proofs = 10_000 } = {}) {
  const rows = [];
  for (const [input, sizes] of [
    ["receipts", [10_000, 100_000]],
    ["leaf-hashes", [10_000, 100_000, 1_000_000]],
  ] as const) {
    for (const leaves of sizes) {
      const leafFile = input === "leaf-hashes" ? leafHashFile(leaves) : undefined;
      const ours = run("ours", leaves, proofs, input, leafFile);
      const oz = run("openzeppelin", leaves, proofs, input, leafFile);
      if (leafFile) fs.rmSync(leafFile, { force: true });
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

export interface SessionTreeRun {
  receipts: number;
  setup: { setupMs: number; dbMb: number; expectedRoot: string };
  close: {
    root: string;
    closeMs: number;
    treeRows: number;
    treeMb: number;
    dbMb: number;
    peakHeapAndBuffersMb: number;
    peakRssMb: number;
    heapSizeLimitMb: number;
  };
  proofs: {
    proofs: number;
    verified: number;
    proofsMs: number;
    msPerProof: number;
    statementsPerProof: number;
    siblingsPerProof: number;
    treeRowsPerProof: number;
    peakHeapAndBuffersMb: number;
    peakRssMb: number;
    heapSizeLimitMb: number;
  };
  heapLimitMb: number;
  sameRoot: boolean;
}

/**
 * A session of `receipts` receipts in a node:sqlite file: set up (not measured), closed, then
 * `proofs` random proofs read, close and proofs each in a fresh process with a `heapLimitMb` heap.
 */
export function benchSessionTree({ receipts = 1_000_000, proofs = 1_000, heapLimitMb = 128 } = {}): SessionTreeRun {
  const file = path.join(os.tmpdir(), `conductor-bench-session-${receipts}.db`);
  const limited = [`--max-old-space-size=${heapLimitMb}`];
  try {
    const setup = JSON.parse(child("bench/session-tree-child.ts", ["setup", String(receipts), file], []));
    const close = JSON.parse(child("bench/session-tree-child.ts", ["close", file], limited));
    const read = JSON.parse(child("bench/session-tree-child.ts", ["proofs", file, String(proofs), close.root], limited));
    return { receipts, setup, close, proofs: read, heapLimitMb, sameRoot: close.root === setup.expectedRoot };
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });
  }
}

const f = (n: number, digits = 0) => n.toFixed(digits);

/** Runs both Merkle benchmarks and prints their tables (the Merkle section of `npm run bench`). */
export function merkleSection(log: (line?: string) => void) {
  log("\n== Merkle: ours against @openzeppelin/merkle-tree, same leaves, fresh process each ==");
  const trees = benchMerkle();
  log("input        leaves    proofs   ours ms   OZ ms      speedup  ours MB  OZ MB  same root");
  for (const m of trees) {
    log(
      `${m.input.padEnd(11)}  ${String(m.leaves).padStart(8)}  ${String(m.proofs).padStart(6)}  ${f(m.ours.totalMs).padStart(8)}  ${f(m.openzeppelin.totalMs).padStart(9)}  ${f(m.speedup, 2).padStart(8)}x  ${f(m.ours.peakRssMb).padStart(7)}  ${f(m.openzeppelin.peakRssMb).padStart(5)}  ${m.sameRoot}`,
    );
  }
  log("(MB: peak RSS of the measuring process, input included; targets at 1M: >= 20x, <= 256 MB)");

  const session = benchSessionTree();
  const { close, proofs } = session;
  log(
    `\n== Session of ${session.receipts.toLocaleString("en")} receipts in SQLite (node:sqlite), heap limited to ${session.heapLimitMb} MB ==`,
  );
  log("step                 ms        peak heap+buffers MB  peak RSS MB  notes");
  log(
    `close               ${f(close.closeMs).padStart(7)}  ${f(close.peakHeapAndBuffersMb, 1).padStart(20)}  ${f(close.peakRssMb).padStart(11)}  ${close.treeRows} tree rows (${f(close.treeMb, 1)} MB), same root: ${session.sameRoot}`,
  );
  log(
    `${String(proofs.proofs).padEnd(5)} random proofs  ${f(proofs.proofsMs).padStart(7)}  ${f(proofs.peakHeapAndBuffersMb, 1).padStart(20)}  ${f(proofs.peakRssMb).padStart(11)}  ${f(proofs.msPerProof, 3)} ms each, ${f(proofs.statementsPerProof)} statements, ${f(proofs.treeRowsPerProof, 1)} tree rows for ${f(proofs.siblingsPerProof, 1)} siblings, ${proofs.verified} verified`,
  );
  log(
    `(setup, not measured: ${f(session.setup.setupMs / 1000, 1)} s to insert the receipts, database ${f(session.setup.dbMb)} MB)`,
  );
  return { trees, session };
}
