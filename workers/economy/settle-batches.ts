/**
 * Settlement (docs/economy.md, "Settlement"), from cron, once per batch that reached a final state.
 *
 * - expired: nothing moves; the record says so.
 * - verified: each requestor is charged compute units x the service's price from its balance;
 *   what its balance cannot cover is recorded as uncollected and becomes the requestor's debt
 *   (debts.ts: its keys stop relaying until cron collects it). The revenue is split by
 *   protocol/rewards.ts: hosts' operators by relays x score, fishermen, chain partner, burn, and
 *   the treasury with every remainder. The chain partner share goes to the partners the batch's
 *   services name, by what each service was due (protocol/chain-partners.ts), the rest to
 *   `system:chain_partner`. All of that is the same whoever proved the batch:
 *   `ProofRegistry.proveBatch` is open to anyone and receipts' proofs are public, so the prover
 *   is whoever was quickest. Only the validators' share follows the prover: to its validator
 *   pool (so its delegators share it) when it is an active validator at settlement, otherwise to
 *   the treasury; the settlement records which (`validatorShareTo`, `validatorShareReason`).
 *
 * Market (docs/market.md): sessions with frozen host prices are charged at each host's offered
 * price, hosts are paid in proportion to what their relays brought in, and requestors served below
 * their service's SLA are credited, from what scores withheld, before the treasury takes the rest.
 *
 * All of it is one operation (`sys/settle/<batch>`) in one batch with the settlement row, whose
 * primary key is the batch: a batch is settled exactly once.
 */

import { partnerParts, type ServiceDue } from "../../protocol/chain-partners.js";
import {
  availableOf,
  BURN_ACCOUNT,
  balanceAccount,
  CHAIN_PARTNER_ACCOUNT,
  FISHERMEN_ACCOUNT,
  poolAccount,
  SETTLEMENT_CLEARING_ACCOUNT,
  smallerAmount,
  TREASURY_ACCOUNT,
  type Transfer,
} from "../../protocol/ledger.js";
import { rowBasis, rowDue, type SettlementRow, slaCredits } from "../../protocol/market.js";
import { distribute, scorePpm } from "../../protocol/rewards.js";
import { poolId } from "../../protocol/staking.js";
import type { GatewayConfig } from "../config.js";
import { eachIsolated } from "../cron/isolated.js";
import { getBatch } from "../db/batches.js";
import type { Database } from "../db/database.js";
import { addDebt } from "../db/debts.js";
import { type Account, getAccounts, ledgerStatements, type Statement, single } from "../db/ledger.js";
import { getPool } from "../db/rep.js";
import { batchesToSettle, billableSessions, hostWorkOfSessions, insertSettlement, type Settlement } from "../db/settlements.js";
import { apiError } from "../errors.js";
import { producerReward } from "../rep/producer-reward.js";
import { type OperationOutcome, runOperation } from "./operation.js";
import { validatorSet } from "./validators.js";

/** Where the validators' share of a verified batch goes, and why. */
export function validatorShareDestination(
  prover: string | null,
  active: ReadonlySet<string>,
): { to: string; reason: NonNullable<Settlement["validatorShareReason"]> } {
  if (!prover) return { to: TREASURY_ACCOUNT, reason: "no_prover" };
  if (!active.has(prover)) return { to: TREASURY_ACCOUNT, reason: "prover_not_active" };
  return { to: poolAccount(poolId("validator", prover)), reason: "active_prover" };
}

const emptySettlement = (batchId: string, outcome: Settlement["outcome"], prover: string | null, now: number): Settlement => ({
  batchId,
  outcome,
  prover,
  computeUnits: 0,
  due: 0,
  charged: 0,
  uncollected: 0,
  hosts: 0,
  treasury: 0,
  validators: 0,
  fisherman: 0,
  chainPartner: 0,
  burned: 0,
  withheldByScore: 0,
  settledAt: now,
  validatorShareTo: null,
  validatorShareReason: null,
  slaCredits: 0,
});

export async function settleBatch(
  db: Database,
  config: GatewayConfig,
  batchId: string,
  now: number,
): Promise<OperationOutcome<Settlement>> {
  const batch = await getBatch(db, batchId);
  if (!batch) throw apiError("unknown_batch", `No batch "${batchId}"`);
  if (batch.state !== "verified" && batch.state !== "expired") {
    throw apiError("batch_not_final", `Batch is ${batch.state}; only verified or expired batches settle`);
  }
  const pool = await getPool(db, batchId);
  if (pool && (pool.state === "open" || pool.state === "rejected")) {
    throw apiError(
      "batch_not_final",
      pool.state === "open"
        ? "The batch's REP validation pool is still open; it settles after the pool resolves"
        : "The batch's REP validation pool rejected it; it is never settled",
    );
  }
  return runOperation(
    db,
    { id: `sys/settle/${batchId}`, kind: "settle", request: { batch: batchId } },
    now,
    async () => {
      if (batch.state === "expired") {
        const record = emptySettlement(batchId, "expired", null, now);
        return { statements: [insertSettlement(db, record)], result: record };
      }
      const active = new Set((await validatorSet(db, config)).filter((v) => v.active).map((v) => v.address));
      return chargeAndPay(db, config, batchId, batch.prover, validatorShareDestination(batch.prover, active), now);
    },
    // A requestor whose balance fell after it was read (it staked meanwhile) is charged what is
    // left, the rest becoming debt: settlement reads again instead of failing (and blocking cron).
    { staleBalance: "rebuild" },
  );
}

async function chargeAndPay(
  db: Database,
  config: GatewayConfig,
  batchId: string,
  prover: string | null,
  validatorShare: ReturnType<typeof validatorShareDestination>,
  now: number,
) {
  const sessions = await billableSessions(db, batchId);
  const work = await hostWorkOfSessions(
    db,
    sessions.map((s) => s.sessionId),
  );
  // Offered prices (docs/market.md): a session with frozen host prices owes each host's compute
  // units at its price; one without owes its compute units at the service's price, as before.
  const sessionOf = new Map(sessions.map((s) => [s.sessionId, s]));
  const pricesOf = new Map(sessions.map((s) => [s.sessionId, JSON.parse(s.hostPrices) as Record<string, number>]));
  const rows: SettlementRow[] = work.map((w) => {
    const s = sessionOf.get(w.sessionId) as (typeof sessions)[number];
    const prices = pricesOf.get(w.sessionId) as Record<string, number>;
    return {
      sessionId: w.sessionId,
      requestorId: s.requestorId,
      hostId: w.hostId,
      relays: w.relays,
      computeUnits: w.computeUnits,
      price: Object.keys(prices).length ? (prices[w.hostId] ?? s.price) : null,
      servicePrice: s.price,
      scorePpm: scorePpm(w.score, config.unscoredHostScore),
      availability: w.availability,
      latencyScore: w.latencyScore,
      slaMinAvailability: s.slaMinAvailability,
      slaMinLatency: s.slaMinLatency,
    };
  });
  const dueBy = new Map<string, bigint>();
  const dueByService = new Map<string, ServiceDue>();
  let computeUnits = 0;
  for (const s of sessions) {
    computeUnits += s.computeUnits;
    const priced = Object.keys(pricesOf.get(s.sessionId) as Record<string, number>).length > 0;
    const owed = priced
      ? rows.filter((r) => r.sessionId === s.sessionId).reduce((n, r) => n + rowDue(r), 0n)
      : BigInt(s.computeUnits) * BigInt(s.price);
    dueBy.set(s.requestorId, (dueBy.get(s.requestorId) ?? 0n) + owed);
    const service = dueByService.get(s.serviceId) ?? { service: s.serviceId, partner: s.partner, due: 0n };
    service.due += owed;
    dueByService.set(s.serviceId, service);
  }
  const payers = [...dueBy.keys()].sort();
  const balances = await getAccounts(db, payers.map(balanceAccount));
  const list: Transfer[] = [];
  const debts: Statement[] = [];
  let due = 0n;
  let revenue = 0n;
  for (const requestor of payers) {
    const owed = dueBy.get(requestor) ?? 0n;
    // A balance account never goes below zero; a missing one comes back with zero totals.
    const available = availableOf(balances.get(balanceAccount(requestor)) as Account);
    const charge = smallerAmount(owed, available);
    due += owed;
    revenue += charge;
    if (owed > charge) {
      const entry = { id: `settle/${batchId}/debt/${requestor}`, reason: "settlement" as const, reference: batchId };
      debts.push(...addDebt(db, requestor, owed - charge, entry, now));
    }
    if (charge > 0n)
      list.push(
        single(
          `settle/${batchId}/charge/${requestor}`,
          balanceAccount(requestor),
          SETTLEMENT_CLEARING_ACCOUNT,
          charge,
          "charge",
          batchId,
        ),
      );
  }
  const operatorOf = new Map(work.map((w) => [w.hostId, w.operator]));
  const basis = rowBasis(rows);
  const split = distribute(
    revenue,
    rows.map((r, i) => ({ hostId: r.hostId, relays: r.relays, scorePpm: r.scorePpm, basis: basis[i] })),
    config.rewardSplit,
  );
  // SLA credits come out of what scores withheld (which would otherwise go to the treasury).
  const credits = slaCredits(rows, basis, (revenue * config.rewardSplit.hosts) / 10_000n);
  let credited = 0n;
  for (const requestor of [...credits.keys()].sort()) {
    const amount = credits.get(requestor) as bigint;
    credited += amount;
    if (amount > 0n)
      list.push(
        single(
          `settle/${batchId}/sla/${requestor}`,
          SETTLEMENT_CLEARING_ACCOUNT,
          balanceAccount(requestor),
          amount,
          "sla_credit",
          batchId,
        ),
      );
  }
  const pay = (to: string, amount: bigint, code: string, key: string) => {
    if (amount > 0n) list.push(single(`settle/${batchId}/${key}`, SETTLEMENT_CLEARING_ACCOUNT, to, amount, code, batchId));
  };
  for (const h of split.hosts)
    pay(balanceAccount(operatorOf.get(h.hostId) as string), h.amount, "host_reward", `host/${h.hostId}`);
  const unclaimed = validatorShare.reason !== "active_prover";
  pay(validatorShare.to, split.validators, unclaimed ? "validator_share_unclaimed" : "validator_reward", "validator");
  pay(FISHERMEN_ACCOUNT, split.fisherman, "fisherman_reward", "fisherman");
  const partners = partnerParts(split.chainPartner, [...dueByService.values()]);
  for (const [partner, amount] of partners.parts)
    pay(balanceAccount(partner), amount, "chain_partner_reward", `chain-partner/${partner}`);
  pay(CHAIN_PARTNER_ACCOUNT, partners.rest, "chain_partner_reward", "chain-partner");
  pay(BURN_ACCOUNT, split.burn, "burn", "burn");
  // The batch producer's share comes out of the treasury's part (docs/rep.md), after the SLA credits.
  const producer = await producerReward(db, config, batchId, revenue, split.treasury - credited);
  if (producer) pay(balanceAccount(producer.holder), producer.amount, "producer_reward", "producer");
  const treasury = split.treasury - credited - (producer?.amount ?? 0n);
  pay(TREASURY_ACCOUNT, treasury, "treasury", "treasury");
  const record: Settlement = {
    ...emptySettlement(batchId, "paid", prover, now),
    computeUnits,
    due: Number(due),
    charged: Number(revenue),
    uncollected: Number(due - revenue),
    hosts: Number(split.hosts.reduce((n, h) => n + h.amount, 0n)),
    treasury: Number(treasury),
    validators: Number(split.validators),
    fisherman: Number(split.fisherman),
    chainPartner: Number(split.chainPartner),
    burned: Number(split.burn),
    withheldByScore: Number(split.withheldByScore),
    validatorShareTo: validatorShare.to,
    validatorShareReason: validatorShare.reason,
    slaCredits: Number(credited),
  };
  return {
    statements: [...ledgerStatements(db, list, now), ...debts, insertSettlement(db, record), ...(producer?.statements ?? [])],
    result: record,
  };
}

/**
 * Cron: settles every batch that became verified or expired, each on its own (a batch that fails
 * to settle is retried with backoff, then quarantined; the others still settle). Returns how
 * many were settled.
 */
export async function settleFinalBatches(db: Database, config: GatewayConfig, now: number, limit = 20): Promise<number> {
  let settled = 0;
  await eachIsolated(
    db,
    "settle_batch",
    now,
    await batchesToSettle(db, limit, now),
    (b) => b.id,
    async (b) => {
      const outcome = await settleBatch(db, config, b.id, now);
      if (!outcome.alreadyDone) settled++;
    },
  );
  return settled;
}
