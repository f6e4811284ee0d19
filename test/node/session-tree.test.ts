import { DatabaseSync } from "node:sqlite";
import { SimpleMerkleTree, StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { describe, expect, it } from "vitest";
import {
  RECEIPT_LEAF_TYPES,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptLeafValues,
  sessionTree,
} from "../../protocol/commitments.js";
import { type Hex, sha256Hex, toHex } from "../../protocol/hex.js";
import { keccak256Into } from "../../protocol/keccak.js";
import { MerkleTree, verifyProof } from "../../protocol/merkle.js";
import { buildStoredTree, type MerkleNodeStore, readStoredProof } from "../../protocol/stored-merkle.js";
import { buildStoredSessionTree, type SessionSql, storedProof } from "../../workers/sessions/session-tree.js";
import { nodeSql } from "../support/node-sql.js";

/** n leaf hashes in one flat buffer; with `distinct` of them at most, so hashes repeat. */
function leafHashes(n: number, distinct = n): Uint8Array {
  const flat = new Uint8Array(n * 32);
  const seed = new Uint8Array(4);
  for (let i = 0; i < n; i++) {
    new DataView(seed.buffer).setUint32(0, (i * 7919) % distinct);
    keccak256Into(seed, 0, 4, flat, i * 32);
  }
  return flat;
}

const leafAt = (flat: Uint8Array, i: number) => flat.subarray(i * 32, i * 32 + 32);
const hexLeaves = (flat: Uint8Array) => Array.from({ length: flat.length / 32 }, (_, i) => toHex(leafAt(flat, i)));

/** Input indexes in OpenZeppelin's leaf order (by hash, then input index), as SQLite's ORDER BY gives them. */
const sortedIndexes = (flat: Uint8Array) =>
  Array.from({ length: flat.length / 32 }, (_, i) => i).sort((a, b) => Buffer.compare(leafAt(flat, a), leafAt(flat, b)) || a - b);
const sortedLeaves = (flat: Uint8Array) => sortedIndexes(flat).map((i) => leafAt(flat, i));

/** A store in a Map that counts what is read and checks what is written. */
function countingStore() {
  const nodes = new Map<number, Uint8Array>();
  const stats = { runReads: 0, nodesReadInRuns: 0, largestRunRead: 0, largestRunWritten: 0, setReads: 0, nodesReadInSets: 0 };
  const store: MerkleNodeStore = {
    writeRun(first, hashes) {
      stats.largestRunWritten = Math.max(stats.largestRunWritten, hashes.length / 32);
      for (let k = 0; k < hashes.length / 32; k++) {
        if (nodes.has(first + k)) throw new Error(`node ${first + k} written twice`);
        nodes.set(first + k, hashes.slice(k * 32, k * 32 + 32));
      }
    },
    readRun(first, into) {
      stats.runReads++;
      stats.nodesReadInRuns += into.length / 32;
      stats.largestRunRead = Math.max(stats.largestRunRead, into.length / 32);
      for (let k = 0; k < into.length / 32; k++) {
        const node = nodes.get(first + k);
        if (!node) throw new Error(`node ${first + k} read before it was written`);
        into.set(node, k * 32);
      }
    },
    readNodes(list) {
      stats.setReads++;
      stats.nodesReadInSets += list.length;
      const out = new Uint8Array(list.length * 32);
      list.forEach((node, k) => {
        out.set(nodes.get(node) as Uint8Array, k * 32);
      });
      return out;
    },
  };
  return { store, nodes, stats };
}

/** A session database with `receipts(relay_index, leaf_hash, leaf_position)` holding `flat`'s leaves. */
function sessionDatabase(flat: Uint8Array, { record = false } = {}) {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE receipts (relay_index INTEGER PRIMARY KEY, leaf_hash BLOB, leaf_position INTEGER)");
  const insert = db.prepare("INSERT INTO receipts (relay_index, leaf_hash) VALUES (?, ?)");
  db.exec("BEGIN");
  for (let i = 0; i < flat.length / 32; i++) insert.run(i, leafAt(flat, i));
  db.exec("COMMIT");
  return { db, sql: nodeSql(db, { record }) };
}

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33, 100, 255, 256, 1000, 1025];
const ceilLog2 = (n: number) => Math.ceil(Math.log2(n));

describe("stored trees are the in-memory tree, node for node", () => {
  it.each(SIZES)("%i leaves, blocks of 1 to 64 nodes: same root, every node written once, bounded reads", (n) => {
    for (const distinct of [n, Math.max(1, Math.floor(n / 3))]) {
      const flat = leafHashes(n, distinct);
      const tree = new MerkleTree(flat);
      for (const blockNodes of [1, 2, 3, 5, 8, 64]) {
        const { store, nodes, stats } = countingStore();
        const root = buildStoredTree(n, sortedLeaves(flat), store, { blockNodes });
        expect(toHex(root)).toBe(tree.root);
        expect(nodes.size).toBe(2 * n - 1);
        expect(stats.largestRunWritten).toBeLessThanOrEqual(blockNodes);
        expect(stats.largestRunRead).toBeLessThanOrEqual(2 * blockNodes);
        // Every inner node's children are read once at most (some come from the block in hand).
        expect(stats.nodesReadInRuns).toBeLessThanOrEqual(2 * (n - 1));
      }
    }
  });

  it("a proof is one read of its sibling nodes, at most ceil(log2 n) of them, equal to the in-memory proof", () => {
    for (const n of [1, 2, 3, 1000, 4097]) {
      const flat = leafHashes(n, n > 3 ? n - 5 : n);
      const tree = new MerkleTree(flat);
      const { store, stats } = countingStore();
      buildStoredTree(n, sortedLeaves(flat), store, { blockNodes: 16 });
      const positions = new Map<number, number>();
      sortedIndexes(flat).forEach((input, rank) => {
        positions.set(input, 2 * n - 2 - rank);
      });
      const reads = { ...stats };
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50))) {
        const before = { sets: stats.setReads, nodes: stats.nodesReadInSets };
        const proof = readStoredProof(store, positions.get(i) as number);
        expect(proof).toEqual(tree.proof(i));
        expect(stats.setReads - before.sets).toBe(n === 1 ? 0 : 1);
        expect(stats.nodesReadInSets - before.nodes).toBe(proof.length);
        expect(proof.length).toBeLessThanOrEqual(ceilLog2(n));
      }
      expect(stats.runReads).toBe(reads.runReads);
    }
  });

  it("refuses leaves out of order, too few, too many, or not 32 bytes", () => {
    const flat = leafHashes(10);
    const sorted = sortedLeaves(flat);
    const build = (leaves: Uint8Array[], n = 10) => buildStoredTree(n, leaves, countingStore().store, { blockNodes: 4 });
    expect(() => build([sorted[1], sorted[0], ...sorted.slice(2)])).toThrow(/out of order/);
    expect(() => build(sorted.slice(1))).toThrow(/9 leaves, expected 10/);
    expect(() => build([...sorted, sorted[9]])).toThrow(/more than 10 leaves/);
    expect(() => build([sorted[0].subarray(0, 31), ...sorted.slice(1)])).toThrow(/31 bytes/);
    expect(() => build([], 0)).toThrow(/at least one leaf/);
  });
});

describe("session trees in SQLite (node:sqlite behind the Durable Object SQL shape)", () => {
  it.each(SIZES)("%i receipts: root and every proof equal MerkleTree's and OpenZeppelin's", (n) => {
    for (const distinct of [n, Math.max(1, Math.floor(n / 3))]) {
      const flat = leafHashes(n, distinct);
      const tree = new MerkleTree(flat);
      const oz = SimpleMerkleTree.of(hexLeaves(flat));
      expect(tree.root).toBe(oz.root);
      for (const [blockNodes, nodesPerRow] of [
        [2, 1],
        [4, 2],
        [12, 4],
        [8192, 32],
      ]) {
        const { sql } = sessionDatabase(flat);
        expect(buildStoredSessionTree(sql, { blockNodes, nodesPerRow })).toEqual({ root: oz.root, leafCount: n });
        for (let i = 0; i < n; i += n > 100 ? 37 : 1) {
          const found = storedProof(sql, i, { nodesPerRow });
          expect(found).toEqual({ leafHash: toHex(leafAt(flat, i)), proof: oz.getProof(i) });
          expect(found?.proof).toEqual(tree.proof(i));
        }
      }
    }
  });

  it("receipts: the stored session root is sessionTree's and StandardMerkleTree's; proofs verify in both", () => {
    const seed = sha256Hex("stored-session");
    const receipts: ReceiptLeaf[] = Array.from({ length: 300 }, (_, i) => ({
      sessionSeed: seed,
      relayIndex: i,
      hostId: i % 5 === 4 ? null : `host_${i % 3}`,
      requestDigest: sha256Hex(`req${i}`),
      responseDigest: i % 7 === 6 ? null : sha256Hex(`res${i}`),
      status: 200,
      outcome: i % 13 === 12 ? "pending" : "ok",
      latencyMs: 10 + i,
      computeUnits: 1 + (i % 4),
      createdAt: 1_763_712_000_000 + i,
    }));
    const flat = new Uint8Array(receipts.length * 32);
    receipts.forEach((r, i) => {
      flat.set(receiptLeafHash(r), i * 32);
    });
    const { sql } = sessionDatabase(flat);
    const oz = StandardMerkleTree.of(
      receipts.map((r) => receiptLeafValues(r).map(String)),
      [...RECEIPT_LEAF_TYPES],
    );
    const { root } = buildStoredSessionTree(sql, { blockNodes: 64, nodesPerRow: 8 });
    expect(root).toBe(sessionTree(receipts).root);
    expect(root).toBe(oz.root);
    for (const i of [0, 1, 150, 299]) {
      const found = storedProof(sql, i, { nodesPerRow: 8 });
      expect(found?.proof).toEqual(oz.getProof(i));
      expect(verifyProof(receiptLeafHash(receipts[i]), found?.proof ?? [], root as Hex)).toBe(true);
      expect(
        StandardMerkleTree.verify(
          root as Hex,
          [...RECEIPT_LEAF_TYPES],
          receiptLeafValues(receipts[i]).map(String),
          found?.proof ?? [],
        ),
      ).toBe(true);
    }
  });

  it("writes each receipt's leaf position (its heap node) and rebuilds the same tree when closed again", () => {
    const n = 77;
    const flat = leafHashes(n, 50);
    const { db, sql } = sessionDatabase(flat);
    const first = buildStoredSessionTree(sql, { blockNodes: 8, nodesPerRow: 4 });
    const positions = db.prepare("SELECT relay_index, leaf_position FROM receipts ORDER BY leaf_hash, relay_index").all();
    expect(positions.map((r) => r.leaf_position)).toEqual(Array.from({ length: n }, (_, rank) => 2 * n - 2 - rank));
    expect(buildStoredSessionTree(sql, { blockNodes: 8, nodesPerRow: 4 })).toEqual(first);
    expect(db.prepare("SELECT count(*) AS rows, sum(length(hashes)) AS bytes FROM tree_nodes").get()).toEqual({
      rows: Math.ceil((2 * n - 1) / 4),
      bytes: (2 * n - 1) * 32,
    });
  });

  it("a proof is two statements: the receipt, then the rows of its siblings (at most one per level)", () => {
    const n = 100_000;
    const flat = leafHashes(n);
    const { sql } = sessionDatabase(flat, { record: true });
    buildStoredSessionTree(sql);
    const tree = new MerkleTree(flat);
    for (const i of [0, 1, 4242, 99_999]) {
      sql.log.length = 0;
      const found = storedProof(sql, i);
      expect(found?.proof).toEqual(tree.proof(i));
      expect(sql.log).toHaveLength(2);
      expect(sql.log[0]).toMatchObject({ query: expect.stringContaining("FROM receipts"), rows: 1 });
      expect(sql.log[1].query).toContain("FROM tree_nodes");
      expect(sql.log[1].rows).toBeLessThanOrEqual(found?.proof.length ?? 0);
      expect(found?.proof.length).toBeLessThanOrEqual(ceilLog2(n));
    }
  });

  it("an empty session has no root; a missing receipt or an unbuilt tree has no proof", () => {
    const { sql } = sessionDatabase(new Uint8Array(0));
    expect(buildStoredSessionTree(sql)).toEqual({ root: null, leafCount: 0 });
    expect(storedProof(sql, 0)).toBeNull();
    const built = sessionDatabase(leafHashes(5)).sql;
    expect(storedProof(built, 2)).toBeNull();
    buildStoredSessionTree(built);
    expect(storedProof(built, 5)).toBeNull();
    expect(storedProof(built, 4)).not.toBeNull();
  });

  it("refuses gaps in relay indexes, receipts without a leaf hash and mismatched block and row sizes", () => {
    const gap = sessionDatabase(leafHashes(4));
    gap.db.exec("DELETE FROM receipts WHERE relay_index = 2");
    expect(() => buildStoredSessionTree(gap.sql)).toThrow(/relay indexes run 0\.\.3, not 0\.\.2/);
    const unhashed = sessionDatabase(leafHashes(4));
    unhashed.db.exec("UPDATE receipts SET leaf_hash = NULL WHERE relay_index = 1");
    expect(() => buildStoredSessionTree(unhashed.sql)).toThrow(/1 receipts have no leaf hash/);
    expect(() => buildStoredSessionTree(sessionDatabase(leafHashes(4)).sql, { blockNodes: 10, nodesPerRow: 4 })).toThrow(
      /multiple of nodesPerRow/,
    );
  });
});

// The adapter must behave as Durable Object SQL does, or the tests above prove nothing about it.
describe("the node:sqlite adapter", () => {
  it("returns BLOBs as ArrayBuffers, runs writes at once and reads rows lazily", () => {
    const db = new DatabaseSync(":memory:");
    const sql: SessionSql = nodeSql(db);
    sql.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
    sql.exec("INSERT INTO t VALUES (?, ?), (?, ?)", 1, new Uint8Array([1, 2]), 2, new Uint8Array([3]).buffer);
    const rows = sql.exec<{ k: number; v: ArrayBuffer }>("SELECT k, v FROM t ORDER BY k").toArray();
    expect(rows.map((r) => [r.k, r.v instanceof ArrayBuffer, [...new Uint8Array(r.v)]])).toEqual([
      [1, true, [1, 2]],
      [2, true, [3]],
    ]);
    expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM t").one().n).toBe(2);
    expect(() => sql.exec("SELECT k FROM t").one()).toThrow(/exactly one/);
  });
});
