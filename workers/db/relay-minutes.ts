/**
 * Repository: relays per service and minute (`relay_minutes`), what the dashboard charts. A
 * session's object adds each receipt report's newly accepted receipts in one upsert; reads take a
 * window of minutes.
 */
import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { relayMinutes } from "../../schema/tables.js";
import type { Database } from "./database.js";

export type RelayMinute = typeof relayMinutes.$inferSelect;

export const MINUTE_MS = 60_000;

/** What a relay contributes to its minute: when it was admitted, whether it failed, how long it took. */
export interface CountedRelay {
  createdAt: number;
  outcome: "ok" | "failed" | "cancelled";
  latencyMs: number;
}

/** The relays' counts by minute (a report usually spans one minute, at most a few). */
export function relayMinuteCounts(serviceId: string, relays: readonly CountedRelay[]): RelayMinute[] {
  const byMinute = new Map<number, RelayMinute>();
  for (const r of relays) {
    const minute = Math.floor(r.createdAt / MINUTE_MS) * MINUTE_MS;
    let row = byMinute.get(minute);
    if (!row) {
      row = { serviceId, minute, relays: 0, failures: 0, latencySumMs: 0, latencyMaxMs: 0 };
      byMinute.set(minute, row);
    }
    row.relays += 1;
    if (r.outcome === "failed") {
      row.failures += 1;
    } else {
      row.latencySumMs += r.latencyMs;
      row.latencyMaxMs = Math.max(row.latencyMaxMs, r.latencyMs);
    }
  }
  return [...byMinute.values()];
}

/** Adds the counts to their minutes: one statement, whatever the number of minutes. */
export async function addRelayMinutes(db: Database, rows: readonly RelayMinute[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(relayMinutes)
    .values([...rows])
    .onConflictDoUpdate({
      target: [relayMinutes.serviceId, relayMinutes.minute],
      set: {
        relays: sql`${relayMinutes.relays} + excluded.relays`,
        failures: sql`${relayMinutes.failures} + excluded.failures`,
        latencySumMs: sql`${relayMinutes.latencySumMs} + excluded.latency_sum_ms`,
        latencyMaxMs: sql`max(${relayMinutes.latencyMaxMs}, excluded.latency_max_ms)`,
      },
    });
}

/** Minutes in `[from, to)` (Unix ms), of one service or all, by service then minute. */
export async function listRelayMinutes(
  db: Database,
  { serviceId, from, to }: { serviceId?: string; from: number; to: number },
): Promise<RelayMinute[]> {
  return db
    .select()
    .from(relayMinutes)
    .where(
      and(
        serviceId === undefined ? undefined : eq(relayMinutes.serviceId, serviceId),
        gte(relayMinutes.minute, from),
        lt(relayMinutes.minute, to),
      ),
    )
    .orderBy(asc(relayMinutes.serviceId), asc(relayMinutes.minute))
    .all();
}
