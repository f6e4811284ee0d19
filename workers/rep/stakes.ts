/**
 * REP availability stakes (docs/rep.md): a holder encumbers liquid REP (it then weighs in the
 * batch-producer draw) and releases it: the release is a pending transfer that stops counting for
 * draws at once and returns to liquid REP after `REP_RELEASE_SECONDS` (cron posts it). A holder
 * producing a batch whose pool is still open cannot release (its encumbered REP is at stake).
 *
 * And the genesis: REP is minted only by validation pools, so the network starts with one
 * documented genesis pool, resolved by the admin once, that mints the initial allocation.
 */
import type { Transfer } from "../../protocol/ledger.js";
import { MAX_AMOUNT } from "../../protocol/parameters.js";
import { GENESIS_POOL, REP_ISSUANCE_ACCOUNT, repLiquidAccount, repStakeAccount } from "../../protocol/rep.js";
import type { GatewayConfig } from "../config.js";
import { eachIsolated } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import { pending, resolve, single } from "../db/ledger.js";
import {
  dueReleases,
  getPool,
  insertPool,
  insertRelease,
  notProducingStatement,
  openPoolsProducedBy,
  releasedStatement,
  repLedgerStatements,
  repSupply,
} from "../db/rep.js";
import type { OperationOutcome } from "../economy/operation.js";
import { ApiError, apiError } from "../errors.js";
import { runRepOperation } from "./operation.js";

export async function encumber(
  db: Database,
  r: { id: string; holder: string; amount: bigint },
  now: number,
): Promise<OperationOutcome<{ transfer: string }>> {
  if (r.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  return runRepOperation(db, { id: r.id, kind: "rep_encumber", request: r }, now, async () => ({
    statements: repLedgerStatements(
      db,
      [single(r.id, repLiquidAccount(r.holder), repStakeAccount(r.holder), r.amount, "encumber", r.holder)],
      now,
    ),
    result: { transfer: r.id },
  }));
}

export async function release(
  db: Database,
  config: GatewayConfig,
  r: { id: string; holder: string; amount: bigint },
  now: number,
): Promise<OperationOutcome<{ release: string; maturesAt: number }>> {
  if (r.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  const maturesAt = now + config.repReleaseSeconds * 1000;
  return runRepOperation(
    db,
    { id: r.id, kind: "rep_release", request: r },
    now,
    async () => {
      const busy = await openPoolsProducedBy(db, r.holder);
      if (busy.length > 0)
        throw apiError(
          "rep_producer_busy",
          `The holder produces batch ${busy[0].id}, whose validation pool is open until ${new Date(busy[0].closesAt).toISOString()}; release after it resolves`,
        );
      const held = pending(r.id, repStakeAccount(r.holder), repLiquidAccount(r.holder), r.amount, "release", r.holder);
      return {
        statements: [
          ...repLedgerStatements(db, [held], now),
          notProducingStatement(db, r.holder),
          insertRelease(db, {
            id: r.id,
            holder: r.holder,
            transferId: r.id,
            amount: Number(r.amount),
            startedAt: now,
            maturesAt,
            state: "releasing",
          }),
        ],
        result: { release: r.id, maturesAt },
      };
    },
    { stalePool: "producer_busy" },
  );
}

/** Cron: returns matured releases to their holders' liquid REP. Returns how many. */
export async function releaseMaturedRep(db: Database, now: number, limit = 50): Promise<number> {
  let released = 0;
  await eachIsolated(
    db,
    "rep_release",
    now,
    await dueReleases(db, now, limit),
    (r) => r.id,
    async (r) => {
      const id = `sys/rep-release/${r.id}`;
      const held: Transfer = pending(
        r.transferId,
        repStakeAccount(r.holder),
        repLiquidAccount(r.holder),
        BigInt(r.amount),
        "release",
        r.holder,
      );
      const outcome = await runRepOperation(
        db,
        { id, kind: "rep_release_return", request: { release: r.id } },
        now,
        async () => ({
          statements: [...repLedgerStatements(db, [resolve(id, held, "post")], now), releasedStatement(db, r.id, now)],
          result: r.id,
        }),
      );
      if (!outcome.alreadyDone) released++;
    },
  );
  return released;
}

/**
 * The genesis pool: mints the initial REP allocation once (admin). Retrying the same allocation
 * is "already done"; any other allocation afterwards is refused with `rep_genesis_done`.
 */
export async function repGenesis(
  db: Database,
  allocations: readonly { holder: string; amount: bigint }[],
  now: number,
): Promise<OperationOutcome<{ pool: string; minted: bigint }>> {
  const merged = new Map<string, bigint>();
  for (const a of allocations) {
    if (a.amount <= 0n) throw apiError("invalid_amount", "Every genesis allocation must be more than zero");
    merged.set(a.holder, (merged.get(a.holder) ?? 0n) + a.amount);
  }
  if (merged.size === 0) throw apiError("invalid_field", "The genesis needs at least one allocation");
  if ([...merged.values()].reduce((n, a) => n + a, 0n) > MAX_AMOUNT)
    throw apiError("invalid_amount", `The genesis may mint at most ${MAX_AMOUNT} REP in all`);
  const holders = [...merged.keys()].sort();
  const request = { allocations: holders.map((h) => ({ holder: h, amount: merged.get(h) as bigint })) };
  try {
    return await runRepOperation(db, { id: "admin/rep-genesis", kind: "rep_genesis", request }, now, async () => {
      if ((await getPool(db, GENESIS_POOL)) || (await repSupply(db)) > 0n)
        throw apiError("rep_genesis_done", "The REP genesis pool has already minted");
      const minted = holders.reduce((n, h) => n + (merged.get(h) as bigint), 0n);
      const mints = holders.map((h) =>
        single(`rep/genesis/${h}`, REP_ISSUANCE_ACCOUNT, repLiquidAccount(h), merged.get(h) as bigint, "pool_mint", GENESIS_POOL),
      );
      return {
        statements: [
          insertPool(db, {
            id: GENESIS_POOL,
            kind: "genesis",
            seed: `0x${"0".repeat(64)}`,
            ledgerSeq: 0,
            candidates: "[]",
            totalWeight: 0,
            producer: null,
            supply: 0,
            quorum: 0,
            opensAt: now,
            closesAt: now,
            state: "genesis",
            minted: Number(minted),
            resolvedAt: now,
          }),
          ...repLedgerStatements(db, mints, now),
        ],
        result: { pool: GENESIS_POOL, minted },
      };
    });
  } catch (error) {
    if (error instanceof ApiError && error.code === "operation_id_reused")
      throw apiError("rep_genesis_done", "The REP genesis pool has already minted another allocation");
    throw error;
  }
}
