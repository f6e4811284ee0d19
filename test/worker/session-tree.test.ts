/**
 * The stored session tree on a real Durable Object's SQLite (workerd): BLOBs as ArrayBuffers,
 * the 100-parameter limit, UPDATE ... FROM json_each, a cursor read while other statements
 * write. A `RelaySession` object that never opens a session lends its `ctx.storage.sql`; the
 * test replaces its receipts table with one of its own, so it does not depend on that object's
 * schema.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RelaySession } from "../../durable-objects/relay-session.js";
import { toHex } from "../../protocol/hex.js";
import { keccak256Into } from "../../protocol/keccak.js";
import { MerkleTree } from "../../protocol/merkle.js";
import { relaySessionStub } from "../../workers/sessions/session-stub.js";
import { buildStoredSessionTree, type SessionSql, storedProof } from "../../workers/sessions/session-tree.js";

function leafHashes(n: number, distinct: number): Uint8Array {
  const flat = new Uint8Array(n * 32);
  const seed = new Uint8Array(4);
  for (let i = 0; i < n; i++) {
    new DataView(seed.buffer).setUint32(0, i % distinct);
    keccak256Into(seed, 0, 4, flat, i * 32);
  }
  return flat;
}

function fillReceipts(sql: SessionSql, flat: Uint8Array): void {
  sql.exec("DROP TABLE IF EXISTS receipts");
  sql.exec("CREATE TABLE receipts (relay_index INTEGER PRIMARY KEY, leaf_hash BLOB, leaf_position INTEGER)");
  for (let i = 0; i < flat.length / 32; i++) {
    sql.exec("INSERT INTO receipts (relay_index, leaf_hash) VALUES (?, ?)", i, flat.slice(i * 32, i * 32 + 32));
  }
}

describe("session trees in a Durable Object's SQLite", () => {
  it("close and proofs equal the in-memory tree, with tiny blocks and with the defaults", async () => {
    const stub = relaySessionStub(env, `session-tree-test-${crypto.randomUUID()}`);
    await runInDurableObject(stub, (_object: RelaySession, state) => {
      const sql: SessionSql = state.storage.sql;
      for (const [n, options] of [
        [1, { blockNodes: 2, nodesPerRow: 1 }],
        [333, { blockNodes: 6, nodesPerRow: 3 }],
        [20_000, {}],
      ] as const) {
        const flat = leafHashes(n, Math.max(1, n - 7));
        const tree = new MerkleTree(flat);
        fillReceipts(sql, flat);
        expect(buildStoredSessionTree(sql, options)).toEqual({ root: tree.root, leafCount: n });
        for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 40))) {
          expect(storedProof(sql, i, options)).toEqual({
            leafHash: toHex(flat.subarray(i * 32, i * 32 + 32)),
            proof: tree.proof(i),
          });
        }
      }
      sql.exec("DROP TABLE receipts");
      sql.exec("DROP TABLE tree_nodes");
    });
  });
});
