/**
 * REP rules (docs/rep.md): the reputation asset, the batch-producer draw and the validation pool,
 * all pure and in integer arithmetic so anyone can recompute them from the public reads.
 *
 * REP is its own asset in its own double-entry book (same rules as protocol/ledger.ts):
 *
 *   rep_system:issuance   minus everything ever minted (the only account that may go negative)
 *   rep_liquid:<holder>   REP a holder may encumber or stake on a vote
 *   rep_stake:<holder>    REP encumbered in the holder's availability stake: its draw weight
 *   rep_pool:<pool>       vote stakes escrowed in a validation pool until it resolves
 *
 * REP never moves from one holder to another except by a pool's resolution, and is minted only
 * by a pool (a batch's pool or the genesis pool).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Hex } from "./hex.js";
import { type AccountTotals, accountDeltas, availableOf, balanceOf, type Transfer, ZERO_TOTALS } from "./ledger.js";

export const REP_ISSUANCE_ACCOUNT = "rep_system:issuance";
export const repLiquidAccount = (holder: string) => `rep_liquid:${holder}`;
export const repStakeAccount = (holder: string) => `rep_stake:${holder}`;
export const repPoolAccount = (pool: string) => `rep_pool:${pool}`;

/** The genesis pool's id: the one pool that is not a batch's. */
export const GENESIS_POOL = "genesis";

export type RepAccountKind = "system" | "liquid" | "stake" | "pool";

export interface RepAccountSpec {
  id: string;
  kind: RepAccountKind;
  owner: string | null;
  mayGoNegative: boolean;
}

/** What a REP account id is: its kind, owner, and whether it may go below zero (only issuance). */
export function repAccountSpec(id: string): RepAccountSpec {
  const colon = id.indexOf(":");
  const prefix = id.slice(0, colon);
  const kinds: Record<string, RepAccountKind> = {
    rep_system: "system",
    rep_liquid: "liquid",
    rep_stake: "stake",
    rep_pool: "pool",
  };
  const kind = kinds[prefix];
  if (colon < 1 || !kind) throw new Error(`not a REP account id: "${id}"`);
  if (kind === "system" && id !== REP_ISSUANCE_ACCOUNT) throw new Error(`not a REP account id: "${id}"`);
  const owner = kind === "liquid" || kind === "stake" ? id.slice(colon + 1) : null;
  return { id, kind, owner, mayGoNegative: id === REP_ISSUANCE_ACCOUNT };
}

/** Why REP moves; the database refuses any other code (schema/migrations/0011_rep.sql). */
export type RepCode = "pool_mint" | "encumber" | "release" | "vote_stake" | "vote_return" | "vote_forfeit" | "producer_forfeit";

/**
 * The REP book's rules, checked like the DB-CPTM ledger's: posted and pending debits equal
 * credits, supply = minted (REP is never burned), no account but issuance below zero, every
 * account's totals equal the sum of its transfers, and no transfer from one holder's liquid REP to
 * another's (non-transferable). Returns what is broken (empty when all hold).
 */
export function repLedgerViolations(
  accounts: readonly ({ id: string } & AccountTotals)[],
  recomputed: Map<string, AccountTotals>,
  transfers: readonly Pick<Transfer, "id" | "debitAccount" | "creditAccount" | "code">[] = [],
): string[] {
  const broken: string[] = [];
  let debits = 0n;
  let credits = 0n;
  let debitsPending = 0n;
  let creditsPending = 0n;
  let supply = 0n;
  let minted = 0n;
  for (const a of accounts) {
    debits += a.debitsPosted;
    credits += a.creditsPosted;
    debitsPending += a.debitsPending;
    creditsPending += a.creditsPending;
    if (a.id === REP_ISSUANCE_ACCOUNT) minted = a.debitsPosted - a.creditsPosted;
    else {
      supply += balanceOf(a);
      if (availableOf(a) < 0n) broken.push(`${a.id} is below zero (${availableOf(a)})`);
    }
    if (a.debitsPending < 0n || a.creditsPending < 0n) broken.push(`${a.id} has negative pending totals`);
    const r = recomputed.get(a.id) ?? ZERO_TOTALS;
    if (
      r.debitsPosted !== a.debitsPosted ||
      r.creditsPosted !== a.creditsPosted ||
      r.debitsPending !== a.debitsPending ||
      r.creditsPending !== a.creditsPending
    )
      broken.push(`${a.id} totals differ from its transfers`);
  }
  if (debits !== credits) broken.push(`REP posted debits ${debits} != credits ${credits}`);
  if (debitsPending !== creditsPending) broken.push(`REP pending debits ${debitsPending} != credits ${creditsPending}`);
  if (supply !== minted) broken.push(`REP supply ${supply} != minted ${minted}`);
  for (const t of transfers) {
    if (t.debitAccount.startsWith("rep_liquid:") && t.creditAccount.startsWith("rep_liquid:"))
      broken.push(`REP transfer ${t.id} moved REP between holders`);
    if ((t.debitAccount === REP_ISSUANCE_ACCOUNT) !== (t.code === "pool_mint"))
      broken.push(`REP transfer ${t.id} minted outside a pool`);
  }
  return broken;
}

// --- The batch-producer draw -------------------------------------------------------------------

/** A holder's draw weight: its encumbered REP (available, i.e. not being released). */
export interface Candidate {
  holder: string;
  weight: bigint;
}

/** The draw's public seed for a batch: keccak256("conductor-relay/rep-draw/" + batch id). */
export function drawSeed(batchId: string): Hex {
  return `0x${bytesToHex(keccak_256(utf8ToBytes(`conductor-relay/rep-draw/${batchId}`)))}`;
}

/**
 * Draws a producer weighted by encumbered REP: candidates in holder order, `r = seed mod total`,
 * the first holder whose running total exceeds `r`. Null when nobody has encumbered REP.
 */
export function drawProducer(seed: Hex, candidates: readonly Candidate[]): string | null {
  const list = candidates.filter((c) => c.weight > 0n).sort((a, b) => (a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0));
  const total = list.reduce((n, c) => n + c.weight, 0n);
  if (total === 0n) return null;
  const r = BigInt(seed) % total;
  let running = 0n;
  for (const c of list) {
    running += c.weight;
    if (r < running) return c.holder;
  }
  throw new Error("unreachable: r < total");
}

/**
 * The draw's weights recomputed from the public REP transfers: every holder's available
 * encumbered REP after the transfers with `seq <= ledgerSeq`, sorted by holder.
 */
export function encumberedWeightsAt(transfers: readonly (Transfer & { seq: number })[], ledgerSeq: number): Candidate[] {
  const deltas = accountDeltas(transfers.filter((t) => t.seq <= ledgerSeq));
  const out: Candidate[] = [];
  for (const [id, totals] of deltas) {
    if (!id.startsWith("rep_stake:")) continue;
    const weight = availableOf(totals);
    if (weight > 0n) out.push({ holder: id.slice("rep_stake:".length), weight });
  }
  return out.sort((a, b) => (a.holder < b.holder ? -1 : 1));
}

// --- Validation pools --------------------------------------------------------------------------

/**
 * Splits `amount` by weight, rounding down; the remainder goes to the largest weight (ties: the
 * lowest id), so the parts add up to `amount` exactly. Zero-weight entries get nothing.
 */
export function proRata(amount: bigint, weights: readonly { id: string; weight: bigint }[]): Map<string, bigint> {
  const list = weights.filter((w) => w.weight > 0n).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out = new Map<string, bigint>();
  const total = list.reduce((n, w) => n + w.weight, 0n);
  if (total === 0n || amount === 0n) return out;
  let given = 0n;
  for (const w of list) {
    const part = (amount * w.weight) / total;
    out.set(w.id, (out.get(w.id) ?? 0n) + part);
    given += part;
  }
  let top = list[0];
  for (const w of list) if (w.weight > top.weight) top = w;
  out.set(top.id, (out.get(top.id) ?? 0n) + amount - given);
  return out;
}

export interface PoolVote {
  voter: string;
  accept: boolean;
  stake: bigint;
}

export type PoolState = "open" | "accepted" | "rejected" | "tied" | "no_quorum" | "no_producer" | "genesis";

/** What a closed pool decides from its votes (docs/rep.md "Validation pools"). */
export function poolDecision(votes: readonly PoolVote[], quorum: bigint): Exclude<PoolState, "open" | "no_producer" | "genesis"> {
  const accept = votes.filter((v) => v.accept).reduce((n, v) => n + v.stake, 0n);
  const reject = votes.filter((v) => !v.accept).reduce((n, v) => n + v.stake, 0n);
  if (votes.length === 0 || accept + reject < quorum) return "no_quorum";
  if (accept === reject) return "tied";
  return accept > reject ? "accepted" : "rejected";
}

/** REP a pool mints when it accepts a batch: `fees x mintBps / 10,000` (fees in DB-CPTM minor units). */
export const repMinted = (fees: bigint, mintBps: bigint) => (fees * mintBps) / 10_000n;

/** The quorum of a pool: `supply x quorumBps / 10,000` of staked votes, at least 1. */
export const poolQuorum = (supply: bigint, quorumBps: bigint) => {
  const q = (supply * quorumBps) / 10_000n;
  return q > 0n ? q : 1n;
};

export interface RepMove {
  from: string;
  to: string;
  amount: bigint;
  code: RepCode;
  /** Unique within the pool's resolution: becomes the transfer id's tail. */
  key: string;
}

export interface PoolResolution {
  state: Exclude<PoolState, "open" | "no_producer" | "genesis">;
  moves: RepMove[];
  minted: bigint;
  /** The producer's encumbered REP that went to the majority (rejected pools). */
  forfeited: bigint;
}

/**
 * How a closed pool resolves, as REP movements:
 *
 * - no quorum (no votes, or less staked than the quorum) and tie: every vote stake returns;
 *   nothing is minted or forfeited; the batch settles.
 * - accepted: `repMinted(fees)` is minted and shared by the producer (weight: its encumbered REP at
 *   the draw) and the accepting voters (their stakes), pro rata; the rejecting voters' stakes go
 *   to the accepting voters pro rata; accepting stakes return.
 * - rejected: the producer's encumbered REP (what is available now) and the accepting voters'
 *   stakes go to the rejecting voters pro rata; rejecting stakes return; the batch is not settled.
 */
export function resolvePool(p: {
  pool: string;
  producer: string;
  producerStake: bigint;
  producerEncumbered: bigint;
  fees: bigint;
  mintBps: bigint;
  quorum: bigint;
  votes: readonly PoolVote[];
}): PoolResolution {
  const state = poolDecision(p.votes, p.quorum);
  const escrow = repPoolAccount(p.pool);
  const moves: RepMove[] = [];
  const ret = (v: PoolVote) =>
    moves.push({ from: escrow, to: repLiquidAccount(v.voter), amount: v.stake, code: "vote_return", key: `return/${v.voter}` });
  if (state === "no_quorum" || state === "tied") {
    for (const v of p.votes) ret(v);
    return { state, moves, minted: 0n, forfeited: 0n };
  }
  const won = state === "accepted";
  const winners = p.votes.filter((v) => v.accept === won);
  const losers = p.votes.filter((v) => v.accept !== won);
  const winnerWeights = winners.map((v) => ({ id: v.voter, weight: v.stake }));
  for (const v of winners) ret(v);
  const lost = losers.reduce((n, v) => n + v.stake, 0n);
  for (const [voter, amount] of proRata(lost, winnerWeights))
    if (amount > 0n)
      moves.push({ from: escrow, to: repLiquidAccount(voter), amount, code: "vote_forfeit", key: `forfeit/${voter}` });
  let minted = 0n;
  let forfeited = 0n;
  if (won) {
    minted = repMinted(p.fees, p.mintBps);
    const sharers = [{ id: p.producer, weight: p.producerStake }, ...winnerWeights];
    for (const [holder, amount] of proRata(minted, sharers))
      if (amount > 0n)
        moves.push({
          from: REP_ISSUANCE_ACCOUNT,
          to: repLiquidAccount(holder),
          amount,
          code: "pool_mint",
          key: `mint/${holder}`,
        });
  } else {
    forfeited = p.producerEncumbered;
    for (const [voter, amount] of proRata(forfeited, winnerWeights))
      if (amount > 0n)
        moves.push({
          from: repStakeAccount(p.producer),
          to: repLiquidAccount(voter),
          amount,
          code: "producer_forfeit",
          key: `producer/${voter}`,
        });
  }
  return { state, moves, minted, forfeited };
}

/**
 * The batch producer's DB-CPTM share of a settled batch's revenue, taken from the treasury's
 * part: `revenue x producerBps / 10,000`, at most the treasury's part (DESIGN 6b).
 */
export function producerShare(revenue: bigint, treasuryPart: bigint, producerBps: bigint): bigint {
  const share = (revenue * producerBps) / 10_000n;
  return share < treasuryPart ? share : treasuryPart;
}
