/**
 * D1's limits, applied to both drivers so callers see one behaviour: a statement binds at most
 * 100 parameters (libSQL allows far more, but a query that works on one driver must work on the
 * other). Lists longer than that are read and written in chunks.
 */
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";

export const MAX_BOUND_PARAMETERS = 100;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const rowsPerInsertCache = new WeakMap<SQLiteTable, number>();

/**
 * Most rows of `table` one multi-row INSERT may carry. Drizzle binds a parameter per column per
 * row (the row's value, or the column's default when the row leaves it out), so the table's
 * column count bounds what a row binds whichever columns the caller sets, and a column added to
 * the table (schema/tables.ts, kept equal to the migrations by the drift test) shrinks the chunk.
 */
export function rowsPerInsert(table: SQLiteTable): number {
  let rows = rowsPerInsertCache.get(table);
  if (rows === undefined) {
    rows = Math.floor(MAX_BOUND_PARAMETERS / getTableConfig(table).columns.length);
    rowsPerInsertCache.set(table, rows);
  }
  return rows;
}

/** Runs a query over `ids` in chunks that stay under the bound-parameter limit, concatenating the rows. */
export async function inChunks<I, R>(ids: readonly I[], query: (chunk: I[]) => Promise<R[]>, reserved = 10): Promise<R[]> {
  const rows: R[] = [];
  for (const part of chunk(ids, MAX_BOUND_PARAMETERS - reserved)) rows.push(...(await query(part)));
  return rows;
}
