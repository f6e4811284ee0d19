/**
 * Node's `node:sqlite` behind the shape of a Durable Object's `ctx.storage.sql` (`SessionSql` in
 * workers/sessions/session-tree.ts), so the session-tree code runs unchanged in Node tests and
 * benchmarks: one statement per `exec`, run at once; rows read lazily; BLOBs returned as
 * `ArrayBuffer`s and bound from `ArrayBuffer`s or `Uint8Array`s.
 */
import type { DatabaseSync, SQLInputValue, SQLOutputValue } from "node:sqlite";
import type { SessionSql, SessionSqlCursor, SqlValue } from "../../workers/sessions/session-tree.js";

/** One statement run through the adapter and the rows read from it so far. */
export interface ExecRecord {
  query: string;
  rows: number;
}

export interface NodeSql extends SessionSql {
  /** Every statement run, with its rows read (only when created with `record: true`). */
  readonly log: ExecRecord[];
}

/** `ctx.storage.sql` over a `node:sqlite` database; `record` keeps a log of statements and rows read. */
export function nodeSql(db: DatabaseSync, { record = false }: { record?: boolean } = {}): NodeSql {
  const log: ExecRecord[] = [];
  return {
    log,
    exec<T extends Record<string, SqlValue>>(query: string, ...bindings: (SqlValue | Uint8Array)[]): SessionSqlCursor<T> {
      const statement = db.prepare(query);
      const values = bindings.map(toInput);
      const entry: ExecRecord = { query, rows: 0 };
      if (record) log.push(entry);
      // Statements without result columns run now, as Durable Object SQL runs them; queries stream.
      let rows: Iterator<Record<string, SQLOutputValue>>;
      if (statement.columns().length === 0) {
        statement.run(...values);
        rows = [][Symbol.iterator]();
      } else {
        rows = statement.iterate(...values);
      }
      const next = (): IteratorResult<T> => {
        const step = rows.next();
        if (step.done) return { done: true, value: undefined };
        entry.rows++;
        return { done: false, value: toRow(step.value) as T };
      };
      const iterator: IterableIterator<T> = { next, [Symbol.iterator]: () => iterator };
      return {
        [Symbol.iterator]: () => iterator,
        toArray: () => [...iterator],
        one: () => {
          const all = [...iterator];
          if (all.length !== 1) throw new Error(`Expected exactly one result from SQL query, got ${all.length}`);
          return all[0];
        },
      };
    },
  };
}

function toInput(value: SqlValue | Uint8Array): SQLInputValue {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : value;
}

function toRow(row: Record<string, SQLOutputValue>): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array) {
      out[key] = value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
    } else if (typeof value === "bigint") {
      out[key] = Number(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}
