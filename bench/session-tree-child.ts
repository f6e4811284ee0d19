// One step of the "session of N receipts" benchmark, each in a fresh process (bench/merkle.ts):
//   tsx bench/session-tree-child.ts setup <receipts> <db>         a node:sqlite session database: the
//       Durable Object's receipt columns plus leaf_hash, one row per receipt; prints the root that
//       MerkleTree gives for the same leaves (this step is not measured)
//   tsx bench/session-tree-child.ts close <db>                    buildStoredSessionTree, in one transaction
//   tsx bench/session-tree-child.ts proofs <db> <count> <root>    storedProof of `count` random receipts, each verified
// `close` and `proofs` sample heap + array buffers (process.memoryUsage) at every SQL statement
// and report the peak; bench/merkle.ts runs them with --max-old-space-size=128. Prints one JSON line.
import fs from "node:fs";
import { DatabaseSync } from "node:sqlite";
import v8 from "node:v8";
import { receiptLeafHashInto } from "../protocol/commitments.js";
import type { Hex } from "../protocol/hex.js";
import { MerkleTree, verifyProof } from "../protocol/merkle.js";
import { nodeSql } from "../test/support/node-sql.js";
import { buildStoredSessionTree, type SessionSql, type SqlValue, storedProof } from "../workers/sessions/session-tree.js";
import { benchReceipt } from "./bench-receipts.js";

const [step, ...args] = process.argv.slice(2);
const mb = (bytes: number) => bytes / 2 ** 20;

/** Peak of heap used + array buffers, sampled before every statement (the work between them is bounded). */
let peakBytes = 0;
function sample(): void {
  const m = process.memoryUsage();
  peakBytes = Math.max(peakBytes, m.heapUsed + m.arrayBuffers);
}

function sampledSql(db: DatabaseSync, record = false) {
  const inner = nodeSql(db, { record });
  const sql: SessionSql = {
    exec<T extends Record<string, SqlValue>>(query: string, ...bindings: (SqlValue | Uint8Array)[]) {
      sample();
      return inner.exec<T>(query, ...bindings);
    },
  };
  return { sql, log: inner.log };
}

function memory() {
  sample();
  return {
    peakHeapAndBuffersMb: mb(peakBytes),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    // The V8 heap's hard limit in this process: --max-old-space-size plus the young generation.
    heapSizeLimitMb: mb(v8.getHeapStatistics().heap_size_limit),
  };
}

if (step === "setup") {
  const [receiptsArg, file] = args;
  const n = Number(receiptsArg);
  fs.rmSync(file, { force: true });
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`CREATE TABLE receipts (
    relay_index INTEGER PRIMARY KEY, host_id TEXT, request_digest TEXT NOT NULL, response_digest TEXT,
    status INTEGER NOT NULL DEFAULT 0, outcome TEXT NOT NULL DEFAULT 'pending', latency_ms INTEGER,
    compute_units INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
    completed_at INTEGER, leaf_hash BLOB, leaf_position INTEGER)`);
  const insert = db.prepare(
    `INSERT INTO receipts (relay_index, host_id, request_digest, response_digest, status, outcome, latency_ms,
       compute_units, attempts, created_at, completed_at, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
  );
  const started = performance.now();
  const leafHashes = new Uint8Array(n * 32);
  db.exec("BEGIN");
  for (let i = 0; i < n; i++) {
    const r = benchReceipt(i);
    receiptLeafHashInto(r, leafHashes, i * 32);
    insert.run(
      i,
      r.hostId,
      r.requestDigest,
      r.responseDigest,
      r.status,
      r.outcome,
      r.latencyMs,
      r.computeUnits,
      r.createdAt,
      r.createdAt + (r.latencyMs ?? 0),
      leafHashes.subarray(i * 32, i * 32 + 32),
    );
  }
  db.exec("COMMIT");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const expectedRoot = new MerkleTree(leafHashes).root;
  console.log(
    JSON.stringify({ step, receipts: n, setupMs: performance.now() - started, dbMb: mb(fs.statSync(file).size), expectedRoot }),
  );
} else if (step === "close") {
  const [file] = args;
  const db = new DatabaseSync(file);
  const { sql } = sampledSql(db);
  sample();
  const started = performance.now();
  db.exec("BEGIN");
  const { root, leafCount } = buildStoredSessionTree(sql);
  db.exec("COMMIT");
  const closeMs = performance.now() - started;
  const stored = db.prepare("SELECT count(*) AS rows, sum(length(hashes)) AS bytes FROM tree_nodes").get() as {
    rows: number;
    bytes: number;
  };
  db.close();
  console.log(
    JSON.stringify({
      step,
      leafCount,
      root,
      closeMs,
      treeRows: stored.rows,
      treeMb: mb(stored.bytes),
      dbMb: mb(fs.statSync(file).size),
      ...memory(),
    }),
  );
} else if (step === "proofs") {
  const [file, countArg, root] = args;
  const count = Number(countArg);
  const db = new DatabaseSync(file, { readOnly: true });
  const { sql, log } = sampledSql(db, true);
  const n = (db.prepare("SELECT count(*) AS n FROM receipts").get() as { n: number }).n;
  // A fixed pseudo-random sequence (mulberry32), so every run asks for the same receipts.
  let state = 0x5eed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const indexes = Array.from({ length: count }, () => Math.floor(random() * n));
  sample();
  let proofsMs = 0;
  let verified = 0;
  let siblings = 0;
  for (const i of indexes) {
    const started = performance.now();
    const found = storedProof(sql, i);
    proofsMs += performance.now() - started;
    if (found && verifyProof(found.leafHash, found.proof, root as Hex)) verified++;
    siblings += found?.proof.length ?? 0;
  }
  const treeReads = log.filter((e) => e.query.includes("tree_nodes"));
  db.close();
  console.log(
    JSON.stringify({
      step,
      proofs: count,
      verified,
      proofsMs,
      msPerProof: proofsMs / count,
      statementsPerProof: log.length / count,
      siblingsPerProof: siblings / count,
      treeRowsPerProof: treeReads.reduce((s, e) => s + e.rows, 0) / count,
      ...memory(),
    }),
  );
} else {
  throw new Error(`unknown step ${step}`);
}
