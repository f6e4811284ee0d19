/**
 * Governance rules (docs/governance.md), as plain functions anyone can rerun: proposal kinds and
 * their payloads, the content hash, the lifecycle as a function of time, and the tallies of the
 * four voting modes. All power and votes are integer minor units (bigint).
 */
import { isAddress, keccak256, toBytes } from "viem";
import { parameterChangeRefusal } from "./governance-parameters.js";

export const PROPOSAL_KINDS = ["parameter_change", "treasury_spend", "revenue_distribution", "council_election", "text"] as const;
export type ProposalKind = (typeof PROPOSAL_KINDS)[number];

export const VOTING_MODES = ["token", "quadratic", "one_person_one_vote", "delegated"] as const;
export type VotingMode = (typeof VOTING_MODES)[number];

/** The voting mode of each proposal kind. */
export type VotingModes = Record<ProposalKind, VotingMode>;

/** One kind per mode, so a walkthrough shows all four; any mapping can be configured. */
export const DEFAULT_VOTING_MODES: VotingModes = {
  parameter_change: "token",
  treasury_spend: "delegated",
  revenue_distribution: "quadratic",
  council_election: "one_person_one_vote",
  text: "quadratic",
};

/** Kinds that move value or change the rules need the supermajority; the others a simple majority. */
export const needsSupermajority = (kind: ProposalKind) => kind === "parameter_change" || kind === "treasury_spend";

export function parseVotingModes(raw: string, name: string): VotingModes {
  const modes = { ...DEFAULT_VOTING_MODES };
  for (const pair of raw.split(",")) {
    const [kind, mode] = pair.split("=").map((s) => s.trim());
    if (!(PROPOSAL_KINDS as readonly string[]).includes(kind) || !(VOTING_MODES as readonly string[]).includes(mode))
      throw new Error(
        `${name} must be kind=mode pairs (kinds: ${PROPOSAL_KINDS.join(", ")}; modes: ${VOTING_MODES.join(", ")}), got "${pair}"`,
      );
    modes[kind as ProposalKind] = mode as VotingMode;
  }
  return modes;
}

/** Council members: distinct addresses, lower case. */
export function parseCouncil(raw: string, name: string): string[] {
  const list = raw
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const a of list) if (!isAddress(a, { strict: false })) throw new Error(`${name}: "${a}" is not an address`);
  if (new Set(list).size !== list.length) throw new Error(`${name} names a member twice`);
  return list;
}

export const MAX_COUNCIL = 21;
export const REVENUE_RULES = ["stake", "activity", "hybrid"] as const;

export type ProposalPayload =
  | { kind: "parameter_change"; name: string; value: bigint }
  | { kind: "treasury_spend"; recipient: string; amount: bigint }
  | { kind: "revenue_distribution"; rule: (typeof REVENUE_RULES)[number]; amount: bigint }
  | { kind: "council_election"; members: string[]; signatures: number }
  | { kind: "text" };

const AMOUNT = /^[1-9]\d{0,15}$/;
/** A ledger holder: an address or a requestor id (as the API's `holder` field). */
const HOLDER = /^(0x[0-9a-f]{40}|req_[0-9a-f]{20})$/;

/**
 * Reads and checks a proposal's payload (the JSON text the proposer signed). Throws an Error
 * whose message says what is wrong.
 */
export function parseProposalPayload(kind: ProposalKind, raw: string): ProposalPayload {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(raw);
  } catch {
    throw new Error("payload is not JSON");
  }
  if (!p || typeof p !== "object" || Array.isArray(p)) throw new Error("payload must be a JSON object");
  const keys = (...allowed: string[]) => {
    const extra = Object.keys(p).filter((k) => !allowed.includes(k));
    if (extra.length)
      throw new Error(`payload of ${kind} takes only ${allowed.join(", ") || "nothing"}; got ${extra.join(", ")}`);
  };
  const amountOf = (field: string) => {
    const v = p[field];
    if (typeof v !== "string" || !AMOUNT.test(v) || BigInt(v) > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Error(`payload.${field} must be a positive amount in minor units, as a decimal string`);
    return BigInt(v);
  };
  switch (kind) {
    case "parameter_change": {
      keys("name", "value");
      if (typeof p.name !== "string") throw new Error("payload.name must name a governed parameter");
      if (typeof p.value !== "string" || !/^\d{1,16}$/.test(p.value)) throw new Error("payload.value must be a decimal string");
      const value = BigInt(p.value);
      const refused = parameterChangeRefusal(p.name, value);
      if (refused) throw new Error(refused);
      return { kind, name: p.name, value };
    }
    case "treasury_spend": {
      keys("recipient", "amount");
      const recipient = typeof p.recipient === "string" && p.recipient.startsWith("0x") ? p.recipient.toLowerCase() : p.recipient;
      if (typeof recipient !== "string" || !HOLDER.test(recipient))
        throw new Error("payload.recipient must be a holder (a 20-byte hex address or a requestor id)");
      return { kind, recipient, amount: amountOf("amount") };
    }
    case "revenue_distribution": {
      keys("rule", "amount");
      if (!(REVENUE_RULES as readonly unknown[]).includes(p.rule))
        throw new Error('payload.rule must be "stake", "activity" or "hybrid"');
      return { kind, rule: p.rule as (typeof REVENUE_RULES)[number], amount: amountOf("amount") };
    }
    case "council_election": {
      keys("members", "signatures");
      if (!Array.isArray(p.members) || p.members.length < 1 || p.members.length > MAX_COUNCIL)
        throw new Error(`payload.members must list 1 to ${MAX_COUNCIL} addresses`);
      if (!p.members.every((m) => typeof m === "string")) throw new Error("payload.members must be addresses");
      const members = parseCouncil((p.members as string[]).join(","), "payload.members");
      if (members.length !== p.members.length) throw new Error("payload.members must be addresses");
      const m = p.signatures;
      if (typeof m !== "number" || !Number.isInteger(m) || m < 1 || m > members.length)
        throw new Error(`payload.signatures must be an integer from 1 to ${members.length}`);
      return { kind, members, signatures: m };
    }
    case "text":
      keys();
      return { kind };
  }
}

/** JSON with sorted keys, so the same content always hashes the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/** The proposal's content hash: keccak256 of the canonical JSON of what the proposer signed (kind, title, description, payload, citations). */
export function proposalContentHash(c: {
  kind: ProposalKind;
  title: string;
  description: string;
  payload: string;
  citations: readonly string[];
}): `0x${string}` {
  return keccak256(
    toBytes(
      canonical({
        kind: c.kind,
        title: c.title,
        description: c.description,
        payload: JSON.parse(c.payload),
        citations: c.citations,
      }),
    ),
  );
}

/** Lifecycle states. `awaiting_voting`: review is over and the snapshot has not been taken yet (anyone may open voting). */
export type ProposalState =
  | "review"
  | "awaiting_voting"
  | "voting"
  | "succeeded"
  | "defeated"
  | "queued"
  | "executed"
  | "expired"
  | "cancelled"
  | "rejected";

/** What is stored of a proposal's timeline (unix ms); null until it happens. */
export interface ProposalTimeline {
  reviewEnds: number;
  votingStarts: number | null;
  votingEnds: number | null;
  /** Set when voting closed and the result was recorded; otherwise computed from the tally. */
  outcome: "succeeded" | "defeated" | null;
  eta: number | null;
  expiresAt: number | null;
  executedAt: number | null;
  cancelledAt: number | null;
  rejectedAt: number | null;
}

/**
 * The state at `now`. Each deadline is inclusive: at `reviewEnds` the proposal is still in review,
 * at `votingEnds` voting is still open, at `expiresAt` it may still execute; one moment later it
 * is not. `closedOutcome` is the tally's result once voting has closed (when not yet stored).
 */
export function proposalState(p: ProposalTimeline, now: number, closedOutcome?: "succeeded" | "defeated"): ProposalState {
  if (p.cancelledAt !== null) return "cancelled";
  if (p.rejectedAt !== null) return "rejected";
  if (p.executedAt !== null) return "executed";
  if (p.votingStarts === null || p.votingEnds === null) return now <= p.reviewEnds ? "review" : "awaiting_voting";
  if (now <= p.votingEnds) return "voting";
  if (p.eta === null || p.expiresAt === null) return p.outcome ?? closedOutcome ?? "defeated";
  return now <= p.expiresAt ? "queued" : "expired";
}

/** A queued proposal may execute from its eta to its expiry, both included. */
export const executable = (p: ProposalTimeline, now: number) =>
  proposalState(p, now) === "queued" && p.eta !== null && now >= p.eta;

/** 0 against, 1 for, 2 abstain (OZ Governor's order). */
export type Support = 0 | 1 | 2;

/** A holder's entry in a proposal's snapshot, taken when voting opened. */
export interface PowerEntry {
  holder: string;
  /** Liquid balance plus bonded stake at the snapshot. */
  power: bigint;
  /** Bonded stake alone (membership in one-person-one-vote). */
  bonded: bigint;
  /** Whom the holder had delegated to at the snapshot (delegated mode), or null. */
  delegate: string | null;
}

export interface Ballot {
  voter: string;
  support: Support;
  /** Quadratic mode: the number of votes (costing votes^2 voice credits); 0 in the other modes. */
  votes: bigint;
}

export interface TallyRules {
  mode: VotingMode;
  memberMinStake: bigint;
}

export interface Tally {
  for: bigint;
  against: bigint;
  abstain: bigint;
  /** What counts towards the quorum: power cast (quadratic: voice credits spent; one-person-one-vote: members voting). */
  participation: bigint;
  /** The quorum's base: total snapshot power (quadratic: total voice credits; one-person-one-vote: members). */
  eligible: bigint;
}

export type BallotRefusal = "no_voting_power" | "already_voted" | "not_a_member" | "votes_over_credits" | "invalid_votes";

const isMember = (e: PowerEntry | undefined, rules: TallyRules) => !!e && e.bonded >= rules.memberMinStake && e.bonded > 0n;

/** Power delegated to `voter` by holders who have not voted themselves. */
function delegatedTo(voter: string, snapshot: ReadonlyMap<string, PowerEntry>, voted: ReadonlySet<string>): bigint {
  let sum = 0n;
  for (const e of snapshot.values()) if (e.delegate === voter && e.holder !== voter && !voted.has(e.holder)) sum += e.power;
  return sum;
}

/**
 * Why `ballot` cannot be counted, given the snapshot and who has voted already; null when it can.
 * Signatures and the voting window are the caller's to check (`governance-ballots.ts`).
 */
export function ballotRefusal(
  ballot: Ballot,
  snapshot: ReadonlyMap<string, PowerEntry>,
  voted: ReadonlySet<string>,
  rules: TallyRules,
): BallotRefusal | null {
  if (voted.has(ballot.voter)) return "already_voted";
  const own = snapshot.get(ballot.voter);
  if (rules.mode === "quadratic") {
    if (ballot.votes <= 0n) return "invalid_votes";
  } else if (ballot.votes !== 0n) return "invalid_votes";
  switch (rules.mode) {
    case "one_person_one_vote":
      return isMember(own, rules) ? null : "not_a_member";
    case "quadratic":
      if (!own || own.power <= 0n) return "no_voting_power";
      return ballot.votes * ballot.votes > own.power ? "votes_over_credits" : null;
    case "delegated":
      return (own?.power ?? 0n) + delegatedTo(ballot.voter, snapshot, voted) > 0n ? null : "no_voting_power";
    case "token":
      return own && own.power > 0n ? null : "no_voting_power";
  }
}

/**
 * The tally of counted ballots (each one already admitted by `ballotRefusal`, at most one per
 * voter). Delegated mode: a voter carries its own power plus that of every holder that delegated
 * to it and did not vote itself (a direct vote overrides the delegation; delegation is one hop).
 */
export function tally(ballots: readonly Ballot[], snapshot: readonly PowerEntry[], rules: TallyRules): Tally {
  const byHolder = new Map(snapshot.map((e) => [e.holder, e]));
  const t: Tally = { for: 0n, against: 0n, abstain: 0n, participation: 0n, eligible: 0n };
  const voted = new Set(ballots.map((b) => b.voter));
  if (rules.mode === "one_person_one_vote") t.eligible = BigInt(snapshot.filter((e) => isMember(e, rules)).length);
  else for (const e of snapshot) t.eligible += e.power;
  for (const b of ballots) {
    const own = byHolder.get(b.voter)?.power ?? 0n;
    let weight: bigint;
    let used: bigint;
    switch (rules.mode) {
      case "token":
        weight = own;
        used = own;
        break;
      case "quadratic":
        weight = b.votes;
        used = b.votes * b.votes;
        break;
      case "one_person_one_vote":
        weight = 1n;
        used = 1n;
        break;
      case "delegated":
        weight = own + delegatedTo(b.voter, byHolder, voted);
        used = weight;
        break;
    }
    if (b.support === 1) t.for += weight;
    else if (b.support === 0) t.against += weight;
    else t.abstain += weight;
    t.participation += used;
  }
  return t;
}

export interface OutcomeRules {
  quorumBps: bigint;
  supermajority: boolean;
  supermajorityBps: bigint;
}

/**
 * Succeeded when participation (abstain included) reaches the quorum and, of for+against, for
 * has a simple majority (more than half) or, for supermajority kinds, at least `supermajorityBps`.
 */
export function outcomeOf(t: Tally, rules: OutcomeRules): { quorumReached: boolean; passed: boolean } {
  const quorumReached = t.participation > 0n && t.participation * 10_000n >= rules.quorumBps * t.eligible;
  const decided = t.for + t.against;
  const majority = rules.supermajority ? t.for > 0n && t.for * 10_000n >= rules.supermajorityBps * decided : t.for > t.against;
  return { quorumReached, passed: quorumReached && majority };
}
