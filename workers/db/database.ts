/**
 * The repository layer's handle on the database. Repositories take a `Database`, so the same
 * code runs on D1 (`drizzle-orm/d1`, the default) and on libSQL/Turso (`drizzle-orm/libsql` with
 * the fetch-based `@libsql/client/web` inside the Worker). Which one is configuration:
 * `STORAGE_DRIVER = "d1" | "libsql"`, with `LIBSQL_URL` and `LIBSQL_AUTH_TOKEN` as secrets.
 */
import { createClient } from "@libsql/client/web";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { drizzle as drizzleD1 } from "drizzle-orm/d1";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql/web";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { readVar, type VarRecord, type VarValue } from "../../protocol/vars.js";
import * as schema from "../../schema/tables.js";
import { GATEWAY_VARS } from "../config.js";

// biome-ignore lint/suspicious/noExplicitAny: the run-result type differs between drivers and no repository reads it.
export type Database = BaseSQLiteDatabase<"async", any, typeof schema> & {
  /** Runs statements in one transaction (D1 batch, libSQL batch). */
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};

export type StorageDriver = VarValue<typeof GATEWAY_VARS.storageDriver>;

const d1Cache = new WeakMap<D1Database, Database>();

export function storageDriver(env: object): StorageDriver {
  return readVar(env as VarRecord, GATEWAY_VARS.storageDriver);
}

/** The configured database for a Worker or Durable Object `env`. */
export function database(env: Pick<Env, "DB">): Database {
  if (storageDriver(env) === "libsql") {
    const vars = env as unknown as Record<string, string | undefined>;
    if (!vars.LIBSQL_URL) throw new Error('STORAGE_DRIVER is "libsql" but LIBSQL_URL is not set');
    return libsqlDatabase(vars.LIBSQL_URL, vars.LIBSQL_AUTH_TOKEN);
  }
  let db = d1Cache.get(env.DB);
  if (!db) {
    db = drizzleD1(env.DB, { schema }) as unknown as Database;
    d1Cache.set(env.DB, db);
  }
  return db;
}

/**
 * A database on a libSQL server (`http(s)://` or `libsql://`), over fetch: works in Workers and
 * Node. A new client each time: the client keeps HTTP streams open, and a Worker may not wait on
 * I/O that another request started, so a client shared across requests can hang them.
 */
export function libsqlDatabase(url: string, authToken?: string): Database {
  return drizzleLibsql(createClient({ url, authToken, fetch: fetchWithBackoff }), { schema }) as unknown as Database;
}

/**
 * libSQL servers shed load with 429/503 (sqld admits 128 concurrent requests by default); D1
 * queues instead. Retrying those with short jittered backoff gives callers D1's behaviour: the
 * query is slower under a burst, not an error.
 */
async function fetchWithBackoff(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    // The client hands over a Request whose body a fetch consumes: each attempt sends a copy.
    const response = await fetch(input instanceof Request ? input.clone() : input, init);
    if ((response.status !== 429 && response.status !== 503) || attempt >= 6) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * (0.5 + Math.random())));
  }
}
