/**
 * A session's Merkle tree kept in its Durable Object's SQLite (docs/performance.md, "Session
 * trees in storage"): closing a session builds the tree from the receipts' leaf hashes a block
 * at a time (`protocol/stored-merkle.ts`), so memory stays a few megabytes whatever the number
 * of receipts, and a proof reads one receipt and the rows holding its sibling nodes.
 *
 * Written against the part of `ctx.storage.sql` it uses (`SessionSql`), so the same code runs
 * in the Durable Object and in Node on `node:sqlite` (test/support/node-sql.ts).
 *
 * What the receipts table must have (the Durable Object's schema):
 *   relay_index   INTEGER PRIMARY KEY  0..n-1, no gaps (the contract challenges `hash % relayCount`)
 *   leaf_hash     BLOB                 the receipt's leaf hash (32 bytes), written when it is reported
 *   leaf_position INTEGER              its heap node, written here at close
 * The tree's nodes are in `tree_nodes` (`SESSION_TREE_SCHEMA`), `NODES_PER_ROW` to a row.
 */
import { type Hex, toHex } from "../../protocol/hex.js";
import { buildStoredTree, DEFAULT_BLOCK_NODES, type MerkleNodeStore, readStoredProof } from "../../protocol/stored-merkle.js";

/** A value SQLite returns: Durable Object SQL's `SqlStorageValue` (a BLOB comes back as an `ArrayBuffer`). */
export type SqlValue = ArrayBuffer | string | number | null;

/** A cursor over a query's rows, as Durable Object SQL returns it. */
export interface SessionSqlCursor<T> extends Iterable<T> {
  toArray(): T[];
  one(): T;
}

/**
 * The part of a Durable Object's `ctx.storage.sql` this module uses: one statement per call,
 * executed at once, its rows read lazily. Node's `node:sqlite` stands in for it in tests and
 * benchmarks (test/support/node-sql.ts).
 */
export interface SessionSql {
  exec<T extends Record<string, SqlValue>>(query: string, ...bindings: (SqlValue | Uint8Array)[]): SessionSqlCursor<T>;
}

/**
 * Nodes per `tree_nodes` row: 32 nodes are a 1 KiB blob, so a 1,000,000-receipt session writes
 * 62,500 rows instead of 2,000,000 (Durable Objects bill rows written) and a proof reads at most
 * one row per level below the top five. Part of the stored format: a tree is read with the value
 * it was built with.
 */
export const NODES_PER_ROW = 32;

/** The table of a session's tree nodes. */
export const SESSION_TREE_SCHEMA = `CREATE TABLE IF NOT EXISTS tree_nodes (
  first_node INTEGER PRIMARY KEY,
  hashes BLOB NOT NULL
)`;
// first_node: the heap index of the row's first node, a multiple of NODES_PER_ROW.
// hashes: that node and the next ones, NODES_PER_ROW of them (fewer in the tree's last row), 32 bytes each.

export interface SessionTreeOptions {
  /** Nodes hashed and written per block (default `DEFAULT_BLOCK_NODES`); a multiple of `nodesPerRow`. */
  blockNodes?: number;
  /** Nodes per stored row (default `NODES_PER_ROW`); tests use small values to cross row boundaries. */
  nodesPerRow?: number;
}

/** What closing a session's tree gives: its root (null when the session has no receipts) and leaf count. */
export interface StoredSessionTree {
  root: Hex | null;
  leafCount: number;
}

/**
 * Builds the session's tree from its receipts' leaf hashes: writes the tree's nodes (replacing
 * any earlier tree) and every receipt's `leaf_position`, and returns the root. The leaf hashes
 * stream in sorted by SQLite (`ORDER BY leaf_hash`) and the tree is built a block at a time, so
 * memory stays a few blocks whatever their number; the positions are one more statement.
 * Synchronous, so in a Durable Object its writes commit together.
 *
 * @example
 * const { root, leafCount } = buildStoredSessionTree(this.ctx.storage.sql);
 */
export function buildStoredSessionTree(sql: SessionSql, options: SessionTreeOptions = {}): StoredSessionTree {
  const { blockNodes = DEFAULT_BLOCK_NODES, nodesPerRow = NODES_PER_ROW } = options;
  if (!(Number.isSafeInteger(nodesPerRow) && nodesPerRow > 0 && blockNodes % nodesPerRow === 0)) {
    throw new Error("buildStoredSessionTree: blockNodes must be a multiple of nodesPerRow");
  }
  const counts = sql
    .exec<{ n: number; first: number | null; last: number | null; hashed: number }>(
      "SELECT count(*) AS n, min(relay_index) AS first, max(relay_index) AS last, count(leaf_hash) AS hashed FROM receipts",
    )
    .one();
  const n = counts.n;
  if (n > 0 && (counts.first !== 0 || counts.last !== n - 1)) {
    throw new Error(`buildStoredSessionTree: relay indexes run ${counts.first}..${counts.last}, not 0..${n - 1}`);
  }
  if (counts.hashed !== n) throw new Error(`buildStoredSessionTree: ${n - counts.hashed} receipts have no leaf hash`);
  sql.exec(SESSION_TREE_SCHEMA);
  sql.exec("DELETE FROM tree_nodes");
  if (n === 0) return { root: null, leafCount: 0 };

  const leaves = sql.exec<{ leaf_hash: ArrayBuffer }>("SELECT leaf_hash FROM receipts ORDER BY leaf_hash");
  const root = buildStoredTree(
    n,
    (function* () {
      for (const row of leaves) yield blobBytes(row.leaf_hash);
    })(),
    new SqliteMerkleNodes(sql, nodesPerRow),
    { blockNodes },
  );
  // The leaf of sort rank r (0-based; equal hashes in relay order, as OpenZeppelin orders them) is
  // heap node 2n - 2 - r. One statement, the ranks walked in relay order so the receipts' pages
  // are rewritten in sequence, not at random: 1.9 s instead of 5.1 s at 1,000,000 receipts here.
  sql.exec(
    `UPDATE receipts SET leaf_position = ranked.position
     FROM (SELECT relay_index, ? - row_number() OVER (ORDER BY leaf_hash, relay_index) AS position
           FROM receipts ORDER BY relay_index) AS ranked
     WHERE receipts.relay_index = ranked.relay_index`,
    2 * n - 1,
  );
  return { root: toHex(root), leafCount: n };
}

/** A receipt's leaf hash and its proof to the session root. */
export interface StoredReceiptProof {
  leafHash: Hex;
  proof: Hex[];
}

/**
 * The proof of receipt `relayIndex` from the stored tree, or null when there is no such receipt
 * or the tree is not built: one read of the receipt, one of its sibling nodes' rows.
 *
 * @example
 * const found = storedProof(this.ctx.storage.sql, relayIndex); // { leafHash, proof } | null
 */
export function storedProof(
  sql: SessionSql,
  relayIndex: number,
  { nodesPerRow = NODES_PER_ROW }: SessionTreeOptions = {},
): StoredReceiptProof | null {
  const row = sql
    .exec<{ leaf_hash: ArrayBuffer | null; leaf_position: number | null }>(
      "SELECT leaf_hash, leaf_position FROM receipts WHERE relay_index = ?",
      relayIndex,
    )
    .toArray()[0];
  if (!row || row.leaf_hash === null || row.leaf_position === null) return null;
  return {
    leafHash: toHex(blobBytes(row.leaf_hash)),
    proof: readStoredProof(new SqliteMerkleNodes(sql, nodesPerRow), row.leaf_position),
  };
}

/** `tree_nodes` as a `MerkleNodeStore`: runs of nodes in rows of `nodesPerRow`. */
export class SqliteMerkleNodes implements MerkleNodeStore {
  constructor(
    private readonly sql: SessionSql,
    private readonly nodesPerRow = NODES_PER_ROW,
  ) {}

  /** Writes whole rows: `first` is a multiple of `nodesPerRow` (only the tree's last row is short). */
  writeRun(first: number, hashes: Uint8Array): void {
    const perRow = this.nodesPerRow;
    if (first % perRow !== 0) throw new Error(`tree_nodes: a run starts at a multiple of ${perRow}, not at ${first}`);
    const rows = Math.ceil(hashes.length / 32 / perRow);
    // One statement per run whatever its length: the run is bound once and cut into rows by SQL
    // (Durable Object SQL takes at most 100 bound parameters per statement).
    this.sql.exec(
      `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?)
       INSERT INTO tree_nodes (first_node, hashes) SELECT ? + i * ?, substr(?, i * ? + 1, ?) FROM k`,
      rows,
      first,
      perRow,
      hashes,
      perRow * 32,
      perRow * 32,
    );
  }

  readRun(first: number, into: Uint8Array): void {
    const perRow = this.nodesPerRow;
    const last = first + into.length / 32 - 1;
    let copied = 0;
    for (const row of this.sql.exec<{ first_node: number; hashes: ArrayBuffer }>(
      "SELECT first_node, hashes FROM tree_nodes WHERE first_node BETWEEN ? AND ? ORDER BY first_node",
      first - (first % perRow),
      last - (last % perRow),
    )) {
      const hashes = blobBytes(row.hashes);
      const from = Math.max(first, row.first_node);
      const to = Math.min(last, row.first_node + hashes.length / 32 - 1);
      into.set(hashes.subarray((from - row.first_node) * 32, (to - row.first_node + 1) * 32), (from - first) * 32);
      copied += to - from + 1;
    }
    if (copied !== into.length / 32) throw new Error(`tree_nodes: nodes ${first}..${last} are not all stored`);
  }

  readNodes(nodes: readonly number[]): Uint8Array {
    const perRow = this.nodesPerRow;
    const rowKeys = [...new Set(nodes.map((node) => node - (node % perRow)))];
    const rows = new Map<number, Uint8Array>();
    for (const row of this.sql.exec<{ first_node: number; hashes: ArrayBuffer }>(
      `SELECT first_node, hashes FROM tree_nodes WHERE first_node IN (${rowKeys.map(() => "?").join(", ")})`,
      ...rowKeys,
    )) {
      rows.set(row.first_node, blobBytes(row.hashes));
    }
    const out = new Uint8Array(nodes.length * 32);
    nodes.forEach((node, k) => {
      const at = (node % perRow) * 32;
      const hashes = rows.get(node - (node % perRow));
      if (!hashes || hashes.length < at + 32) throw new Error(`tree_nodes: node ${node} is not stored`);
      out.set(hashes.subarray(at, at + 32), k * 32);
    });
    return out;
  }
}

/** A BLOB column's bytes: an `ArrayBuffer` from Durable Object SQL, a view from other drivers. */
function blobBytes(value: SqlValue | ArrayBufferView): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new Error(`expected a BLOB, got ${value === null ? "NULL" : typeof value}`);
}
