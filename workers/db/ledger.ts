/**
 * Repository: the double-entry ledger (protocol/ledger.ts). Writers never run a ledger statement
 * alone: `ledgerStatements` turns transfers into statements that the caller puts in one batch
 * (one transaction) with the rest of its change, after `operationStatement`. The database then
 * enforces what must hold even under races: an operation id is used once, a pending transfer is
 * resolved once, and no account but issuance goes below zero (`balance_not_negative`).
 */
import { and, asc, desc, eq, inArray, lt, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import {
  type AccountKind,
  type AccountTotals,
  accountDeltas,
  accountSpec,
  type LedgerSnapshotAccount,
  type Transfer,
  type TransferPhase,
} from "../../protocol/ledger.js";
import { accounts, operations, transfers } from "../../schema/tables.js";
import type { Database } from "./database.js";
import { chunk, inChunks, rowsPerInsert } from "./limits.js";

export type Statement = BatchItem<"sqlite">;

/** Inserts the operation's row: the first statement of every economy batch. */
export function operationStatement(db: Database, op: { id: string; kind: string; request: unknown }, now: number): Statement {
  return db.insert(operations).values({ id: op.id, kind: op.kind, request: canonicalJson(op.request), createdAt: now });
}

export async function getOperation(db: Database, id: string) {
  return (await db.select().from(operations).where(eq(operations.id, id)).get()) ?? null;
}

/** JSON with sorted keys and bigints as strings, so equal requests compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, (v as Record<string, unknown>)[k]]),
      );
    }
    return v;
  });
}

/**
 * A double-entry book: its accounts and transfers tables (same columns) and what an account id
 * means. DB-CPTM is `DB_CPTM_BOOK`; REP keeps its own book (workers/db/rep.ts).
 */
export interface LedgerBook {
  accounts: typeof accounts;
  transfers: typeof transfers;
  spec(id: string): { kind: string; owner: string | null; mayGoNegative: boolean };
}

export const DB_CPTM_BOOK: LedgerBook = { accounts, transfers, spec: accountSpec };

/** Statements that record `list` and apply it to the accounts (created on first use). */
export function ledgerStatements(db: Database, list: readonly Transfer[], now: number): Statement[] {
  return bookStatements(db, DB_CPTM_BOOK, list, now);
}

/** As `ledgerStatements`, in any book. */
export function bookStatements(db: Database, book: LedgerBook, list: readonly Transfer[], now: number): Statement[] {
  if (list.length === 0) return [];
  const { accounts, transfers } = book;
  const deltas = accountDeltas(list);
  const statements: Statement[] = [];
  for (const part of chunk([...deltas.keys()], rowsPerInsert(accounts))) {
    statements.push(
      db
        .insert(accounts)
        .values(
          part.map((id) => {
            const spec = book.spec(id);
            return {
              id,
              kind: spec.kind as AccountKind,
              owner: spec.owner,
              mayGoNegative: spec.mayGoNegative ? 1 : 0,
              createdAt: now,
            };
          }),
        )
        .onConflictDoNothing(),
    );
  }
  // Transfer rows before account updates: a reused id or a second outcome for a pending transfer fails first.
  for (const part of chunk(list, rowsPerInsert(transfers))) {
    statements.push(
      db.insert(transfers).values(
        part.map((t) => ({
          id: t.id,
          debitAccount: t.debitAccount,
          creditAccount: t.creditAccount,
          amount: Number(t.amount),
          phase: t.phase,
          pendingId: t.pendingId,
          code: t.code,
          reference: t.reference,
          createdAt: now,
        })),
      ),
    );
  }
  for (const [id, d] of deltas) {
    statements.push(
      db
        .update(accounts)
        .set({
          debitsPosted: sql`${accounts.debitsPosted} + ${Number(d.debitsPosted)}`,
          creditsPosted: sql`${accounts.creditsPosted} + ${Number(d.creditsPosted)}`,
          debitsPending: sql`${accounts.debitsPending} + ${Number(d.debitsPending)}`,
          creditsPending: sql`${accounts.creditsPending} + ${Number(d.creditsPending)}`,
        })
        .where(eq(accounts.id, id)),
    );
  }
  return statements;
}

/** A single posted transfer. */
export const single = (
  id: string,
  debit: string,
  credit: string,
  amount: bigint,
  code: string,
  reference: string | null = null,
): Transfer => ({
  id,
  debitAccount: debit,
  creditAccount: credit,
  amount,
  phase: "single",
  pendingId: null,
  code,
  reference,
});

/** A pending transfer: reserves `amount` until a `post` or `void` names it. */
export const pending = (
  id: string,
  debit: string,
  credit: string,
  amount: bigint,
  code: string,
  reference: string | null = null,
): Transfer => ({
  ...single(id, debit, credit, amount, code, reference),
  phase: "pending",
});

/** Posts or voids a pending transfer (its accounts and amount are the pending one's). */
export const resolve = (id: string, of: Transfer, outcome: "post" | "void", code = of.code): Transfer => ({
  ...of,
  id,
  phase: outcome,
  pendingId: of.id,
  code,
});

export interface StoredTransfer extends Transfer {
  seq: number;
  createdAt: number;
}

type TransferRow = typeof transfers.$inferSelect;

const toTransfer = (row: TransferRow): StoredTransfer => ({
  ...row,
  amount: BigInt(row.amount),
  phase: row.phase as TransferPhase,
});

export async function getTransfer(db: Database, id: string): Promise<StoredTransfer | null> {
  const row = await db.select().from(transfers).where(eq(transfers.id, id)).get();
  return row ? toTransfer(row) : null;
}

export interface Account extends AccountTotals {
  id: string;
  kind: string;
  owner: string | null;
}

type AccountRow = typeof accounts.$inferSelect;

type TotalsColumns = Pick<AccountRow, "debitsPosted" | "creditsPosted" | "debitsPending" | "creditsPending">;

/** An account row's totals as bigints; null columns (an account a left join did not find) count as zero. */
export const accountTotalsOf = (row: { [K in keyof TotalsColumns]: number | null }): AccountTotals => ({
  debitsPosted: BigInt(row.debitsPosted ?? 0),
  creditsPosted: BigInt(row.creditsPosted ?? 0),
  debitsPending: BigInt(row.debitsPending ?? 0),
  creditsPending: BigInt(row.creditsPending ?? 0),
});

const toAccount = (row: AccountRow): Account => ({ id: row.id, kind: row.kind, owner: row.owner, ...accountTotalsOf(row) });

/** Accounts by id; a missing account has zero totals. */
export async function getAccounts(db: Database, ids: string[]): Promise<Map<string, Account>> {
  const rows = await inChunks(ids, (part) => db.select().from(accounts).where(inArray(accounts.id, part)).all());
  const found = new Map(rows.map((r) => [r.id, toAccount(r)]));
  return new Map(
    ids.map((id) => {
      const spec = accountSpec(id);
      const zero = {
        id,
        kind: spec.kind,
        owner: spec.owner,
        debitsPosted: 0n,
        creditsPosted: 0n,
        debitsPending: 0n,
        creditsPending: 0n,
      };
      return [id, found.get(id) ?? zero];
    }),
  );
}

export async function getAccount(db: Database, id: string): Promise<Account> {
  return (await getAccounts(db, [id])).get(id) as Account;
}

/** The accounts a holder owns (balance, and the pools and licences in their name). */
export async function accountsOfOwner(db: Database, owner: string): Promise<Account[]> {
  return (await db.select().from(accounts).where(eq(accounts.owner, owner)).orderBy(asc(accounts.id)).all()).map(toAccount);
}

/** A page of transfers touching `account`, newest first; `before` is a `seq` cursor. */
export async function listTransfers(
  db: Database,
  { account, before, limit }: { account?: string; before?: number; limit: number },
): Promise<{ transfers: StoredTransfer[]; next: number | null }> {
  const rows = await db
    .select()
    .from(transfers)
    .where(
      and(
        account ? or(eq(transfers.debitAccount, account), eq(transfers.creditAccount, account)) : undefined,
        before !== undefined ? lt(transfers.seq, before) : undefined,
      ),
    )
    .orderBy(desc(transfers.seq))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit).map(toTransfer);
  return { transfers: page, next: rows.length > limit ? page[page.length - 1].seq : null };
}

/** Transfers with a given reference (a batch id, a licence id, ...), oldest first. */
export async function transfersFor(db: Database, reference: string): Promise<StoredTransfer[]> {
  return (await db.select().from(transfers).where(eq(transfers.reference, reference)).orderBy(asc(transfers.seq)).all()).map(
    toTransfer,
  );
}

/**
 * One consistent snapshot (one transaction) of every account and of the totals recomputed from
 * the transfers, for `ledgerViolations`. Reads the whole ledger: for tests and audits.
 */
export async function ledgerSnapshot(
  db: Database,
): Promise<{ accounts: LedgerSnapshotAccount[]; recomputed: Map<string, AccountTotals> }> {
  const posted = sql`CASE WHEN phase IN ('single', 'post') THEN amount ELSE 0 END`;
  const pendingChange = sql`CASE phase WHEN 'pending' THEN amount WHEN 'single' THEN 0 ELSE -amount END`;
  const [accountRows, sums] = await db.batch([
    db.select().from(accounts),
    db.all<{ account: string; dp: number; cp: number; dq: number; cq: number }>(sql`
      SELECT account, SUM(dp) AS dp, SUM(cp) AS cp, SUM(dq) AS dq, SUM(cq) AS cq FROM (
        SELECT debit_account AS account, ${posted} AS dp, 0 AS cp, ${pendingChange} AS dq, 0 AS cq FROM transfers
        UNION ALL
        SELECT credit_account AS account, 0 AS dp, ${posted} AS cp, 0 AS dq, ${pendingChange} AS cq FROM transfers
      ) GROUP BY account`),
  ]);
  const recomputed = new Map<string, AccountTotals>();
  for (const s of sums as { account: string; dp: number; cp: number; dq: number; cq: number }[]) {
    recomputed.set(s.account, {
      debitsPosted: BigInt(s.dp),
      creditsPosted: BigInt(s.cp),
      debitsPending: BigInt(s.dq),
      creditsPending: BigInt(s.cq),
    });
  }
  return {
    accounts: (accountRows as AccountRow[]).map((r) => ({ ...toAccount(r), mayGoNegative: r.mayGoNegative === 1 })),
    recomputed,
  };
}
