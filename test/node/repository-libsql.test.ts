/** The repository suite on libSQL from Node: a local `file:` database and a `sqld` server over HTTP. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../dev/free-port.js";
import { applyMigrations, libsqlClient, repositoryDatabase, startSqld } from "../../dev/libsql.js";
import { type Database, libsqlDatabase } from "../../workers/db/database.js";
import { repositorySuite } from "../repository/suite.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-libsql-"));
let fileDb: Database;
let serverDb: Database;
let sqld: Awaited<ReturnType<typeof startSqld>>;

beforeAll(async () => {
  const file = libsqlClient(`file:${path.join(dir, "repository.db")}`);
  await applyMigrations(file);
  fileDb = repositoryDatabase(file);
  sqld = await startSqld(await freePort(), dir);
  await applyMigrations(libsqlClient(sqld.url));
  serverDb = libsqlDatabase(sqld.url); // the same fetch-based client the Worker uses
});

afterAll(() => sqld?.stop());

repositorySuite("libSQL (file: database)", () => fileDb);
repositorySuite("libSQL (sqld over HTTP, the Worker's client)", () => serverDb);

describe("npm run storage", () => {
  it("migrates a file: database, imports a D1-style dump and reports through the repository layer", () => {
    const url = `file:${path.join(dir, "tool.db")}`;
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [path.join("node_modules", "tsx", "dist", "cli.mjs"), "scripts/storage.ts", ...args], {
        encoding: "utf8",
      });
    expect(run("migrate", url)).toContain("applied 0001_registry.sql, 0002_quality.sql, 0003_batches.sql");
    expect(run("migrate", url)).toContain("up to date");
    const dump = path.join(dir, "dump.sql");
    fs.writeFileSync(
      dump,
      [
        "PRAGMA defer_foreign_keys=TRUE;",
        "INSERT INTO services (id, kind, chain_id, model, default_compute_units, method_compute_units, created_at) VALUES ('eth-main','jsonrpc',1,NULL,1,'{}',1);",
        "INSERT INTO requestors (id, name, created_at) VALUES ('req_1','dapp',1);",
      ].join("\n"),
    );
    expect(run("import", url, dump)).toContain("imported 2 statements");
    expect(JSON.parse(run("report", url))).toMatchObject({ services: ["eth-main"], activeHosts: 0, sessions: 0 });
  });
});
