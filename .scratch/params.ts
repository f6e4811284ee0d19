import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import * as schema from "../schema/tables.js";

const db = drizzle(createClient({ url: ":memory:" }), { schema });
const now = 1;
const acc = db
  .insert(schema.accounts)
  .values(
    Array.from({ length: 18 }, (_, i) => ({
      id: `a${i}`,
      kind: "balance" as const,
      owner: "x",
      mayGoNegative: 0,
      createdAt: now,
    })),
  )
  .onConflictDoNothing()
  .toSQL();
console.log("accounts 18 rows params", acc.params.length, acc.sql.slice(0, 200));
const tr = db
  .insert(schema.transfers)
  .values(
    Array.from({ length: 9 }, (_, i) => ({
      id: `t${i}`,
      debitAccount: "a",
      creditAccount: "b",
      amount: 1,
      phase: "single" as const,
      pendingId: null,
      code: "c",
      reference: null,
      createdAt: now,
    })),
  )
  .toSQL();
console.log("transfers 9 rows params", tr.params.length, tr.sql.slice(0, 250));
const sh = db
  .insert(schema.sessionHosts)
  .values(Array.from({ length: 20 }, (_, i) => ({ sessionId: "s", hostId: `h${i}`, relays: 1, computeUnits: 1 })))
  .onConflictDoNothing()
  .toSQL();
console.log("session_hosts 20 rows params", sh.params.length);
const bs = db
  .insert(schema.batchSessions)
  .values(
    Array.from({ length: 14 }, (_, i) => ({
      batchId: "b",
      ordinal: i,
      sessionId: `s${i}`,
      sessionSeed: "x",
      sessionRoot: "y",
      relayCount: 1,
      computeUnits: 1,
    })),
  )
  .toSQL();
console.log("batch_sessions 14 rows params", bs.params.length);
