/**
 * Proposals through their lifecycle (docs/governance.md): submit (threshold, payload, citations)
 * -> review (the council may reject; the proposer may cancel) -> voting (the snapshot is taken as
 * voting opens) -> succeeded / defeated -> queued (timelock) -> executed by anyone within the
 * grace period, or expired. Every step is one operation with an id (workers/economy/operation.ts):
 * a retry answers "already done", and a step that lost a race to another changes nothing.
 * Signatures are checked by the routes; these functions take the signer they proved.
 */
import { keccak256, toBytes } from "viem";
import {
  type Ballot,
  ballotRefusal,
  executable,
  needsSupermajority,
  outcomeOf,
  type PowerEntry,
  type ProposalKind,
  type ProposalPayload,
  type ProposalState,
  parseProposalPayload,
  proposalContentHash,
  proposalState,
  type Support,
  type Tally,
  type TallyRules,
  tally,
  type VotingMode,
} from "../../protocol/governance.js";
import { changeConflict, governedBigint } from "../../protocol/governance-parameters.js";
import { balanceAccount, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { sessionEpoch } from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import {
  allDelegations,
  approvalsOf,
  currentCouncil,
  currentVotingPower,
  getProposal,
  getProposals,
  governanceActivity,
  insertApproval,
  insertCouncil,
  insertParameterChange,
  insertProposal,
  insertVote,
  lastRevenueDistributionAt,
  listParameterChanges,
  type ProposalRow,
  proposalsInFlight,
  snapshotOf,
  snapshotStatements,
  timelineOf,
  transitionProposal,
  votesOf,
} from "../db/governance.js";
import { getOperation, ledgerStatements, type Statement, single } from "../db/ledger.js";
import { constraintViolationOf } from "../db/storage-errors.js";
import { type OperationOutcome, type OperationRequest, runOperation } from "../economy/operation.js";
import { distributeRevenue } from "../economy/revenue-sharing.js";
import { apiError } from "../errors.js";
import { forgetGovernedCache } from "./parameters.js";

/** A proposal's id: derived from the proposer's operation id, so a retried submission names the same proposal. */
export const proposalIdOf = (operation: string) => `prop_${keccak256(toBytes(operation)).slice(2, 18)}`;

/** Runs a governance step as an operation; a transition that lost a race is `proposal_changed`. */
async function step<T>(
  db: Database,
  op: OperationRequest,
  now: number,
  build: () => Promise<{ statements: Statement[]; result: T }>,
): Promise<OperationOutcome<T>> {
  try {
    return await runOperation(db, op, now, build);
  } catch (error) {
    const v = constraintViolationOf(error);
    if (v?.kind === "check" && v.detail === "stale_proposal")
      throw apiError(
        "proposal_changed",
        "Another step of this proposal landed while this one ran; nothing was changed. Read it again",
      );
    if (v?.kind === "unique" && v.detail.startsWith("governance_votes."))
      throw apiError("already_voted", "This holder has already voted on this proposal");
    throw error;
  }
}

async function mustGet(db: Database, id: string): Promise<ProposalRow> {
  const p = await getProposal(db, id);
  if (!p) throw apiError("unknown_proposal", `No proposal "${id}"`);
  return p;
}

const rulesOf = (p: ProposalRow): TallyRules => ({ mode: p.mode as VotingMode, memberMinStake: BigInt(p.memberMinStake ?? 0) });

/** The tally of a proposal whose voting has opened, from its snapshot and votes. */
export async function proposalTally(
  db: Database,
  p: ProposalRow,
): Promise<{ tally: Tally; quorumReached: boolean; passed: boolean }> {
  const [snapshot, votes] = await Promise.all([snapshotOf(db, p.id), votesOf(db, p.id)]);
  const ballots: Ballot[] = votes.map((v) => ({ voter: v.voter, support: v.support as Support, votes: BigInt(v.votes) }));
  const t = tally(ballots, snapshot, rulesOf(p));
  const o = outcomeOf(t, {
    quorumBps: BigInt(p.quorumBps ?? 0),
    supermajority: needsSupermajority(p.kind as ProposalKind),
    supermajorityBps: BigInt(p.supermajorityBps ?? 0),
  });
  return { tally: t, ...o };
}

/** The state of a stored proposal at `now` (following the clock past its stored state). */
export async function stateAt(db: Database, p: ProposalRow, now: number): Promise<ProposalState> {
  const timeline = timelineOf(p);
  if (p.votingEnds !== null && now > p.votingEnds && p.outcome === null) {
    const { passed } = await proposalTally(db, p);
    return proposalState(timeline, now, passed ? "succeeded" : "defeated");
  }
  return proposalState(timeline, now);
}

/**
 * Refuses a parameter change that would cross an ordered pair of governed parameters
 * (`marketMinPrice <= marketMaxPrice`) once every executed change, pending ones included, and
 * this one hold. Run when the change is proposed and again when it executes: two proposals
 * each fine alone (a minimum raised, a maximum lowered) cannot both take effect.
 */
async function refuseCrossedBounds(db: Database, config: GatewayConfig, change: { name: string; value: bigint }) {
  const conflict = changeConflict(config, await listParameterChanges(db), change);
  if (conflict) throw apiError("parameter_bounds_conflict", `Setting ${change.name} to ${change.value}: ${conflict}`);
}

function refuseState(state: ProposalState, wanted: string): never {
  throw apiError("proposal_state", `The proposal is ${state}; ${wanted}`);
}

export interface ProposeRequest {
  /** `<proposer>/<caller's id>`. */
  operation: string;
  proposer: string;
  kind: ProposalKind;
  title: string;
  description: string;
  payload: string;
  citations: string[];
}

/** Submits a proposal: the proposer needs the threshold of voting power now; citations must be earlier proposals. */
export async function propose(db: Database, config: GatewayConfig, r: ProposeRequest, now: number) {
  let payload: ProposalPayload;
  try {
    payload = parseProposalPayload(r.kind, r.payload);
  } catch (error) {
    throw apiError("invalid_payload", `Payload of a ${r.kind}: ${(error as Error).message}`);
  }
  const id = proposalIdOf(r.operation);
  const citations = [...r.citations];
  if (new Set(citations).size !== citations.length)
    throw apiError("citation_not_older", "A proposal cites each earlier proposal once");
  if (citations.includes(id)) throw apiError("citation_not_older", "A proposal cannot cite itself");
  return step(db, { id: r.operation, kind: "governance_propose", request: { ...r } }, now, async () => {
    if (payload.kind === "parameter_change") await refuseCrossedBounds(db, config, payload);
    const power = (await currentVotingPower(db, r.proposer)).get(r.proposer)?.power ?? 0n;
    if (power < config.proposalThreshold)
      throw apiError(
        "below_proposal_threshold",
        `Voting power ${power} is below the proposal threshold ${config.proposalThreshold} (liquid balance plus bonded stake)`,
      );
    const cited = await getProposals(db, citations);
    const known = new Set(cited.map((c) => c.id));
    const unknown = citations.filter((c) => !known.has(c));
    if (unknown.length) throw apiError("unknown_citation", `No earlier proposal ${unknown.map((u) => `"${u}"`).join(", ")}`);
    const newer = cited.filter((c) => c.createdAt > now);
    if (newer.length) throw apiError("citation_not_older", `Proposal ${newer[0].id} is newer than this one`);
    const contentHash = proposalContentHash({ ...r, citations: [...citations].sort() });
    const mode = config.votingModes[r.kind];
    const row = {
      id,
      proposer: r.proposer,
      kind: r.kind,
      mode,
      title: r.title,
      description: r.description,
      payload: r.payload,
      contentHash,
      state: "review",
      createdAt: now,
      reviewEnds: now + config.reviewSeconds * 1000,
    };
    return { statements: insertProposal(db, row, citations), result: { proposal: id, contentHash, mode, payload } };
  });
}

/** The proposer cancels, while the proposal is in review. */
export async function cancelProposal(db: Database, r: { proposal: string; by: string }, now: number) {
  const p = await mustGet(db, r.proposal);
  if (p.proposer !== r.by) throw apiError("not_proposer", "Only the proposer may cancel this proposal");
  return step(db, { id: `gov/cancel/${p.id}`, kind: "governance_cancel", request: { proposal: p.id } }, now, async () => {
    const state = proposalState(timelineOf(p), now);
    if (state !== "review") refuseState(state, "only a proposal in review can be cancelled");
    return { statements: [transitionProposal(db, p, { state: "cancelled", cancelledAt: now })], result: { state: "cancelled" } };
  });
}

async function mustBeCouncil(db: Database, config: GatewayConfig, member: string) {
  const council = await currentCouncil(db, { members: config.council, signatures: config.councilSignatures });
  if (!council.members.includes(member)) throw apiError("not_council_member", "The signer is not on the council in office");
  return council;
}

/** A council member rejects a proposal in review for a rule breach, with a reason. */
export async function rejectProposal(
  db: Database,
  config: GatewayConfig,
  r: { proposal: string; member: string; reason: string },
  now: number,
) {
  const p = await mustGet(db, r.proposal);
  await mustBeCouncil(db, config, r.member);
  return step(db, { id: `gov/reject/${p.id}`, kind: "governance_reject", request: { ...r } }, now, async () => {
    const state = proposalState(timelineOf(p), now);
    if (state !== "review") refuseState(state, "only a proposal in review can be rejected");
    return {
      statements: [
        transitionProposal(db, p, { state: "rejected", rejectedAt: now, rejectedBy: r.member, rejectReason: r.reason }),
      ],
      result: { state: "rejected" },
    };
  });
}

/** Opens voting once review is over: takes the snapshot of every holder's power and delegation now. */
export async function openVoting(db: Database, config: GatewayConfig, proposal: string, now: number) {
  const p = await mustGet(db, proposal);
  return step(db, { id: `gov/open/${p.id}`, kind: "governance_open", request: { proposal: p.id } }, now, async () => {
    const state = proposalState(timelineOf(p), now);
    if (state !== "awaiting_voting") refuseState(state, "voting opens once review is over");
    const [powers, delegations] = await Promise.all([currentVotingPower(db), allDelegations(db)]);
    const entries: PowerEntry[] = [...powers]
      .filter(([, e]) => e.power > 0n)
      .map(([holder, e]) => ({ holder, power: e.power, bonded: e.bonded, delegate: delegations.get(holder) ?? null }));
    const votingEnds = now + config.votingSeconds * 1000;
    return {
      statements: [
        transitionProposal(db, p, {
          state: "voting",
          votingStarts: now,
          votingEnds,
          quorumBps: Number(config.quorumBps),
          supermajorityBps: Number(config.supermajorityBps),
          memberMinStake: Number(config.memberMinStake),
        }),
        ...snapshotStatements(db, p.id, entries),
      ],
      result: { state: "voting", votingStarts: now, votingEnds, holders: entries.length },
    };
  });
}

export interface VoteRequest {
  proposal: string;
  voter: string;
  support: Support;
  votes: bigint;
  signature: string;
}

/** Counts one signed vote while voting is open; one per holder per proposal. */
export async function castVote(db: Database, r: VoteRequest, now: number) {
  const p = await mustGet(db, r.proposal);
  const op = {
    id: `${r.voter}/vote/${p.id}`,
    kind: "governance_vote",
    request: { proposal: p.id, support: r.support, votes: r.votes },
  };
  const votes = await votesOf(db, p.id);
  const mine = votes.find((v) => v.voter === r.voter);
  if (mine) {
    if (mine.support === r.support && BigInt(mine.votes) === r.votes) return { alreadyDone: true as const, operation: op.id };
    throw apiError("already_voted", "This holder has already voted on this proposal (one vote per holder)");
  }
  return step(db, op, now, async () => {
    const state = proposalState(timelineOf(p), now);
    if (state !== "voting") refuseState(state, "votes are taken only while voting is open");
    const snapshot = new Map((await snapshotOf(db, p.id)).map((e) => [e.holder, e]));
    const voted = new Set(votes.map((v) => v.voter));
    const refusal = ballotRefusal({ voter: r.voter, support: r.support, votes: r.votes }, snapshot, voted, rulesOf(p));
    if (refusal) throw apiError(refusal, voteRefusalMessage(refusal, p.mode));
    return {
      statements: [
        insertVote(db, {
          proposalId: p.id,
          voter: r.voter,
          support: r.support,
          votes: Number(r.votes),
          signature: r.signature,
          castAt: now,
        }),
      ],
      result: { proposal: p.id, voter: r.voter, support: r.support, votes: r.votes, mode: p.mode },
    };
  });
}

function voteRefusalMessage(refusal: string, mode: string): string {
  switch (refusal) {
    case "no_voting_power":
      return "The voter had no voting power in this proposal's snapshot (taken when voting opened)";
    case "already_voted":
      return "This holder has already voted on this proposal";
    case "not_a_member":
      return "One person, one vote: the voter's bonded stake at the snapshot was below the member minimum";
    case "votes_over_credits":
      return "Quadratic: n votes cost n^2 voice credits, more than the voter's snapshot power";
    default:
      return mode === "quadratic" ? "Quadratic: votes must be at least 1" : `In ${mode} mode, votes must be 0`;
  }
}

/** Records the result once voting has closed and, if it succeeded, queues it behind the timelock. Anyone may call it. */
export async function queueProposal(db: Database, config: GatewayConfig, proposal: string, now: number) {
  const p = await mustGet(db, proposal);
  type Queued = { state: string; quorumReached: boolean; tally: Tally; eta?: number; expiresAt?: number };
  return step<Queued>(db, { id: `gov/queue/${p.id}`, kind: "governance_queue", request: { proposal: p.id } }, now, async () => {
    const state = await stateAt(db, p, now);
    if (state !== "succeeded" && state !== "defeated") refuseState(state, "a proposal is queued once voting has closed");
    const { tally: t, quorumReached, passed } = await proposalTally(db, p);
    const counts = {
      outcome: passed ? "succeeded" : "defeated",
      forVotes: Number(t.for),
      againstVotes: Number(t.against),
      abstainVotes: Number(t.abstain),
      participation: Number(t.participation),
      eligible: Number(t.eligible),
    };
    if (!passed) {
      return {
        statements: [transitionProposal(db, p, { ...counts, state: "defeated" })],
        result: { state: "defeated", quorumReached, tally: t },
      };
    }
    const eta = now + config.timelockSeconds * 1000;
    const expiresAt = eta + config.graceSeconds * 1000;
    return {
      statements: [transitionProposal(db, p, { ...counts, state: "queued", eta, expiresAt })],
      result: { state: "queued", quorumReached, tally: t, eta, expiresAt },
    };
  });
}

/** A council member approves a treasury spend (needed above the council threshold). */
export async function approveSpend(db: Database, config: GatewayConfig, r: { proposal: string; member: string }, now: number) {
  const p = await mustGet(db, r.proposal);
  await mustBeCouncil(db, config, r.member);
  if (p.kind !== "treasury_spend") throw apiError("proposal_state", "Only treasury spends take council approvals");
  return step(db, { id: `${r.member}/approve/${p.id}`, kind: "governance_approve", request: { ...r } }, now, async () => {
    const state = await stateAt(db, p, now);
    if (["cancelled", "rejected", "defeated", "executed", "expired"].includes(state))
      refuseState(state, "approvals are for live spends");
    return { statements: [insertApproval(db, p.id, r.member, now)], result: { proposal: p.id, member: r.member } };
  });
}

/** Executes a queued proposal from its eta to its expiry; anyone may call it. Nothing leaves the ledger. */
export async function executeProposal(db: Database, config: GatewayConfig, proposal: string, now: number) {
  const p = await mustGet(db, proposal);
  const id = `gov/execute/${p.id}`;
  if (p.kind === "revenue_distribution" && executable(timelineOf(p), now)) await distributeAdoptedRevenue(db, config, p, now);
  const outcome = await step(db, { id, kind: "governance_execute", request: { proposal: p.id } }, now, async () => {
    const state = proposalState(timelineOf(p), now);
    if (state !== "queued") refuseState(state, "only a queued proposal executes");
    if (!executable(timelineOf(p), now))
      refuseState(state, `it executes from ${new Date(p.eta ?? 0).toISOString()} (the timelock)`);
    const payload = parseProposalPayload(p.kind as ProposalKind, p.payload);
    const statements: Statement[] = [transitionProposal(db, p, { state: "executed", executedAt: now })];
    let effect: Record<string, unknown> = {};
    switch (payload.kind) {
      case "parameter_change": {
        await refuseCrossedBounds(db, config, payload);
        const effectiveEpoch = sessionEpoch(now, config.sessionSeconds) + 1;
        statements.push(
          insertParameterChange(db, {
            name: payload.name as never,
            value: payload.value,
            effectiveEpoch,
            proposalId: p.id,
            executedAt: now,
          }),
        );
        effect = { parameter: payload.name, value: payload.value, effectiveEpoch };
        break;
      }
      case "treasury_spend": {
        if (payload.amount > governedBigint(config.councilSpendThreshold)) {
          const council = await currentCouncil(db, { members: config.council, signatures: config.councilSignatures });
          const approvals = (await approvalsOf(db, p.id)).filter((m) => council.members.includes(m));
          if (council.signatures === 0 || approvals.length < council.signatures)
            throw apiError(
              "council_signatures_missing",
              `A spend above ${config.councilSpendThreshold} needs ${council.signatures || "M"} of the council's ${council.members.length} signatures; it has ${approvals.length}`,
            );
          effect = { approvals };
        }
        statements.push(
          ...ledgerStatements(
            db,
            [single(id, TREASURY_ACCOUNT, balanceAccount(payload.recipient), payload.amount, "treasury_spend", p.id)],
            now,
          ),
        );
        effect = { ...effect, transfer: id, recipient: payload.recipient, amount: payload.amount };
        break;
      }
      case "council_election":
        statements.push(
          insertCouncil(db, { members: payload.members, signatures: payload.signatures, proposalId: p.id, since: now }),
        );
        effect = { council: payload.members, signatures: payload.signatures };
        break;
      case "revenue_distribution":
        // The distribution ran just before (its own operation, `distributeAdoptedRevenue`): this step records it.
        effect = { rule: payload.rule, amount: payload.amount, distribution: revenueOperationOf(p.id) };
        break;
      case "text":
        break;
    }
    return { statements, result: { state: "executed", kind: p.kind, ...effect } };
  });
  if (p.kind === "parameter_change") forgetGovernedCache();
  return outcome;
}

const revenueOperationOf = (proposal: string) => `gov/execute/${proposal}/revenue`;

/**
 * An adopted revenue distribution: the treasury's `amount` split by the rule into time-locked
 * payouts (workers/economy/revenue-sharing.ts), activity counted since the previous distribution
 * executed. Its own operation, run once: a retried execution finds it done and only records it.
 */
async function distributeAdoptedRevenue(db: Database, config: GatewayConfig, p: ProposalRow, now: number) {
  const operationId = revenueOperationOf(p.id);
  if (await getOperation(db, operationId)) return;
  const payload = parseProposalPayload("revenue_distribution", p.payload);
  if (payload.kind !== "revenue_distribution") return;
  const from = ((await lastRevenueDistributionAt(db, now)) ?? -1) + 1;
  const activity = new Map((await governanceActivity(db, from, now)).map((a) => [a.holder, a]));
  await distributeRevenue(db, {
    operationId,
    rule: payload.rule,
    amount: payload.amount,
    now,
    activity,
    lockSeconds: config.revenueLockSeconds,
    hybridStakeBps: config.revenueHybridStakeBps,
  });
}

/** Stores `expired` for a queued proposal past its grace period. */
async function expireProposal(db: Database, p: ProposalRow, now: number) {
  return step(db, { id: `gov/expire/${p.id}`, kind: "governance_expire", request: { proposal: p.id } }, now, async () => {
    const state = proposalState(timelineOf(p), now);
    if (state !== "expired") refuseState(state, "only a proposal past its grace period expires");
    return { statements: [transitionProposal(db, p, { state: "expired" })], result: { state: "expired" } };
  });
}

/**
 * Makes the steps time has made due (open voting, record the result and queue, expire); never
 * executes. Returns the state it left the proposal in. Anyone may call it; cron calls it for
 * every proposal in flight.
 */
export async function advanceProposal(
  db: Database,
  config: GatewayConfig,
  proposal: string,
  now: number,
): Promise<ProposalState> {
  for (let i = 0; i < 3; i++) {
    const p = await mustGet(db, proposal);
    const state = await stateAt(db, p, now);
    if (state === "awaiting_voting") await openVoting(db, config, p.id, now);
    else if ((state === "succeeded" || state === "defeated") && p.state === "voting") await queueProposal(db, config, p.id, now);
    else if (state === "expired" && p.state !== "expired") await expireProposal(db, p, now);
    else return state;
  }
  return stateAt(db, await mustGet(db, proposal), now);
}

/** Cron: advances every proposal in flight. */
export async function advanceProposals(db: Database, config: GatewayConfig, now: number, limit = 100): Promise<number> {
  let moved = 0;
  for (const p of await proposalsInFlight(db, limit)) {
    const before = p.state;
    const after = await advanceProposal(db, config, p.id, now);
    if (after !== before) moved++;
  }
  return moved;
}
