// `npm run storage -- <command> <url> [file]`: operator tools for a libSQL/Turso database, reading
// and writing through the same code as the gateway. <url> is `file:path.db`, `http(s)://`, or
// `libsql://` (set LIBSQL_AUTH_TOKEN for Turso).
//   migrate <url>         apply schema/migrations not yet applied (tracked in d1_migrations)
//   import <url> <file>   run a SQL dump, such as `wrangler d1 export` output, in one transaction
//   report <url>          services, hosts, sessions and batches by state, via the repository layer
import fs from "node:fs";
import { count, eq } from "drizzle-orm";
import { applyMigrations, libsqlClient, migrationStatements, repositoryDatabase } from "../dev/libsql.js";
import { batches, hosts, sessions } from "../schema/tables.js";
import { listBatches } from "../workers/db/batches.js";
import { listServices } from "../workers/db/services.js";

const [command, url, file] = process.argv.slice(2);
if (!command || !url || (command === "import" && !file)) {
  console.error("usage: npm run storage -- migrate|report <url>  |  npm run storage -- import <url> <dump.sql>");
  process.exit(2);
}
const client = libsqlClient(url, process.env.LIBSQL_AUTH_TOKEN);

if (command === "migrate") {
  const applied = await applyMigrations(client);
  console.log(applied.length ? `applied ${applied.join(", ")}` : "up to date");
} else if (command === "import") {
  // wrangler's export wraps tables in PRAGMA defer_foreign_keys; libSQL takes the statements as they are.
  const statements = migrationStatements(fs.readFileSync(file, "utf8")).filter((s) => !/^PRAGMA /i.test(s));
  await client.batch(statements, "write");
  console.log(`imported ${statements.length} statements from ${file}`);
} else if (command === "report") {
  const db = repositoryDatabase(client);
  const services = await listServices(db);
  const [hostCount] = await db.select({ n: count() }).from(hosts).where(eq(hosts.status, "active"));
  const [sessionCount] = await db.select({ n: count() }).from(sessions);
  const states = await db.select({ state: batches.state, n: count() }).from(batches).groupBy(batches.state);
  const latest = await listBatches(db, { limit: 3 });
  console.log(
    JSON.stringify(
      {
        services: services.map((s) => s.id),
        activeHosts: hostCount.n,
        sessions: sessionCount.n,
        batchesByState: Object.fromEntries(states.map((s) => [s.state, s.n])),
        latestBatches: latest.batches.map((b) => ({ id: b.id, state: b.state, relayCount: b.relayCount })),
      },
      null,
      2,
    ),
  );
} else {
  console.error(`unknown command "${command}"`);
  process.exit(2);
}
client.close();
