/**
 * The repository layer's handle on the database. Repositories take a `Database`, so the same
 * code runs on D1 (`drizzle-orm/d1`) and on libSQL (`drizzle-orm/libsql`).
 */
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import * as schema from "../../schema/tables.js";

// biome-ignore lint/suspicious/noExplicitAny: the run-result type differs between drivers and no repository reads it.
export type Database = BaseSQLiteDatabase<"async", any, typeof schema> & {
  /** Runs statements in one transaction (D1 batch, libSQL batch). */
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};

const cache = new WeakMap<D1Database, Database>();

/** The D1-backed database for a Worker or Durable Object `env`. */
export function database(env: Pick<Env, "DB">): Database {
  let db = cache.get(env.DB);
  if (!db) {
    db = drizzle(env.DB, { schema });
    cache.set(env.DB, db);
  }
  return db;
}
