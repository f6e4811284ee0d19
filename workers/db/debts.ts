/**
 * Repository: requestors' debt (0005). `requestors.debt` is the running total, kept at or above
 * zero by `debt_not_negative`; every change also writes a `debt_entries` row, so a requestor's
 * entries always sum to its debt. Statements go into the caller's operation batch.
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { accounts, debtEntries, requestors } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";
import { notHeldBack } from "./pipeline-failures.js";

export type DebtReason = (typeof debtEntries.$inferSelect)["reason"];

export interface DebtEntry {
  id: string;
  reason: DebtReason;
  /** The settled batch, or the collecting operation. */
  reference: string;
}

export async function requestorDebt(db: Database, requestorId: string): Promise<bigint> {
  const row = await db.select({ debt: requestors.debt }).from(requestors).where(eq(requestors.id, requestorId)).get();
  return BigInt(row?.debt ?? 0);
}

/**
 * Requestors that owe something and have an available balance to pay from, by id. Debtors with
 * nothing to pay from are left out, so they never crowd out the ones that can pay.
 */
export async function debtorsWithBalance(db: Database, limit: number, now: number): Promise<{ id: string; debt: bigint }[]> {
  const rows = await db
    .select({ id: requestors.id, debt: requestors.debt })
    .from(requestors)
    .innerJoin(accounts, eq(accounts.id, sql`'balance:' || ${requestors.id}`))
    .where(
      and(
        gt(requestors.debt, 0),
        gt(sql`${accounts.creditsPosted} - ${accounts.debitsPosted} - ${accounts.debitsPending}`, 0),
        notHeldBack(db, "collect_debt", requestors.id, now),
      ),
    )
    .orderBy(asc(requestors.id))
    .limit(limit)
    .all();
  return rows.map((r) => ({ id: r.id, debt: BigInt(r.debt) }));
}

/** Statements that add `amount` to a requestor's debt (settlement). Additions commute: no read to guard. */
export function addDebt(db: Database, requestorId: string, amount: bigint, entry: DebtEntry, now: number): Statement[] {
  return [
    db
      .update(requestors)
      .set({ debt: sql`${requestors.debt} + ${Number(amount)}` })
      .where(eq(requestors.id, requestorId)),
    db.insert(debtEntries).values({ ...entry, requestorId, amount: Number(amount), createdAt: now }),
  ];
}

/**
 * Statements that take `amount` off a debt read as `read`: if it changed meanwhile the debt
 * becomes -1 and `debt_not_negative` fails the batch, so the operation reads again.
 */
export function reduceDebt(
  db: Database,
  requestorId: string,
  read: bigint,
  amount: bigint,
  entry: DebtEntry,
  now: number,
): Statement[] {
  return [
    db
      .update(requestors)
      .set({ debt: sql`CASE WHEN ${requestors.debt} = ${Number(read)} THEN ${Number(read - amount)} ELSE -1 END` })
      .where(eq(requestors.id, requestorId)),
    db.insert(debtEntries).values({ ...entry, requestorId, amount: -Number(amount), createdAt: now }),
  ];
}

/** A statement that fails the batch (`debt_not_negative`) unless the requestor owes nothing when it runs. */
export function owesNothing(db: Database, requestorId: string): Statement {
  return db
    .update(requestors)
    .set({ debt: sql`CASE WHEN ${requestors.debt} = 0 THEN 0 ELSE -1 END` })
    .where(eq(requestors.id, requestorId));
}

/** Each requestor's debt next to the sum of its entries, for audits and the simulation's invariants. */
export async function debtAudit(db: Database): Promise<{ id: string; debt: bigint; entries: bigint }[]> {
  const rows = await db.all<{ id: string; debt: number; entries: number }>(sql`
    SELECT r.id AS id, r.debt AS debt, COALESCE((SELECT SUM(amount) FROM debt_entries e WHERE e.requestor_id = r.id), 0) AS entries
    FROM requestors r`);
  return rows.map((r) => ({ id: r.id, debt: BigInt(r.debt), entries: BigInt(r.entries) }));
}
