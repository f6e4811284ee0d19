/**
 * Batch producers and validation pools (docs/rep.md), from cron and from holders' signed votes.
 *
 * Draw: for each new batch, cron reads the encumbered REP and the last REP transfer's sequence
 * number in one transaction, draws the producer from `drawSeed(batch id)` weighted by encumbered
 * REP (protocol/rep.ts) and opens the batch's pool for `REP_POOL_SECONDS` with a quorum of
 * `REP_POOL_QUORUM_BPS` of the REP supply. Everything the draw used is on the pool's public read.
 * A batch drawn when nobody has encumbered REP gets a `no_producer` pool and settles as before.
 *
 * Vote: any REP holder but the producer stakes liquid REP on accept or reject (EIP-712 `RepVote`)
 * while the pool is open; the stake is escrowed in the pool's account.
 *
 * Resolve: when the window has closed, cron resolves the pool by `resolvePool` in one operation;
 * settlement waits for it and never settles a rejected batch.
 */
import { availableOf } from "../../protocol/ledger.js";
import {
  drawProducer,
  drawSeed,
  poolQuorum,
  repLiquidAccount,
  repPoolAccount,
  repStakeAccount,
  resolvePool,
} from "../../protocol/rep.js";
import type { GatewayConfig } from "../config.js";
import { eachIsolated } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import { single } from "../db/ledger.js";
import {
  batchesWithoutPool,
  encumbranceSnapshot,
  getPool,
  getRepAccount,
  insertPool,
  insertVote,
  poolsToResolve,
  type RepPool,
  repLedgerStatements,
  resolvePoolStatement,
  votePoolStatement,
  votesOf,
} from "../db/rep.js";
import { billableSessions } from "../db/settlements.js";
import type { OperationOutcome } from "../economy/operation.js";
import { apiError } from "../errors.js";
import { runRepOperation } from "./operation.js";

/**
 * Draws the producer of one batch and opens its pool (once: operation `sys/rep-draw/<batch>`).
 * The weights and the last REP transfer's number are read in one transaction, so the draw is
 * exactly reproducible from the public REP transfers up to `ledgerSeq`.
 */
export async function drawBatchProducer(db: Database, config: GatewayConfig, batchId: string, now: number) {
  return runRepOperation(db, { id: `sys/rep-draw/${batchId}`, kind: "rep_draw", request: { batch: batchId } }, now, async () => {
    const snapshot = await encumbranceSnapshot(db);
    const candidates = snapshot.stakes
      .map((a) => ({ holder: a.owner as string, weight: availableOf(a) }))
      .filter((c) => c.weight > 0n);
    const seed = drawSeed(batchId);
    const producer = drawProducer(seed, candidates);
    const pool = {
      id: batchId,
      kind: "batch" as const,
      seed,
      ledgerSeq: snapshot.ledgerSeq,
      candidates: JSON.stringify(candidates.map((c) => [c.holder, c.weight.toString()])),
      totalWeight: Number(candidates.reduce((n, c) => n + c.weight, 0n)),
      producer,
      producerStake: Number(candidates.find((c) => c.holder === producer)?.weight ?? 0n),
      supply: Number(snapshot.supply),
      quorum: Number(poolQuorum(snapshot.supply, config.repPoolQuorumBps)),
      opensAt: now,
      closesAt: producer ? now + config.repPoolSeconds * 1000 : now,
      state: producer ? ("open" as const) : ("no_producer" as const),
      resolvedAt: producer ? null : now,
    };
    return { statements: [insertPool(db, pool)], result: pool };
  });
}

/** Cron: draws the producer and opens the pool of each batch that has none. Returns how many. */
export async function drawProducers(db: Database, config: GatewayConfig, now: number, limit = 20): Promise<number> {
  let drawn = 0;
  await eachIsolated(
    db,
    "rep_draw",
    now,
    await batchesWithoutPool(db, limit),
    (b) => b.id,
    async (b) => {
      if (!(await drawBatchProducer(db, config, b.id, now)).alreadyDone) drawn++;
    },
  );
  return drawn;
}

/** A holder's signed vote in a batch's pool, staking liquid REP on accept or reject. */
export async function vote(
  db: Database,
  r: { id: string; voter: string; pool: string; accept: boolean; stake: bigint; signature: string },
  now: number,
): Promise<OperationOutcome<{ pool: string; accept: boolean; stake: bigint }>> {
  if (r.stake <= 0n) throw apiError("invalid_amount", "The vote's stake must be more than zero");
  const { signature: _signature, ...request } = r;
  return runRepOperation(db, { id: r.id, kind: "rep_vote", request }, now, async () => {
    const pool = await getPool(db, r.pool);
    if (pool?.kind !== "batch") throw apiError("unknown_rep_pool", `No validation pool for batch "${r.pool}"`);
    if (pool.state !== "open" || now >= pool.closesAt)
      throw apiError(
        "rep_pool_closed",
        `The pool of batch ${r.pool} is ${pool.state === "open" ? "closed" : pool.state}; it no longer takes votes`,
      );
    if (pool.producer === r.voter) throw apiError("rep_vote_refused", "The producer of a batch cannot vote in its pool");
    const stake = single(r.id, repLiquidAccount(r.voter), repPoolAccount(r.pool), r.stake, "vote_stake", r.pool);
    return {
      statements: [
        ...repLedgerStatements(db, [stake], now),
        votePoolStatement(db, r.pool, r.accept, r.stake, now),
        insertVote(db, {
          poolId: r.pool,
          voter: r.voter,
          accept: r.accept ? 1 : 0,
          stake: Number(r.stake),
          signature: r.signature,
          operation: r.id,
          createdAt: now,
        }),
      ],
      result: { pool: r.pool, accept: r.accept, stake: r.stake },
    };
  });
}

/** The fees of a batch: what its requestors owe for it (compute units x the service's price). */
async function batchFees(db: Database, batchId: string): Promise<bigint> {
  const sessions = await billableSessions(db, batchId);
  return sessions.reduce((n, s) => n + BigInt(s.computeUnits) * BigInt(s.price), 0n);
}

/** Resolves one pool whose window has closed (one operation; a vote landing meanwhile makes it re-read). */
export async function resolveOnePool(db: Database, config: GatewayConfig, poolId: string, now: number) {
  return runRepOperation(
    db,
    { id: `sys/rep-pool/${poolId}`, kind: "rep_pool_resolve", request: { pool: poolId } },
    now,
    async () => {
      const pool = (await getPool(db, poolId)) as RepPool;
      if (pool.state !== "open" || now < pool.closesAt) throw apiError("conflict", `Pool ${poolId} is not due to resolve`);
      const producer = pool.producer as string;
      const votes = (await votesOf(db, poolId)).map((v) => ({ voter: v.voter, accept: v.accept === 1, stake: BigInt(v.stake) }));
      const fees = await batchFees(db, poolId);
      const resolution = resolvePool({
        pool: poolId,
        producer,
        producerStake: BigInt(pool.producerStake),
        producerEncumbered: availableOf(await getRepAccount(db, repStakeAccount(producer))),
        fees,
        mintBps: config.repMintBps,
        quorum: BigInt(pool.quorum),
        votes,
      });
      const transfers = resolution.moves.map((m) =>
        single(`rep/pool/${poolId}/${m.key}`, m.from, m.to, m.amount, m.code, poolId),
      );
      return {
        statements: [
          ...repLedgerStatements(db, transfers, now),
          resolvePoolStatement(db, pool, {
            state: resolution.state,
            fees: Number(fees),
            minted: Number(resolution.minted),
            forfeited: Number(resolution.forfeited),
            resolvedAt: now,
          }),
        ],
        result: { pool: poolId, state: resolution.state, minted: resolution.minted, forfeited: resolution.forfeited },
      };
    },
    { stalePool: "rebuild" },
  );
}

/** Cron: resolves every pool whose window has closed. Returns how many. */
export async function resolveClosedPools(db: Database, config: GatewayConfig, now: number, limit = 20): Promise<number> {
  let resolved = 0;
  await eachIsolated(
    db,
    "rep_pool",
    now,
    await poolsToResolve(db, now, limit),
    (p) => p.id,
    async (p) => {
      const outcome = await resolveOnePool(db, config, p.id, now);
      if (!outcome.alreadyDone) resolved++;
    },
  );
  return resolved;
}
