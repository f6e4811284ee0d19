/**
 * `schema/tables.ts` (what the repository layer's queries are typed against) against
 * `schema/migrations` (what D1 and libSQL actually have): the migrations are applied to a fresh
 * libSQL database and both sides are reduced to the same shape (tables; columns with type
 * affinity, NOT NULL and primary key; indexes; unique constraints; foreign keys), compared both
 * ways. The migrations are the source of truth: when this fails, fix `schema/tables.ts` (or add a
 * migration), never edit an applied migration.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "@libsql/client";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteSyncDialect, SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, libsqlClient } from "../../dev/libsql.js";
import * as tables from "../../schema/tables.js";

interface ColumnShape {
  affinity: string;
  notNull: boolean;
}

interface IndexShape {
  columns: string[];
  unique: boolean;
  /** The WHERE of a partial index, normalised; null when it covers every row. */
  where: string | null;
}

interface TableShape {
  columns: Map<string, ColumnShape>;
  /** Primary-key columns in key order. */
  primaryKey: string[];
  /** Named indexes (`CREATE [UNIQUE] INDEX`). */
  indexes: Map<string, IndexShape>;
  /** UNIQUE constraints by their columns ("a,b"): SQLite gives them no name of its own. */
  uniques: Set<string>;
  /** Foreign keys as "columns -> table(columns)". */
  foreignKeys: Set<string>;
}

type SchemaShape = Map<string, TableShape>;

/**
 * Primary keys the migrations declare without NOT NULL. SQLite lets such a column (unless it is
 * an INTEGER PRIMARY KEY) hold NULL, which drizzle cannot express: its primary keys are always
 * NOT NULL. Applied migrations are never edited, so these are known and listed; a new table must
 * write `PRIMARY KEY NOT NULL` (the test fails otherwise), and an entry that no longer applies
 * fails too, so the list cannot go stale.
 */
const NULLABLE_PRIMARY_KEYS = [
  "accounts.id",
  "debt_entries.id",
  "licences.id",
  "operations.id",
  "settlements.batch_id",
  "stake_pools.id",
  "unbondings.id",
  "validators.address",
];

/** SQLite's type affinity of a declared column type (sqlite.org/datatype3.html, 3.1). */
function affinity(declared: string): string {
  const type = declared.toUpperCase();
  if (type.includes("INT")) return "INTEGER";
  if (/CHAR|CLOB|TEXT/.test(type)) return "TEXT";
  if (type.includes("BLOB") || type === "") return "BLOB";
  if (/REAL|FLOA|DOUB/.test(type)) return "REAL";
  return "NUMERIC";
}

/** A partial index's WHERE, compared as text: unquoted, unqualified (drizzle writes "table"."column"), one space, lower case. */
const normaliseWhere = (sql: string, table: string) =>
  sql.replace(/["`]/g, "").replaceAll(`${table}.`, "").replace(/\s+/g, " ").trim().toLowerCase();

/** The shape of the database the migrations build. */
async function migratedShape(client: Client): Promise<SchemaShape> {
  const rows = async (sql: string, args: string[] = []) => (await client.execute({ sql, args })).rows;
  const shape: SchemaShape = new Map();
  const names = await rows(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name",
  );
  for (const { name } of names) {
    const table = String(name);
    const info = await rows('SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid', [table]);
    const columns = new Map<string, ColumnShape>();
    const keyed: [number, string][] = [];
    for (const c of info) {
      const rowidAlias =
        Number(c.pk) > 0 && String(c.type).toUpperCase() === "INTEGER" && info.filter((x) => Number(x.pk) > 0).length === 1;
      // An INTEGER PRIMARY KEY is the rowid: it is never NULL, NOT NULL written or not.
      columns.set(String(c.name), { affinity: affinity(String(c.type)), notNull: Number(c.notnull) === 1 || rowidAlias });
      if (Number(c.pk) > 0) keyed.push([Number(c.pk), String(c.name)]);
    }
    const indexes = new Map<string, IndexShape>();
    const uniques = new Set<string>();
    for (const index of await rows('SELECT name, "unique", origin, partial FROM pragma_index_list(?)', [table])) {
      const indexName = String(index.name);
      const cols = (await rows("SELECT name FROM pragma_index_info(?) ORDER BY seqno", [indexName])).map((r) => String(r.name));
      if (index.origin === "u") uniques.add(cols.join(","));
      if (index.origin !== "c") continue; // "pk" is the primary key, compared on its own
      let where: string | null = null;
      if (Number(index.partial) === 1) {
        const [{ sql }] = await rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [indexName]);
        where = normaliseWhere(String(sql).replace(/^[\s\S]*?\bWHERE\b/i, ""), table);
      }
      indexes.set(indexName, { columns: cols, unique: Number(index.unique) === 1, where });
    }
    const foreignKeys = new Map<number, { table: string; from: string[]; to: string[] }>();
    for (const fk of await rows('SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq', [table])) {
      const key = foreignKeys.get(Number(fk.id)) ?? { table: String(fk.table), from: [], to: [] };
      key.from.push(String(fk.from));
      key.to.push(String(fk.to));
      foreignKeys.set(Number(fk.id), key);
    }
    shape.set(table, {
      columns,
      primaryKey: keyed.sort((a, b) => a[0] - b[0]).map(([, c]) => c),
      indexes,
      uniques,
      foreignKeys: new Set([...foreignKeys.values()].map((k) => `${k.from.join(",")} -> ${k.table}(${k.to.join(",")})`)),
    });
  }
  return shape;
}

/** The shape `schema/tables.ts` describes. */
function declaredShape(): SchemaShape {
  const dialect = new SQLiteSyncDialect();
  const shape: SchemaShape = new Map();
  for (const value of Object.values(tables)) {
    if (!is(value, SQLiteTable)) continue;
    const config = getTableConfig(value);
    const columns = new Map<string, ColumnShape>();
    for (const c of config.columns) columns.set(c.name, { affinity: affinity(c.getSQLType()), notNull: c.notNull });
    const primaryKey = [
      ...config.columns.filter((c) => c.primary).map((c) => c.name),
      ...config.primaryKeys.flatMap((k) => k.columns.map((c) => c.name)),
    ];
    const indexes = new Map<string, IndexShape>();
    for (const { config: index } of config.indexes) {
      const cols = index.columns.map((c) => ("name" in c ? c.name : `(${dialect.sqlToQuery(c).sql})`));
      const where = index.where ? normaliseWhere(dialect.sqlToQuery(index.where).sql, config.name) : null;
      indexes.set(index.name, { columns: cols, unique: index.unique, where });
    }
    const uniques = new Set([
      ...config.columns.filter((c) => c.isUnique).map((c) => c.name),
      ...config.uniqueConstraints.map((u) => u.columns.map((c) => c.name).join(",")),
    ]);
    const foreignKeys = new Set(
      config.foreignKeys.map((fk) => {
        const ref = fk.reference();
        const target = getTableConfig(ref.foreignTable).name;
        return `${ref.columns.map((c) => c.name).join(",")} -> ${target}(${ref.foreignColumns.map((c) => c.name).join(",")})`;
      }),
    );
    shape.set(config.name, { columns, primaryKey, indexes, uniques, foreignKeys });
  }
  return shape;
}

/** Every difference, as a sentence naming the table and what differs. */
function differences(migrated: SchemaShape, declared: SchemaShape): string[] {
  const out: string[] = [];
  const nullableKeys = new Set(NULLABLE_PRIMARY_KEYS);
  for (const name of migrated.keys())
    if (!declared.has(name)) out.push(`table ${name}: in the migrations, not in schema/tables.ts`);
  for (const name of declared.keys())
    if (!migrated.has(name)) out.push(`table ${name}: in schema/tables.ts, not in the migrations`);
  for (const [table, db] of migrated) {
    const ts = declared.get(table);
    if (!ts) continue;
    for (const [column, c] of db.columns) {
      const d = ts.columns.get(column);
      if (!d) {
        out.push(`${table}.${column}: in the migrations, not in schema/tables.ts`);
        continue;
      }
      if (c.affinity !== d.affinity)
        out.push(`${table}.${column}: ${c.affinity} in the migrations, ${d.affinity} in schema/tables.ts`);
      const nullableKey = nullableKeys.has(`${table}.${column}`) && !c.notNull && db.primaryKey.includes(column);
      if (nullableKey) nullableKeys.delete(`${table}.${column}`);
      if (c.notNull !== d.notNull && !nullableKey) {
        out.push(
          `${table}.${column}: ${c.notNull ? "NOT NULL" : "nullable"} in the migrations, ${d.notNull ? "NOT NULL" : "nullable"} in schema/tables.ts`,
        );
      }
    }
    for (const column of ts.columns.keys()) {
      if (!db.columns.has(column)) out.push(`${table}.${column}: in schema/tables.ts, not in the migrations`);
    }
    if (db.primaryKey.join(",") !== ts.primaryKey.join(",")) {
      out.push(
        `${table}: primary key (${db.primaryKey.join(", ")}) in the migrations, (${ts.primaryKey.join(", ")}) in schema/tables.ts`,
      );
    }
    for (const [index, i] of db.indexes) {
      const d = ts.indexes.get(index);
      if (!d) out.push(`${table}: index ${index} in the migrations, not in schema/tables.ts`);
      else if (JSON.stringify(i) !== JSON.stringify(d)) {
        out.push(`${table}: index ${index} is ${JSON.stringify(i)} in the migrations, ${JSON.stringify(d)} in schema/tables.ts`);
      }
    }
    for (const index of ts.indexes.keys()) {
      if (!db.indexes.has(index)) out.push(`${table}: index ${index} in schema/tables.ts, not in the migrations`);
    }
    for (const u of db.uniques)
      if (!ts.uniques.has(u)) out.push(`${table}: UNIQUE (${u}) in the migrations, not in schema/tables.ts`);
    for (const u of ts.uniques)
      if (!db.uniques.has(u)) out.push(`${table}: UNIQUE (${u}) in schema/tables.ts, not in the migrations`);
    for (const fk of db.foreignKeys) {
      if (!ts.foreignKeys.has(fk)) out.push(`${table}: foreign key ${fk} in the migrations, not in schema/tables.ts`);
    }
    for (const fk of ts.foreignKeys) {
      if (!db.foreignKeys.has(fk)) out.push(`${table}: foreign key ${fk} in schema/tables.ts, not in the migrations`);
    }
  }
  for (const stale of nullableKeys) out.push(`${stale}: listed in NULLABLE_PRIMARY_KEYS but no longer a nullable primary key`);
  return out;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-schema-"));
let client: Client;

beforeAll(async () => {
  client = libsqlClient(`file:${path.join(dir, "schema.db")}`);
  await applyMigrations(client);
});

afterAll(() => {
  client?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("schema drift", () => {
  it("schema/tables.ts describes exactly what schema/migrations builds", async () => {
    const migrated = await migratedShape(client);
    expect(migrated.size).toBeGreaterThan(0);
    expect(differences(migrated, declaredShape()), "fix schema/tables.ts to match the migrations (or add a migration)").toEqual(
      [],
    );
  });

  it("finds drift in either direction (the comparison itself)", async () => {
    const migrated = await migratedShape(client);
    const sessions = migrated.get("sessions")!;
    const changed: SchemaShape = new Map(migrated);
    changed.delete("operators");
    changed.set("sessions", {
      ...sessions,
      columns: new Map([...sessions.columns].filter(([c]) => c !== "quota")).set("extra", { affinity: "TEXT", notNull: false }),
      indexes: new Map([...sessions.indexes].filter(([i]) => i !== "sessions_open")),
    });
    expect(differences(migrated, changed)).toEqual([
      "table operators: in the migrations, not in schema/tables.ts",
      "sessions.quota: in the migrations, not in schema/tables.ts",
      "sessions.extra: in schema/tables.ts, not in the migrations",
      "sessions: index sessions_open in the migrations, not in schema/tables.ts",
    ]);
  });
});
