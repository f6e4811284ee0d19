/**
 * Deterministic simulation of the economy: thousands of seeded random operations (mint, transfer,
 * stake, unstake, delegate, slash while unbonding, unbonding returns, settlement, concurrent
 * licence mints, binds and redemptions, replayed and reused operation ids, phase moves, chain
 * partners named and removed, revenue distributions and their maturing payouts, ledger-root folds) run
 * through the real repository layer and SQL on a libSQL `file:` database, with every invariant
 * checked after every step. A failure names its seed and step: rerun it with
 * `SIM_SEED=<seed> npx vitest run -c vitest.node.config.ts test/node/economy-simulation.test.ts`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { applyMigrations, libsqlClient, repositoryDatabase } from "../../dev/libsql.js";
import {
  availableOf,
  balanceAccount,
  ledgerViolations,
  licenceAccount,
  SETTLEMENT_CLEARING_ACCOUNT,
  TREASURY_ACCOUNT,
} from "../../protocol/ledger.js";
import { LEDGER_ASSET, verifyLedgerProof } from "../../protocol/ledger-root.js";
import { liquidatesOnSlash } from "../../protocol/licences.js";
import { readParameters } from "../../protocol/parameters.js";
import { repLedgerViolations, repLiquidAccount, repPoolAccount } from "../../protocol/rep.js";
import { poolId } from "../../protocol/staking.js";
import {
  batches,
  batchSessions,
  hosts,
  licences,
  operators,
  reportCards,
  repPools,
  repReleases,
  requestors,
  services,
  sessionHosts,
  sessions,
  settlements,
  stakePools,
  stakePositions,
  unbondings,
} from "../../schema/tables.js";
import type { GatewayConfig } from "../../workers/config.js";
import type { Database } from "../../workers/db/database.js";
import { debtAudit, requestorDebt } from "../../workers/db/debts.js";
import { getAccount, getAccounts, ledgerSnapshot } from "../../workers/db/ledger.js";
import { licencesLiableTo, readNetworkState } from "../../workers/db/licences.js";
import { repLedgerSnapshot, repLedgerStatements } from "../../workers/db/rep.js";
import { setServicePartner } from "../../workers/db/services.js";
import { readPool, sharesOf } from "../../workers/db/stake-pools.js";
import { collectDebts } from "../../workers/economy/debts.js";
import { foldLedgerRoot, ledgerBalanceProof } from "../../workers/economy/ledger-root.js";
import { bindLicence, changePhase, mintLicence, redeemLicence, transferLicence } from "../../workers/economy/licences.js";
import { runOperation } from "../../workers/economy/operation.js";
import { distributeRevenue, releaseMaturedRevenue } from "../../workers/economy/revenue-sharing.js";
import { settleBatch } from "../../workers/economy/settle-batches.js";
import { slashHost } from "../../workers/economy/slash-jailed.js";
import { releaseMaturedUnbondings, slashStatements, stake, unstake } from "../../workers/economy/staking.js";
import { mint, transfer } from "../../workers/economy/transfers.js";
import { registerValidator } from "../../workers/economy/validators.js";
import { ApiError } from "../../workers/errors.js";
import { drawBatchProducer, vote as repVote, resolveOnePool } from "../../workers/rep/pools.js";
import { encumber, releaseMaturedRep, repGenesis, release as repRelease } from "../../workers/rep/stakes.js";
import { governanceSimulation, governanceViolations } from "./governance-simulation.js";

/** mulberry32: a small seeded generator, so a seed replays the same run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)],
    amount: (max: bigint) => BigInt(Math.floor(next() * Number(max))) + 1n,
  };
}

const LICENCE_CAP = 25;
const config: GatewayConfig = {
  ...readParameters({
    UNBONDING_SECONDS: "50",
    LICENCE_MAX_SUPPLY: String(LICENCE_CAP),
    LICENCE_STAKE_EQUIVALENT: "5000000",
    MIN_HOST_STAKE: "1000",
    MIN_DELEGATION: "1000",
    VALIDATOR_MIN_STAKE: "10000",
    VALIDATOR_SET_SIZE: "2",
    // Governance in seconds, a low threshold, a small council spend threshold (governance-simulation.ts).
    PROPOSAL_THRESHOLD: "100000",
    GOVERNANCE_REVIEW_SECONDS: "5",
    GOVERNANCE_VOTING_SECONDS: "10",
    GOVERNANCE_TIMELOCK_SECONDS: "5",
    GOVERNANCE_GRACE_SECONDS: "30",
    COUNCIL_SPEND_THRESHOLD: "200000",
    GOVERNANCE_MEMBER_MIN_STAKE: "1000",
    REP_POOL_SECONDS: "120",
    REP_POOL_QUORUM_BPS: "200",
    REP_RELEASE_SECONDS: "50",
  }),
  registryChainId: 31337,
  signingDomain: { chainId: 31337, verifyingContract: "0x0000000000000000000000000000000000000000" },
  allowLoopbackHosts: false,
  devMode: true,
};

const HOLDERS = Array.from({ length: 6 }, (_, i) => `0x${String(i + 1).padStart(40, "0")}`);
const HOSTS = ["host_a", "host_b", "host_c"].map((id, i) => ({ id, operator: HOLDERS[i] }));
const PAYER = "req_00000000000000000001";
const VALIDATORS = [HOLDERS[3], HOLDERS[4], HOLDERS[5]];

async function freshDatabase(seed: number): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `conductor-sim-${seed}-`));
  const client = libsqlClient(`file:${path.join(dir, "economy.db")}`);
  await applyMigrations(client);
  const db = repositoryDatabase(client);
  await db.insert(operators).values(HOLDERS.map((address) => ({ address, nextNonce: 0 })));
  await db.insert(hosts).values(
    HOSTS.map((h) => ({
      ...h,
      endpoint: "https://h.example",
      latitude: 0,
      longitude: 0,
      activeSince: 0,
      createdAt: 0,
      updatedAt: 0,
    })),
  );
  // The market's SLA (docs/market.md): report cards below these credit the requestor at settlement.
  await db.insert(services).values({
    id: "svc",
    kind: "jsonrpc",
    chainId: 1,
    pricePerComputeUnit: 7,
    createdAt: 0,
    slaMinAvailability: 0.9,
    slaMinLatency: 0.5,
  });
  await db.insert(requestors).values({ id: "req_00000000000000000001", name: "payer", createdAt: 0 });
  for (const v of VALIDATORS) await registerValidator(db, { id: `${v}/register`, address: v, name: v.slice(-4) }, 0);
  return db;
}

/** Every invariant; throws naming what broke. */
async function checkInvariants(db: Database) {
  const snapshot = await ledgerSnapshot(db);
  const broken = ledgerViolations(snapshot.accounts, snapshot.recomputed);
  for (const pool of await db.select().from(stakePools).all()) {
    const [{ shares }] = await db
      .select({ shares: sql<number>`coalesce(sum(${stakePositions.shares}), 0)` })
      .from(stakePositions)
      .where(eq(stakePositions.poolId, pool.id))
      .all();
    if (Number(shares) !== pool.totalShares)
      broken.push(`${pool.id}: positions hold ${shares} shares, pool says ${pool.totalShares}`);
    const [{ reserved }] = await db
      .select({ reserved: sql<number>`coalesce(sum(${unbondings.amount}), 0)` })
      .from(unbondings)
      .where(sql`${unbondings.poolId} = ${pool.id} AND ${unbondings.state} = 'unbonding'`)
      .all();
    const account = await getAccount(db, `pool:${pool.id}`);
    if (BigInt(reserved) !== account.debitsPending)
      broken.push(`${pool.id}: unbonding entries ${reserved} != pending ${account.debitsPending}`);
  }
  const clearing = await getAccount(db, SETTLEMENT_CLEARING_ACCOUNT);
  if (clearing.creditsPosted !== clearing.debitsPosted) broken.push("the settlement clearing account is not empty");
  broken.push(...(await settlementViolations(db)));
  broken.push(...(await debtViolations(db)));
  broken.push(...(await revenueViolations(db)));
  broken.push(...(await governanceViolations(db)));
  const all = await db.select().from(licences).all();
  const state = await readNetworkState(db);
  if (all.length > LICENCE_CAP || state.licencesMinted !== all.length)
    broken.push(`licences: ${all.length} rows, ${state.licencesMinted} counted, cap ${LICENCE_CAP}`);
  const escrows = await getAccounts(
    db,
    all.map((l) => licenceAccount(l.id)),
  );
  for (const l of all) {
    const held =
      (escrows.get(licenceAccount(l.id))?.creditsPosted ?? 0n) - (escrows.get(licenceAccount(l.id))?.debitsPosted ?? 0n);
    const expected = l.state === "live" ? config.licenceStakeEquivalent : 0n;
    if (held !== expected) broken.push(`licence ${l.id} (${l.state}) escrow holds ${held}, expected ${expected}`);
    if (l.boundTo !== null && (l.unbindingFrom !== null || l.unbindingUntil !== null))
      broken.push(`licence ${l.id} is bound to ${l.boundTo} and unbinding from ${l.unbindingFrom} at once`);
    // Bound only to a host its holder operates or to its holder's own validator: a transfer racing
    // a bind must never leave a licence held by one holder and bound to another's host.
    if (l.state === "live" && l.boundTo !== null) {
      const host = HOSTS.find((h) => `host:${h.id}` === l.boundTo);
      if (host ? host.operator !== l.holder : l.boundTo !== `validator:${l.holder}`)
        broken.push(`licence ${l.id} of ${l.holder} is bound to ${l.boundTo}, which it does not run`);
    }
  }
  // A redeemed licence's escrow went to the balance of the holder that redeemed it.
  const redemptions = await db.all<{ reference: string; credit: string }>(
    sql`SELECT reference, credit_account AS credit FROM transfers WHERE code = 'licence_redeem'`,
  );
  for (const t of redemptions) {
    const l = all.find((x) => x.id === t.reference);
    if (l?.state !== "redeemed" || t.credit !== `balance:${l.holder}`)
      broken.push(`licence ${t.reference} redeemed into ${t.credit} but is ${l?.state} held by ${l?.holder}`);
  }
  broken.push(...(await repViolations(db)));
  if (broken.length) throw new Error(broken.join("; "));
}

/**
 * REP (docs/rep.md): its book balances on its own (supply = minted, nothing below zero, no REP
 * between holders, mints only by pools); every mint belongs to an accepted (or the genesis) pool
 * and adds up to its `minted`; an open pool escrows exactly its votes, a resolved one nothing;
 * releases reserve exactly what is pending; a rejected batch is never settled.
 */
async function repViolations(db: Database): Promise<string[]> {
  const snapshot = await repLedgerSnapshot(db);
  const broken = repLedgerViolations(snapshot.accounts, snapshot.recomputed, snapshot.transfers);
  const pools = await db.select().from(repPools).all();
  const balance = (id: string) => {
    const t = snapshot.recomputed.get(id);
    return t ? t.creditsPosted - t.debitsPosted : 0n;
  };
  for (const p of pools) {
    const mints = snapshot.transfers
      .filter((t) => t.code === "pool_mint" && t.reference === p.id)
      .reduce((n, t) => n + t.amount, 0n);
    if (mints !== BigInt(p.minted)) broken.push(`pool ${p.id}: minted ${mints}, records ${p.minted}`);
    if (mints > 0n && p.state !== "accepted" && p.state !== "genesis") broken.push(`pool ${p.id} (${p.state}) minted REP`);
    const escrow = balance(repPoolAccount(p.id));
    const expected = p.state === "open" ? BigInt(p.acceptStake + p.rejectStake) : 0n;
    if (escrow !== expected) broken.push(`pool ${p.id} (${p.state}) escrows ${escrow}, expected ${expected}`);
  }
  for (const t of snapshot.transfers)
    if (t.code === "pool_mint" && !pools.some((p) => p.id === t.reference)) broken.push(`REP minted outside a pool: ${t.id}`);
  const releasing = new Map<string, bigint>();
  for (const r of await db.select().from(repReleases).where(eq(repReleases.state, "releasing")).all())
    releasing.set(r.holder, (releasing.get(r.holder) ?? 0n) + BigInt(r.amount));
  for (const a of snapshot.accounts.filter((x) => x.id.startsWith("rep_stake:"))) {
    const holder = a.id.slice("rep_stake:".length);
    if ((releasing.get(holder) ?? 0n) !== a.debitsPending)
      broken.push(`${a.id}: releases ${releasing.get(holder)} != pending ${a.debitsPending}`);
  }
  const [row] = await db.all<{ n: number }>(
    sql`SELECT COUNT(*) AS n FROM settlements WHERE batch_id IN (SELECT id FROM rep_pools WHERE state IN ('rejected', 'open'))`,
  );
  if (Number(row.n) > 0) broken.push("a batch was settled while its REP pool was open or after it rejected the batch");
  return broken;
}

/**
 * Every settlement of a verified batch charged and paid by the same rule whoever proved it: its
 * charges and host rewards are its transfers, the validators' share went where the record says
 * (the prover's pool only when it was active), and due = charged + uncollected.
 */
async function settlementViolations(db: Database): Promise<string[]> {
  const broken: string[] = [];
  const moved = await db.all<{ reference: string; code: string; credit: string; total: number }>(sql`
    SELECT reference, code, credit_account AS credit, SUM(amount) AS total FROM transfers
    WHERE reference IN (SELECT batch_id FROM settlements) GROUP BY reference, code, credit_account`);
  const byBatch = new Map<string, typeof moved>();
  for (const m of moved) byBatch.set(m.reference, [...(byBatch.get(m.reference) ?? []), m]);
  for (const s of await db.select().from(settlements).all()) {
    const list = byBatch.get(s.batchId) ?? [];
    const sum = (code: string) => list.filter((m) => m.code === code).reduce((n, m) => n + Number(m.total), 0);
    if (s.outcome === "expired") {
      if (list.length) broken.push(`expired batch ${s.batchId} moved value`);
      continue;
    }
    if (s.outcome !== "paid") broken.push(`verified batch ${s.batchId} settled as ${s.outcome}`);
    if (sum("charge") !== s.charged) broken.push(`batch ${s.batchId}: charges ${sum("charge")} != charged ${s.charged}`);
    if (sum("host_reward") !== s.hosts) broken.push(`batch ${s.batchId}: host rewards ${sum("host_reward")} != ${s.hosts}`);
    if (s.due !== s.charged + s.uncollected) broken.push(`batch ${s.batchId}: due != charged + uncollected`);
    if (sum("sla_credit") !== s.slaCredits)
      broken.push(`batch ${s.batchId}: SLA credits ${sum("sla_credit")} != ${s.slaCredits}`);
    if (s.slaCredits > s.withheldByScore) broken.push(`batch ${s.batchId}: SLA credits exceed what scores withheld`);
    if (sum("treasury") !== s.treasury) broken.push(`batch ${s.batchId}: treasury ${sum("treasury")} != ${s.treasury}`);
    // The batch producer's reward (REP) is paid out of the treasury's part: the record's treasury is what was left.
    const parts =
      s.hosts + s.treasury + s.validators + s.fisherman + s.chainPartner + s.burned + s.slaCredits + sum("producer_reward");
    if (parts !== s.charged) broken.push(`batch ${s.batchId}: parts ${parts} != charged ${s.charged}`);
    const share = list.filter((m) => m.code === "validator_reward" || m.code === "validator_share_unclaimed");
    const active = s.validatorShareReason === "active_prover";
    if (
      s.validators > 0 &&
      (share.length !== 1 || share[0].credit !== s.validatorShareTo || Number(share[0].total) !== s.validators)
    )
      broken.push(`batch ${s.batchId}: the validators' share did not go to ${s.validatorShareTo}`);
    if (sum("chain_partner_reward") !== s.chainPartner)
      broken.push(`batch ${s.batchId}: chain partner transfers ${sum("chain_partner_reward")} != ${s.chainPartner}`);
    if (active !== (s.validatorShareTo === `pool:validator:${s.prover}`))
      broken.push(`batch ${s.batchId}: validators' share to ${s.validatorShareTo} for ${s.validatorShareReason}`);
  }
  return broken;
}

/**
 * Each requestor's debt is the sum of its entries (and never negative: `debt_not_negative`);
 * what settlements left uncollected is what the settlement entries added; what collections took
 * off is what `debt_collection` transfers moved from requestors' balances to the treasury.
 */
async function debtViolations(db: Database): Promise<string[]> {
  const broken: string[] = [];
  for (const r of await debtAudit(db)) {
    if (r.debt !== r.entries) broken.push(`${r.id}: debt ${r.debt} != entries ${r.entries}`);
    if (r.debt < 0n) broken.push(`${r.id}: negative debt ${r.debt}`);
  }
  const [row] = await db.all<{ added: number; collected: number; uncollected: number; moved: number; wrong: number }>(sql`
    SELECT
      (SELECT COALESCE(SUM(amount), 0) FROM debt_entries WHERE reason = 'settlement') AS added,
      (SELECT COALESCE(-SUM(amount), 0) FROM debt_entries WHERE reason <> 'settlement') AS collected,
      (SELECT COALESCE(SUM(uncollected), 0) FROM settlements) AS uncollected,
      (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE code = 'debt_collection') AS moved,
      (SELECT COUNT(*) FROM transfers WHERE code = 'debt_collection'
        AND (credit_account <> ${TREASURY_ACCOUNT} OR debit_account NOT LIKE 'balance:req_%')) AS wrong`);
  if (Number(row.added) !== Number(row.uncollected))
    broken.push(`settlements left ${row.uncollected} uncollected but recorded ${row.added} of debt`);
  if (Number(row.collected) !== Number(row.moved))
    broken.push(`debt entries collected ${row.collected} but debt_collection transfers moved ${row.moved}`);
  if (Number(row.wrong) > 0) broken.push("a debt collection moved value elsewhere than requestor balance -> treasury");
  return broken;
}

/**
 * Revenue sharing: the treasury's pending debits are exactly the locked payouts (it has no other
 * pending transfer); each distribution's payouts add up to what it says it distributed, never
 * more than its amount; each paid payout was posted once, to its holder.
 */
async function revenueViolations(db: Database): Promise<string[]> {
  const broken: string[] = [];
  const [row] = await db.all<{ locked: number; over: number; unposted: number; wrong: number }>(sql`
    SELECT
      (SELECT COALESCE(SUM(amount), 0) FROM revenue_payouts WHERE state = 'locked') AS locked,
      (SELECT COUNT(*) FROM revenue_distributions d WHERE d.distributed > d.amount
        OR d.distributed <> (SELECT COALESCE(SUM(amount), 0) FROM revenue_payouts p WHERE p.distribution = d.id)) AS over,
      (SELECT COUNT(*) FROM revenue_payouts p WHERE p.state = 'paid'
        AND (SELECT COUNT(*) FROM transfers t WHERE t.pending_id = p.transfer_id AND t.phase = 'post') <> 1) AS unposted,
      (SELECT COUNT(*) FROM transfers t JOIN revenue_payouts p ON p.transfer_id = t.id
        WHERE t.credit_account <> 'balance:' || p.holder OR t.debit_account <> ${TREASURY_ACCOUNT}) AS wrong`);
  const treasury = await getAccount(db, TREASURY_ACCOUNT);
  if (BigInt(row.locked) !== treasury.debitsPending)
    broken.push(`locked payouts ${row.locked} != the treasury's pending debits ${treasury.debitsPending}`);
  if (Number(row.over) > 0) broken.push("a distribution's payouts do not add up to what it distributed");
  if (Number(row.unposted) > 0) broken.push("a paid payout was not posted exactly once");
  if (Number(row.wrong) > 0) broken.push("a payout moved value elsewhere than treasury -> its holder");
  return broken;
}

/** Refusals the model allows (the operation asked for something the rules forbid); anything else fails the run. */
const EXPECTED_REFUSALS = new Set([
  "insufficient_balance",
  "insufficient_stake",
  "stake_below_minimum",
  "amount_too_small",
  "pool_wiped_out",
  "licence_supply_exhausted",
  "licence_minting_closed",
  "licence_ended",
  "licence_bound",
  "licence_not_bound",
  "licence_unbinding",
  "licence_changed",
  "not_licence_holder",
  "redemption_closed",
  "phase_not_allowed",
  "operation_id_reused",
  "busy",
  "same_account",
  "payment_required",
  "insufficient_treasury",
  // Governance (governance-simulation.ts).
  "below_proposal_threshold",
  "unknown_citation",
  "citation_not_older",
  "proposal_state",
  "not_proposer",
  "not_council_member",
  "no_voting_power",
  "already_voted",
  "not_a_member",
  "votes_over_credits",
  "invalid_votes",
  "council_signatures_missing",
  "parameter_bounds_conflict",
  "self_delegation",
  "insufficient_rep",
  "rep_pool_closed",
  "rep_vote_refused",
  "rep_already_voted",
  "rep_producer_busy",
  "batch_not_final",
]);

async function attempt(run: () => Promise<unknown>): Promise<string> {
  try {
    const outcome = (await run()) as { alreadyDone?: boolean };
    return outcome?.alreadyDone ? "already_done" : "done";
  } catch (error) {
    if (error instanceof ApiError && EXPECTED_REFUSALS.has(error.code)) return error.code;
    throw error;
  }
}

let batchCounter = 0;
/** A verified batch of one session of `payer` with relays on two hosts, proven by `prover`. */
async function fabricateBatch(db: Database, r: ReturnType<typeof rng>, prover: string | null) {
  const n = ++batchCounter;
  const sessionId = `ses_${n}`;
  const relays = [r.int(50) + 1, r.int(50)];
  const cu = relays[0] + relays[1];
  await db.insert(sessions).values({
    id: sessionId,
    requestorId: "req_00000000000000000001",
    serviceId: "svc",
    epoch: n,
    seed: "0x",
    algorithm: "sim",
    hostIds: "[]",
    quota: 1000,
    startsAt: 0,
    endsAt: 1,
    createdAt: 0,
    closedAt: 2,
    sessionRoot: "0x",
    relayCount: cu,
    computeUnits: cu,
    // Half the sessions were selected with offers: each host's frozen price (docs/market.md).
    hostPrices: r.next() < 0.5 ? JSON.stringify({ host_a: 1 + r.int(30), host_b: 1 + r.int(30) }) : "{}",
  });
  // Report cards, some below the service's SLA (availability 0.9, latency 0.5): SLA credits.
  for (const hostId of ["host_a", "host_b"]) {
    if (r.next() < 0.3) continue;
    const availability = r.next() < 0.3 ? r.next() * 0.9 : 0.9 + r.next() * 0.1;
    const latencyScore = r.next();
    await db.insert(reportCards).values({
      sessionId,
      hostId,
      serviceId: "svc",
      epoch: n,
      samples: 10,
      availability,
      latencyScore,
      identityFailureRate: 0,
      score: (availability + latencyScore) / 2,
      status: "scored",
      samplesHash: "0x",
      createdAt: 0,
    });
  }
  const id = `batch_${n}`;
  await db.insert(batches).values({
    id,
    root: "0x",
    reportCardRoot: "0x",
    relayCount: cu,
    computeUnits: cu,
    sessionCount: 1,
    state: r.next() < 0.2 ? "expired" : "verified",
    nextAttemptAt: 0,
    createdAt: 0,
    updatedAt: 0,
    prover,
  });
  await db
    .insert(batchSessions)
    .values({ batchId: id, ordinal: 0, sessionId, sessionSeed: "0x", sessionRoot: "0x", relayCount: cu, computeUnits: cu });
  await db
    .insert(sessionHosts)
    .values([
      { sessionId, hostId: "host_a", relays: relays[0], computeUnits: relays[0] },
      ...(relays[1] > 0 ? [{ sessionId, hostId: "host_b", relays: relays[1], computeUnits: relays[1] }] : []),
    ]);
  return id;
}

async function simulate(seed: number, steps: number, { rep = false }: { rep?: boolean } = {}) {
  const db = await freshDatabase(seed);
  const r = rng(seed);
  let now = 1_000;
  // REP starts from its genesis pool (docs/rep.md): every holder gets some to encumber and vote with.
  if (rep)
    await repGenesis(
      db,
      HOLDERS.map((holder, i) => ({ holder, amount: BigInt(5_000 * (i + 1)) })),
      now,
    );
  const openPools: string[] = [];
  const done: { run: () => Promise<unknown>; changed: () => Promise<unknown> }[] = [];
  const settled: string[] = [];
  let licenceCounter = 0;
  let step = 0;
  const holderOrRequestor = () => (r.next() < 0.15 ? PAYER : r.pick(HOLDERS));
  /** A pool `holder` may bind a licence to (a host it operates, its own validator), or null (unbind). */
  const bindTarget = (holder: string) => {
    const host = HOSTS.find((h) => h.operator === holder);
    return host ? `host:${host.id}` : VALIDATORS.includes(holder) ? `validator:${holder}` : null;
  };

  /** REP operations, mixed in with the DB-CPTM ones when `rep` is on. */
  const repOperations = (): [number, string, () => Promise<string>][] => [
    [
      5,
      "rep encumber",
      () => {
        const holder = r.pick(HOLDERS);
        return attempt(() => encumber(db, { id: `${holder}/e${r.int(1e9)}`, holder, amount: r.amount(6_000n) }, now));
      },
    ],
    [
      3,
      "rep release",
      () => {
        const holder = r.pick(HOLDERS);
        return attempt(() => repRelease(db, config, { id: `${holder}/rl${r.int(1e9)}`, holder, amount: r.amount(1_500n) }, now));
      },
    ],
    [
      4,
      "rep batch drawn",
      async () => {
        const id = await fabricateBatch(db, r, r.pick([...VALIDATORS, null]));
        const outcome = await attempt(() => drawBatchProducer(db, config, id, now));
        const pool = await db.select().from(repPools).where(eq(repPools.id, id)).get();
        if (pool?.state === "open") {
          openPools.push(id);
          // Settlement waits for the pool.
          return `${outcome} open, settle ${await attempt(() => settleBatch(db, config, id, now))}`;
        }
        const settlement = await attempt(() => settleBatch(db, config, id, now));
        settled.push(id);
        return `${outcome} ${pool?.state} settle ${settlement}`;
      },
    ],
    [
      16,
      "rep vote",
      async () => {
        if (!openPools.length) return "nothing";
        // Mostly pools still taking votes; now and then one whose window has closed.
        const taking = [];
        for (const id of openPools)
          if (((await db.select().from(repPools).where(eq(repPools.id, id)).get())?.closesAt ?? 0) > now) taking.push(id);
        const pool = taking.length && r.next() < 0.9 ? r.pick(taking) : r.pick(openPools);
        const voter = r.pick(HOLDERS);
        const stake = r.amount(4_000n);
        const id = `${voter}/v${r.int(1e9)}`;
        return attempt(() => repVote(db, { id, voter, pool, accept: r.next() < 0.6, stake, signature: "0x" }, now));
      },
    ],
    [
      4,
      "rep resolve and settle",
      async () => {
        const due = [];
        for (const id of openPools) {
          const p = await db.select().from(repPools).where(eq(repPools.id, id)).get();
          if (p && p.closesAt <= now) due.push(id);
        }
        if (!due.length) return "nothing due";
        const id = r.pick(due);
        const resolved = await attempt(() => resolveOnePool(db, config, id, now));
        openPools.splice(openPools.indexOf(id), 1);
        const state = (await db.select().from(repPools).where(eq(repPools.id, id)).get())?.state;
        const settlement = await attempt(() => settleBatch(db, config, id, now));
        if (state !== "rejected") settled.push(id);
        return `${resolved} ${state} settle ${settlement}`;
      },
    ],
    [
      3,
      "rep time passes",
      async () => {
        now += r.int(30_000);
        return `released ${await releaseMaturedRep(db, now)}`;
      },
    ],
    [
      1,
      "rep transfer between holders",
      async () => {
        const before = await repLedgerSnapshot(db);
        const [from, to] = [r.pick(HOLDERS), r.pick(HOLDERS.filter((h) => h !== HOLDERS[0]))];
        const sneaky = {
          id: `sneak${r.int(1e9)}`,
          debitAccount: repLiquidAccount(from === to ? HOLDERS[0] : from),
          creditAccount: repLiquidAccount(to),
          amount: 1n,
          phase: "single" as const,
          pendingId: null,
          code: "vote_forfeit",
          reference: null,
        };
        const refused = await db
          .batch(repLedgerStatements(db, [sneaky], now) as never)
          .then(() => false)
          .catch(() => true);
        if (!refused) throw new Error("the database let REP move from one holder to another");
        expect((await repLedgerSnapshot(db)).accounts).toEqual(before.accounts);
        return "refused";
      },
    ],
  ];

  const ops: [number, string, () => Promise<string>][] = [
    [
      8,
      "mint",
      () => attempt(() => mint(db, { id: `m${r.int(1e9)}`, holder: holderOrRequestor(), amount: r.amount(5_000_000n) }, now)),
    ],
    [
      8,
      "transfer",
      () =>
        attempt(() =>
          transfer(
            db,
            {
              id: `${r.pick(HOLDERS)}/t${r.int(1e9)}`,
              from: r.pick(HOLDERS),
              to: holderOrRequestor(),
              amount: r.amount(3_000_000n),
            },
            now,
          ),
        ),
    ],
    [
      10,
      "stake host",
      async () => {
        const host = r.pick(HOSTS);
        const req = {
          id: `${host.operator}/s${r.int(1e9)}`,
          holder: host.operator,
          kind: "host" as const,
          subject: host.id,
          amount: r.amount(2_000_000n),
        };
        const outcome = await attempt(() => stake(db, config, req, now));
        // Only what ran can be replayed: a refused request may succeed later, as a new operation.
        if (outcome === "done") {
          done.push({
            run: () => stake(db, config, req, now),
            changed: () => stake(db, config, { ...req, amount: req.amount + 1n }, now),
          });
        }
        return outcome;
      },
    ],
    [
      10,
      "delegate",
      () => {
        const holder = r.pick(HOLDERS);
        return attempt(() =>
          stake(
            db,
            config,
            {
              id: `${holder}/d${r.int(1e9)}`,
              holder,
              kind: "validator",
              subject: r.pick(VALIDATORS),
              amount: r.amount(2_000_000n),
            },
            now,
          ),
        );
      },
    ],
    [
      10,
      "unstake",
      async () => {
        const pools = [
          ...HOSTS.map((h) => ({ kind: "host" as const, subject: h.id, holder: h.operator })),
          ...VALIDATORS.map((v) => ({ kind: "validator" as const, subject: v, holder: r.pick(HOLDERS) })),
        ];
        const p = r.pick(pools);
        const id = poolId(p.kind, p.subject);
        const pool = await readPool(db, id, p.kind, p.subject);
        const held = await sharesOf(db, id, p.holder);
        const worth = pool.totalShares === 0n ? 0n : (held * pool.bonded) / pool.totalShares;
        const amount = worth > 0n && r.next() < 0.3 ? worth : r.amount(worth > 0n ? worth : 1000n);
        return attempt(() =>
          unstake(
            db,
            config,
            { id: `${p.holder}/u${r.int(1e9)}`, holder: p.holder, kind: p.kind, subject: p.subject, amount },
            now,
          ),
        );
      },
    ],
    [
      6,
      "requestor stakes",
      async () => {
        // Often everything it has: the way a requestor leaves settlement nothing to charge.
        const available = availableOf(await getAccount(db, balanceAccount(PAYER)));
        const amount = available > 0n && r.next() < 0.6 ? available : r.amount(2_000_000n);
        const debt = await requestorDebt(db, PAYER);
        const req = { id: `${PAYER}/rs${r.int(1e9)}`, holder: PAYER, kind: "requestor" as const, subject: PAYER, amount };
        const outcome = await attempt(() => stake(db, config, req, now));
        if (debt > 0n && outcome !== "payment_required") throw new Error(`a requestor owing ${debt} staked (${outcome})`);
        return outcome;
      },
    ],
    [
      4,
      "requestor unstakes",
      async () => {
        const pool = await readPool(db, poolId("requestor", PAYER), "requestor", PAYER);
        const worth = pool.bonded;
        const amount = worth > 0n && r.next() < 0.5 ? worth : r.amount(worth > 0n ? worth : 1000n);
        return attempt(() =>
          unstake(db, config, { id: `${PAYER}/ru${r.int(1e9)}`, holder: PAYER, kind: "requestor", subject: PAYER, amount }, now),
        );
      },
    ],
    [
      4,
      "collect debts",
      async () => {
        const debt = await requestorDebt(db, PAYER);
        const collected = await collectDebts(db, now);
        // The same run again (same id) collects nothing more.
        const again = await collectDebts(db, now);
        if (again !== 0) throw new Error("a debt collection ran twice for one cron run");
        return debt > 0n ? `collected from ${collected}` : "no debt";
      },
    ],
    [
      6,
      "slash host",
      async () => {
        const host = r.pick(HOSTS).id;
        const outcome = await attempt(() =>
          slashHost(db, { ...config, jailSlashBps: BigInt(r.int(3000) + 1) }, host, `sim-slash/${r.int(1e9)}`, now),
        );
        // From mainnet on, a slash leaves no live licence bound to the host or still unbinding from it.
        const liable = await licencesLiableTo(db, poolId("host", host), now);
        if (liquidatesOnSlash((await readNetworkState(db)).phase) && liable.length)
          throw new Error(`a slash of ${host} left licences ${liable.map((l) => l.id)} live`);
        return outcome;
      },
    ],
    [
      4,
      "slash validator",
      () => {
        const v = r.pick(VALIDATORS);
        return attempt(() =>
          runOperation(db, { id: `sys/sim-vslash/${r.int(1e9)}`, kind: "slash", request: { v } }, now, async () => {
            const pool = await readPool(db, poolId("validator", v), "validator", v);
            const s = await slashStatements(db, pool, BigInt(r.int(5000) + 1), `vslash/${r.int(1e9)}`, "slash", now);
            return { statements: s.statements, result: s.taken };
          }),
        );
      },
    ],
    [
      8,
      "time passes",
      async () => {
        now += r.int(40_000);
        const paidBefore = (await debtAudit(db)).reduce((n, d) => n + d.entries, 0n);
        const released = await releaseMaturedUnbondings(db, now);
        const paidAfter = (await debtAudit(db)).reduce((n, d) => n + d.entries, 0n);
        return `released ${released}${paidAfter < paidBefore ? " paying debt" : ""}`;
      },
    ],
    [
      5,
      "settle",
      async () => {
        // Anyone may prove a batch: validators (active or not), an address that is none, or nobody recorded.
        const prover = r.pick([...VALIDATORS, HOLDERS[0], null]);
        const id = await fabricateBatch(db, r, prover);
        settled.push(id);
        const outcome = await attempt(() => settleBatch(db, config, id, now));
        const record = await db.select().from(settlements).where(eq(settlements.batchId, id)).get();
        return `${outcome} ${record?.outcome} ${record?.validatorShareReason ?? ""}`.trim();
      },
    ],
    [
      3,
      "settle while the requestor stakes everything",
      async () => {
        const id = await fabricateBatch(db, r, r.pick(VALIDATORS));
        settled.push(id);
        const available = availableOf(await getAccount(db, balanceAccount(PAYER)));
        const req = { id: `${PAYER}/race${r.int(1e9)}`, holder: PAYER, kind: "requestor" as const, subject: PAYER };
        // The stake starts a few queries later, so it lands anywhere in the settlement's reads.
        const lag = r.int(12);
        const [settlement, staking] = await Promise.all([
          attempt(() => settleBatch(db, config, id, now)),
          attempt(async () => {
            for (let i = 0; i < lag; i++) await db.select().from(services).get();
            return stake(db, config, { ...req, amount: available > 0n ? available : 1n }, now);
          }),
        ]);
        // Settlement never fails for what the requestor did meanwhile: it charges what is left.
        if (settlement !== "done") throw new Error(`settlement ${settlement} while the requestor staked (${staking})`);
        return `${settlement}+${staking}`;
      },
    ],
    [
      3,
      "settle again",
      async () => {
        if (!settled.length) return "nothing";
        const before = await ledgerSnapshot(db);
        const outcome = await settleBatch(db, config, r.pick(settled), now);
        const after = await ledgerSnapshot(db);
        expect(outcome.alreadyDone).toBe(true);
        expect(after.accounts).toEqual(before.accounts);
        return "already_done";
      },
    ],
    [
      4,
      "mint licences concurrently",
      async () => {
        const batch = Array.from({ length: r.int(6) + 1 }, () => ({ id: `lic${++licenceCounter}`, holder: r.pick(HOLDERS) }));
        const outcomes = await Promise.all(batch.map((l) => attempt(() => mintLicence(db, config, l, now))));
        return outcomes.join(",");
      },
    ],
    [
      4,
      "bind or unbind licence",
      async () => {
        const live = await db.select().from(licences).where(eq(licences.state, "live")).all();
        if (!live.length) return "nothing";
        const l = r.pick(live);
        const target = l.boundTo && r.next() < 0.6 ? null : bindTarget(l.holder);
        return attempt(() =>
          bindLicence(db, config, { id: `${l.holder}/b${r.int(1e9)}`, holder: l.holder, licence: l.id, target }, now),
        );
      },
    ],
    [
      3,
      "transfer licence",
      async () => {
        const live = await db.select().from(licences).where(eq(licences.state, "live")).all();
        if (!live.length) return "nothing";
        const l = r.pick(live);
        return attempt(() =>
          transferLicence(db, { id: `${l.holder}/lt${r.int(1e9)}`, holder: l.holder, licence: l.id, to: r.pick(HOLDERS) }, now),
        );
      },
    ],
    [
      4,
      "race two licence actions",
      async () => {
        const live = await db.select().from(licences).where(eq(licences.state, "live")).all();
        if (!live.length) return "nothing";
        const l = r.pick(live);
        const action = () => {
          const id = `${l.holder}/race${r.int(1e9)}`;
          const kind = r.pick(["transfer", "bind", "unbind", "redeem"] as const);
          if (kind === "transfer")
            return () => transferLicence(db, { id, holder: l.holder, licence: l.id, to: r.pick(HOLDERS) }, now);
          if (kind === "redeem") return () => redeemLicence(db, config, { id, holder: l.holder, licence: l.id }, now);
          const target = kind === "unbind" ? null : bindTarget(l.holder);
          return () => bindLicence(db, config, { id, holder: l.holder, licence: l.id, target }, now);
        };
        const [a, b] = [action(), action()];
        return (await Promise.all([attempt(a), attempt(b)])).sort().join("+");
      },
    ],
    [
      3,
      "redeem licence",
      async () => {
        const live = await db.select().from(licences).where(eq(licences.state, "live")).all();
        if (!live.length) return "nothing";
        const l = r.pick(live);
        return attempt(() =>
          redeemLicence(db, config, { id: `${l.holder}/r${r.int(1e9)}`, holder: l.holder, licence: l.id }, now),
        );
      },
    ],
    [
      4,
      "replay an operation",
      async () => {
        if (!done.length) return "nothing";
        const op = r.pick(done);
        const before = await ledgerSnapshot(db);
        const replay = await attempt(op.run);
        const reused = await attempt(op.changed);
        const after = await ledgerSnapshot(db);
        if (replay === "done") throw new Error("a replayed operation ran twice");
        expect(after.accounts).toEqual(before.accounts);
        return `${replay}/${reused}`;
      },
    ],
    [
      2,
      "name or remove the service's chain partner",
      async () => {
        const partner = r.next() < 0.3 ? null : r.pick([...HOLDERS, PAYER]);
        await setServicePartner(db, "svc", partner);
        return partner ? "named" : "removed";
      },
    ],
    [
      4,
      "distribute revenue",
      async () => {
        const supply = async () => {
          const snap = await ledgerSnapshot(db);
          return snap.accounts
            .filter((a) => a.id !== "system:issuance" && a.id !== "system:burn")
            .reduce((n, a) => n + a.creditsPosted - a.debitsPosted, 0n);
        };
        const before = await supply();
        const available = availableOf(await getAccount(db, TREASURY_ACCOUNT));
        const amount = r.amount(available > 10n ? (available * 6n) / 5n : 1_000n);
        const activity = Object.fromEntries(
          HOLDERS.filter(() => r.next() < 0.5).map((h) => [
            h,
            { votesCast: r.int(5), proposalsMade: r.int(2), proposalsAdopted: r.int(2) },
          ]),
        );
        const outcome = await attempt(() =>
          distributeRevenue(db, {
            operationId: `sys/sim-revenue/${r.int(1e9)}`,
            rule: r.pick(["stake", "activity", "hybrid"] as const),
            amount,
            now,
            activity,
            lockSeconds: r.int(60) + 1,
          }),
        );
        if ((await supply()) !== before) throw new Error("a revenue distribution changed the supply");
        return outcome;
      },
    ],
    [
      3,
      "revenue payouts mature",
      async () => {
        now += r.int(40_000);
        const released = await releaseMaturedRevenue(db, now);
        if ((await releaseMaturedRevenue(db, now)) !== 0) throw new Error("a payout was released twice");
        return released > 0 ? "released" : "none due";
      },
    ],
    [
      2,
      "fold the ledger root",
      async () => {
        const folded = await foldLedgerRoot(db, now);
        if (!folded) return "unchanged";
        // Nothing ran meanwhile: each holder's proven balance is its live posted balance.
        for (const h of [...HOLDERS, PAYER]) {
          const live = await getAccount(db, balanceAccount(h));
          const posted = live.creditsPosted - live.debitsPosted;
          const proof = await ledgerBalanceProof(db, h, folded.epoch).catch(() => null);
          if (!proof) {
            if (posted !== 0n) throw new Error(`${h} holds ${posted} but is not in ledger root ${folded.epoch}`);
            continue;
          }
          if (proof.balance !== posted) throw new Error(`${h}: ledger root says ${proof.balance}, the ledger ${posted}`);
          if (
            !verifyLedgerProof({ holder: h, asset: LEDGER_ASSET, balance: posted, epoch: folded.epoch }, proof.proof, proof.root)
          )
            throw new Error(`${h}: the proof does not verify against root ${folded.epoch}`);
        }
        return "folded";
      },
    ],
    ...governanceSimulation({
      db,
      config,
      r,
      holders: HOLDERS,
      now: () => now,
      advance: (ms) => {
        now += ms;
      },
      attempt,
    }),
    // Phases move late in the run, so testnet (minting) gets its share of steps first.
    [
      1,
      "phase",
      async () =>
        step < steps * 0.6 ? "later" : attempt(() => changePhase(db, config, r.next() < 0.5 ? "mainnet" : "stabilized", now)),
    ],
  ];
  if (rep) ops.push(...repOperations());
  const total = ops.reduce((n, [w]) => n + w, 0);
  const seen = new Map<string, number>();
  for (step = 0; step < steps; step++) {
    const roll = r.int(total);
    let upTo = 0;
    const [, name, run] = ops.find(([w]) => {
      upTo += w;
      return roll < upTo;
    }) as (typeof ops)[number];
    try {
      const outcome = await run();
      seen.set(`${name}: ${outcome.split(",")[0]}`, (seen.get(`${name}: ${outcome.split(",")[0]}`) ?? 0) + 1);
      await checkInvariants(db);
    } catch (error) {
      throw new Error(`economy simulation failed: seed ${seed}, step ${step} (${name}): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return { seen, phase: (await readNetworkState(db)).phase };
}

/** Every seed's outcomes, for the coverage check after the last one. */
const economyOutcomes = new Map<string, number>();
/** The REP seeds' outcomes, for the check after both ran. */
const repSeen = new Map<string, number>();
const REP_SEEDS = [4, 5];

const seeds = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : [1, 2, 3];
const steps = Number(process.env.SIM_STEPS ?? 1200);

describe("economy simulation", () => {
  it.each(seeds)(
    `seed %i: ${steps} random operations keep every invariant after every step`,
    async (seed) => {
      const { seen } = await simulate(seed, steps);
      for (const [k, n] of seen) economyOutcomes.set(k, (economyOutcomes.get(k) ?? 0) + n);
      // The seeds together exercised what they claim to: each kind of operation both succeeded and
      // was refused where it could be. Checked by the last seed over all of them: which outcomes one
      // seed reaches shifts whenever an operation is added to the mix.
      if (seed !== seeds.at(-1)) return;
      const seenAll = economyOutcomes;
      for (const expected of [
        "stake host: done",
        "delegate: done",
        "unstake: done",
        "slash host: done",
        "settle: done paid active_prover",
        "settle: done paid prover_not_active",
        "settle: done paid no_prover",
        "mint licences concurrently: done",
        "race two licence actions: done+licence_changed",
        "requestor stakes: payment_required",
        "collect debts: collected from 1",
        "distribute revenue: done",
        "distribute revenue: insufficient_treasury",
        "revenue payouts mature: released",
        "fold the ledger root: folded",
        "governance propose: done",
        "governance vote: done",
        "governance vote: no_voting_power",
        "governance execute: done",
      ]) {
        expect(seenAll.get(expected) ?? 0, `${expected} in ${JSON.stringify([...seenAll])}`).toBeGreaterThan(0);
      }
      expect([...seenAll.keys()].some((k) => k.startsWith("replay an operation: already_done"))).toBe(true);
      expect([...seenAll.keys()].some((k) => k.startsWith("time passes") && k.endsWith("paying debt"))).toBe(true);
    },
    600_000,
  );

  it.each(process.env.SIM_SEED ? [] : REP_SEEDS)(
    `seed %i with REP: ${steps} random operations (REP encumbrances, draws, votes, pools, releases among them) keep every invariant`,
    async (seed) => {
      const { seen } = await simulate(seed, steps, { rep: true });
      for (const [k, n] of seen) repSeen.set(k, (repSeen.get(k) ?? 0) + n);
      // Which outcomes one seed reaches depends on its draws (ids carry the clock), so the last
      // REP seed checks that the REP seeds together showed every one.
      if (seed !== REP_SEEDS.at(-1)) return;
      for (const expected of [
        "rep encumber: done",
        "rep encumber: insufficient_rep",
        "rep release: done",
        "rep batch drawn: done open",
        "rep vote: done",
        "rep vote: rep_vote_refused",
        "rep transfer between holders: refused",
      ]) {
        expect(repSeen.get(expected) ?? 0, `${expected} in ${JSON.stringify([...repSeen])}`).toBeGreaterThan(0);
      }
      const resolved = [...repSeen.keys()].filter((k) => k.startsWith("rep resolve and settle: done"));
      for (const outcome of ["accepted settle done", "rejected settle batch_not_final"]) {
        expect(
          resolved.some((k) => k.includes(outcome)),
          `${outcome} in ${JSON.stringify(resolved)}`,
        ).toBe(true);
      }
    },
    600_000,
  );

  it("#11 records a requestor's unpaid charge as debt, refuses it new stake, and collects the debt first from stake as it unbonds, the rest to its balance", async () => {
    const db = await freshDatabase(99);
    let now = 1_000;
    await mint(db, { id: "grant", holder: PAYER, amount: 100_000n }, now);
    const staked = { holder: PAYER, kind: "requestor" as const, subject: PAYER };
    await stake(db, config, { ...staked, id: `${PAYER}/all-in`, amount: 100_000n }, now);
    // 60 relays x 7 per compute unit, and nothing left in the balance to pay with.
    await db.insert(batches).values({ ...SCENARIO_BATCH, prover: VALIDATORS[0] });
    await db.insert(sessions).values(SCENARIO_SESSION);
    await db.insert(batchSessions).values(SCENARIO_MEMBER);
    await db.insert(sessionHosts).values({ sessionId: SCENARIO_SESSION.id, hostId: "host_a", relays: 60, computeUnits: 60 });
    const settled = await settleBatch(db, config, SCENARIO_BATCH.id, now);
    expect(settled).toMatchObject({ alreadyDone: false, result: { due: 420, charged: 0, uncollected: 420 } });
    expect(await requestorDebt(db, PAYER)).toBe(420n);
    await expect(stake(db, config, { ...staked, id: `${PAYER}/more`, amount: 1n }, now)).rejects.toMatchObject({
      status: 402,
      code: "payment_required",
    });

    await unstake(db, config, { ...staked, id: `${PAYER}/out`, amount: 100_000n }, now);
    // Nothing to collect from the balance while the stake unbonds.
    expect(await collectDebts(db, now)).toBe(0);
    now += config.unbondingSeconds * 1000;
    const treasuryBefore = availableOf(await getAccount(db, TREASURY_ACCOUNT));
    expect(await releaseMaturedUnbondings(db, now)).toBe(1);
    expect(await requestorDebt(db, PAYER)).toBe(0n);
    expect(availableOf(await getAccount(db, balanceAccount(PAYER)))).toBe(100_000n - 420n);
    expect(availableOf(await getAccount(db, TREASURY_ACCOUNT))).toBe(treasuryBefore + 420n);
    expect((await stake(db, config, { ...staked, id: `${PAYER}/back`, amount: 1_000n }, now)).alreadyDone).toBe(false);
    await checkInvariants(db);
  });
});

const SCENARIO_SESSION = {
  id: "ses_scenario",
  requestorId: PAYER,
  serviceId: "svc",
  epoch: 1,
  seed: "0x",
  algorithm: "sim",
  hostIds: "[]",
  quota: 1000,
  startsAt: 0,
  endsAt: 1,
  createdAt: 0,
  closedAt: 2,
  sessionRoot: "0x",
  relayCount: 60,
  computeUnits: 60,
};
const SCENARIO_BATCH = {
  id: "batch_scenario",
  root: "0x",
  reportCardRoot: "0x",
  relayCount: 60,
  computeUnits: 60,
  sessionCount: 1,
  state: "verified" as const,
  nextAttemptAt: 0,
  createdAt: 0,
  updatedAt: 0,
};
const SCENARIO_MEMBER = {
  batchId: SCENARIO_BATCH.id,
  ordinal: 0,
  sessionId: SCENARIO_SESSION.id,
  sessionSeed: "0x",
  sessionRoot: "0x",
  relayCount: 60,
  computeUnits: 60,
};
