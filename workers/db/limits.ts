/**
 * D1's limits, applied to both drivers so callers see one behaviour: a statement binds at most
 * 100 parameters (libSQL allows far more, but a query that works on one driver must work on the
 * other). Lists longer than that are read and written in chunks.
 */
export const MAX_BOUND_PARAMETERS = 100;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs a query over `ids` in chunks that stay under the bound-parameter limit, concatenating the rows. */
export async function inChunks<I, R>(ids: readonly I[], query: (chunk: I[]) => Promise<R[]>, reserved = 10): Promise<R[]> {
  const rows: R[] = [];
  for (const part of chunk(ids, MAX_BOUND_PARAMETERS - reserved)) rows.push(...(await query(part)));
  return rows;
}
