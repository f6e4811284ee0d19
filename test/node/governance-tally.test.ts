/**
 * Governance rules as pure functions (protocol/governance*.ts): golden tallies for each of the
 * four voting modes, quorum and majority edges, lifecycle states at each deadline and one second
 * after, payload and parameter bounds, and as a property: adding invalid ballots (wrong signature,
 * no power, double vote, after close) to any set of valid ones changes no tally.
 */
import fc from "fast-check";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  type Ballot,
  ballotRefusal,
  outcomeOf,
  type PowerEntry,
  type ProposalTimeline,
  parseProposalPayload,
  parseVotingModes,
  proposalContentHash,
  proposalState,
  tally,
  type VotingMode,
} from "../../protocol/governance.js";
import { countSignedBallots, type SignedBallot, signGovernanceMessage } from "../../protocol/governance-messages.js";
import { changeConflict, governedValues, parameterChangeRefusal } from "../../protocol/governance-parameters.js";
import type { SigningDomain } from "../../protocol/host-registration.js";

/** The golden snapshot: A and C are members (bonded >= 5); B and C delegate to A, E to D. */
const SNAPSHOT: PowerEntry[] = [
  { holder: "a", power: 100n, bonded: 50n, delegate: null },
  { holder: "b", power: 25n, bonded: 0n, delegate: "a" },
  { holder: "c", power: 9n, bonded: 9n, delegate: "a" },
  { holder: "d", power: 1n, bonded: 1n, delegate: null },
  { holder: "e", power: 16n, bonded: 0n, delegate: "d" },
];
const MEMBER_MIN = 5n;
const b = (voter: string, support: 0 | 1 | 2, votes = 0n): Ballot => ({ voter, support, votes });

const GOLDEN: { mode: VotingMode; ballots: Ballot[]; expected: Record<string, bigint> }[] = [
  {
    mode: "token",
    ballots: [b("a", 1), b("c", 0), b("d", 2)],
    expected: { for: 100n, against: 9n, abstain: 1n, participation: 110n, eligible: 151n },
  },
  {
    // 10 votes cost 100 credits, 5 cost 25, 3 cost 9, 1 costs 1: votes count, credits make the quorum.
    mode: "quadratic",
    ballots: [b("a", 1, 10n), b("b", 0, 5n), b("c", 0, 3n), b("d", 2, 1n)],
    expected: { for: 10n, against: 8n, abstain: 1n, participation: 135n, eligible: 151n },
  },
  {
    mode: "one_person_one_vote",
    ballots: [b("a", 1), b("c", 0)],
    expected: { for: 1n, against: 1n, abstain: 0n, participation: 2n, eligible: 2n },
  },
  {
    // A carries B's delegation; C voted itself, overriding its delegation to A; D carries E's.
    mode: "delegated",
    ballots: [b("a", 1), b("c", 0), b("d", 2)],
    expected: { for: 125n, against: 9n, abstain: 17n, participation: 151n, eligible: 151n },
  },
];

describe("tallies (golden)", () => {
  it.each(GOLDEN)("$mode", ({ mode, ballots, expected }) => {
    const rules = { mode, memberMinStake: MEMBER_MIN };
    const byHolder = new Map(SNAPSHOT.map((e) => [e.holder, e]));
    const voted = new Set<string>();
    for (const ballot of ballots) {
      expect(ballotRefusal(ballot, byHolder, voted, rules)).toBeNull();
      voted.add(ballot.voter);
    }
    expect(tally(ballots, SNAPSHOT, rules)).toEqual(expected);
  });

  it("delegated: the delegate's vote carries what was delegated until the delegator votes itself", () => {
    const rules = { mode: "delegated" as const, memberMinStake: MEMBER_MIN };
    expect(tally([b("a", 1)], SNAPSHOT, rules).for).toBe(134n);
    expect(tally([b("a", 1), b("b", 0)], SNAPSHOT, rules)).toMatchObject({ for: 109n, against: 25n });
    // A delegate with no power of its own may vote with what was delegated to it.
    const snap = [
      { holder: "x", power: 0n, bonded: 0n, delegate: null },
      { holder: "y", power: 7n, bonded: 0n, delegate: "x" },
    ];
    const byHolder = new Map(snap.map((e) => [e.holder, e]));
    expect(ballotRefusal(b("x", 1), byHolder, new Set(), rules)).toBeNull();
    expect(ballotRefusal(b("x", 1), byHolder, new Set(["y"]), rules)).toBe("no_voting_power");
  });

  it("refuses what each mode does not count", () => {
    const byHolder = new Map(SNAPSHOT.map((e) => [e.holder, e]));
    const none = new Set<string>();
    const rules = (mode: VotingMode) => ({ mode, memberMinStake: MEMBER_MIN });
    expect(ballotRefusal(b("z", 1), byHolder, none, rules("token"))).toBe("no_voting_power");
    expect(ballotRefusal(b("a", 1), byHolder, new Set(["a"]), rules("token"))).toBe("already_voted");
    expect(ballotRefusal(b("a", 1, 1n), byHolder, none, rules("token"))).toBe("invalid_votes");
    expect(ballotRefusal(b("a", 1, 0n), byHolder, none, rules("quadratic"))).toBe("invalid_votes");
    expect(ballotRefusal(b("a", 1, 11n), byHolder, none, rules("quadratic"))).toBe("votes_over_credits");
    expect(ballotRefusal(b("b", 1, 5n), byHolder, none, rules("quadratic"))).toBeNull();
    expect(ballotRefusal(b("b", 1, 6n), byHolder, none, rules("quadratic"))).toBe("votes_over_credits");
    expect(ballotRefusal(b("d", 1), byHolder, none, rules("one_person_one_vote"))).toBe("not_a_member");
    expect(ballotRefusal(b("b", 1), byHolder, none, rules("one_person_one_vote"))).toBe("not_a_member");
  });
});

describe("outcome", () => {
  const t = (f: bigint, a: bigint, ab: bigint, eligible: bigint) => ({
    for: f,
    against: a,
    abstain: ab,
    participation: f + a + ab,
    eligible,
  });
  const simple = { quorumBps: 400n, supermajority: false, supermajorityBps: 6_666n };
  const superRule = { ...simple, supermajority: true };

  it("quorum: 4 % of the snapshot's power, abstain included", () => {
    expect(outcomeOf(t(1n, 0n, 399n, 10_000n), simple)).toEqual({ quorumReached: true, passed: true });
    expect(outcomeOf(t(1n, 0n, 398n, 10_000n), simple)).toEqual({ quorumReached: false, passed: false });
    expect(outcomeOf(t(0n, 0n, 0n, 0n), simple)).toEqual({ quorumReached: false, passed: false });
  });

  it("simple majority: more for than against; supermajority: at least 2/3 of for+against", () => {
    expect(outcomeOf(t(50n, 50n, 0n, 100n), simple).passed).toBe(false);
    expect(outcomeOf(t(51n, 50n, 0n, 100n), simple).passed).toBe(true);
    expect(outcomeOf(t(2n, 1n, 0n, 3n), superRule).passed).toBe(true);
    expect(outcomeOf(t(6_665n, 3_335n, 0n, 10_000n), superRule).passed).toBe(false);
    expect(outcomeOf(t(6_666n, 3_334n, 0n, 10_000n), superRule).passed).toBe(true);
    expect(outcomeOf(t(0n, 0n, 500n, 10_000n), superRule).passed).toBe(false);
  });
});

describe("lifecycle states (each deadline inclusive, one second after is the next state)", () => {
  const base: ProposalTimeline = {
    reviewEnds: 10_000,
    votingStarts: null,
    votingEnds: null,
    outcome: null,
    eta: null,
    expiresAt: null,
    executedAt: null,
    cancelledAt: null,
    rejectedAt: null,
  };
  it("review -> awaiting voting -> voting -> result -> queued -> expired", () => {
    expect(proposalState(base, 10_000)).toBe("review");
    expect(proposalState(base, 11_000)).toBe("awaiting_voting");
    const voting = { ...base, votingStarts: 11_000, votingEnds: 20_000 };
    expect(proposalState(voting, 20_000)).toBe("voting");
    expect(proposalState(voting, 21_000, "succeeded")).toBe("succeeded");
    expect(proposalState(voting, 21_000, "defeated")).toBe("defeated");
    const queued = { ...voting, outcome: "succeeded" as const, eta: 30_000, expiresAt: 40_000 };
    expect(proposalState(queued, 40_000)).toBe("queued");
    expect(proposalState(queued, 41_000)).toBe("expired");
    expect(proposalState({ ...queued, executedAt: 35_000 }, 50_000)).toBe("executed");
    expect(proposalState({ ...base, cancelledAt: 5_000 }, 5_000)).toBe("cancelled");
    expect(proposalState({ ...base, rejectedAt: 5_000 }, 5_000)).toBe("rejected");
  });
});

describe("payloads and governed parameters", () => {
  it("checks each kind's payload", () => {
    expect(parseProposalPayload("parameter_change", '{"name":"quorumBps","value":"500"}')).toEqual({
      kind: "parameter_change",
      name: "quorumBps",
      value: 500n,
    });
    expect(() => parseProposalPayload("parameter_change", '{"name":"quorumBps","value":"0"}')).toThrow(/from 1 to 10000/);
    expect(() => parseProposalPayload("parameter_change", '{"name":"sessionSeconds","value":"5"}')).toThrow(/not a governed/);
    expect(() => parseProposalPayload("treasury_spend", '{"recipient":"0xzz","amount":"5"}')).toThrow(/recipient/);
    expect(() =>
      parseProposalPayload("treasury_spend", '{"recipient":"0x0000000000000000000000000000000000000001","amount":"0"}'),
    ).toThrow(/amount/);
    expect(parseProposalPayload("revenue_distribution", '{"rule":"hybrid","amount":"1000"}')).toEqual({
      kind: "revenue_distribution",
      rule: "hybrid",
      amount: 1000n,
    });
    expect(() => parseProposalPayload("revenue_distribution", '{"rule":"lottery","amount":"1000"}')).toThrow(/rule/);
    const members = ["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"];
    expect(parseProposalPayload("council_election", JSON.stringify({ members, signatures: 2 }))).toMatchObject({ signatures: 2 });
    expect(() => parseProposalPayload("council_election", JSON.stringify({ members, signatures: 3 }))).toThrow(/signatures/);
    expect(() =>
      parseProposalPayload("council_election", JSON.stringify({ members: [members[0], members[0]], signatures: 1 })),
    ).toThrow();
    expect(() => parseProposalPayload("text", '{"x":1}')).toThrow(/nothing/);
    expect(() => parseProposalPayload("text", "nope")).toThrow(/JSON/);
  });

  it("hashes content canonically (key order does not matter; any change does)", () => {
    const c = { kind: "text" as const, title: "t", description: "d", payload: '{"a":1,"b":2}', citations: ["prop_1"] };
    expect(proposalContentHash(c)).toBe(proposalContentHash({ ...c, payload: '{"b":2,"a":1}' }));
    expect(proposalContentHash(c)).not.toBe(proposalContentHash({ ...c, title: "u" }));
    expect(proposalContentHash(c)).not.toBe(proposalContentHash({ ...c, citations: [] }));
  });

  it("bounds every governed parameter and applies a change from its epoch on", () => {
    expect(parameterChangeRefusal("unbondingSeconds", 59n)).toMatch(/from 60/);
    expect(parameterChangeRefusal("unbondingSeconds", 60n)).toBeNull();
    const base = { quorumBps: 400n, unbondingSeconds: 600 };
    const changes = [
      { name: "quorumBps" as const, value: 500n, effectiveEpoch: 5, seq: 1 },
      { name: "quorumBps" as const, value: 700n, effectiveEpoch: 5, seq: 2 },
      { name: "unbondingSeconds" as const, value: 120n, effectiveEpoch: 6, seq: 3 },
    ];
    expect(governedValues(base, changes, 4)).toEqual(base);
    expect(governedValues(base, changes, 5)).toEqual({ quorumBps: 700n, unbondingSeconds: 600 });
    expect(governedValues(base, changes, 6)).toEqual({ quorumBps: 700n, unbondingSeconds: 120 });
  });

  it("keeps the market's price bounds ordered: a crossing change is refused, and void if one was ever recorded", () => {
    expect(parameterChangeRefusal("marketMinPrice", 0n)).toMatch(/from 1 to 1000000000/);
    expect(parameterChangeRefusal("marketMaxPrice", 1_000_000_001n)).toMatch(/from 1 to 1000000000/);
    expect(parameterChangeRefusal("marketMaxPrice", 1_000_000_000n)).toBeNull();
    const base = { marketMinPrice: 1, marketMaxPrice: 1_000 };
    const raiseMin = { name: "marketMinPrice" as const, value: 800n, effectiveEpoch: 5, seq: 1 };
    // Against the values once every change holds, pending ones included.
    expect(changeConflict(base, [], { name: "marketMaxPrice", value: 700n })).toBeNull();
    expect(changeConflict(base, [raiseMin], { name: "marketMaxPrice", value: 700n })).toBe(
      "marketMinPrice (800) must not exceed marketMaxPrice (700)",
    );
    expect(changeConflict(base, [raiseMin], { name: "marketMaxPrice", value: 800n })).toBeNull();
    expect(changeConflict(base, [raiseMin], { name: "quorumBps", value: 1n })).toBeNull();
    // Two racing executions both recorded: the later one (epoch, then execution order) is void.
    const lowerMax = { name: "marketMaxPrice" as const, value: 700n, effectiveEpoch: 5, seq: 2 };
    expect(governedValues(base, [lowerMax, raiseMin], 5)).toEqual({ marketMinPrice: 800, marketMaxPrice: 1_000 });
    expect(governedValues(base, [{ ...lowerMax, seq: 0 }, raiseMin], 5)).toEqual({ marketMinPrice: 1, marketMaxPrice: 700 });
    // A later change that restores the order applies.
    const lowerMin = { name: "marketMinPrice" as const, value: 500n, effectiveEpoch: 6, seq: 3 };
    expect(governedValues(base, [lowerMax, raiseMin, lowerMin], 6)).toEqual({ marketMinPrice: 500, marketMaxPrice: 1_000 });
  });

  it("reads the per-kind voting modes", () => {
    expect(parseVotingModes("text=delegated", "X").text).toBe("delegated");
    expect(() => parseVotingModes("text=lottery", "X")).toThrow(/kind=mode/);
  });
});

describe("invalid ballots change no result (property)", () => {
  const domain: SigningDomain = { chainId: 31337, verifyingContract: "0x0000000000000000000000000000000000000000" };
  const accounts = Array.from({ length: 6 }, (_, i) => privateKeyToAccount(keccak256(toHex(`governance-voter-${i}`))));
  const outsider = privateKeyToAccount(keccak256(toHex("governance-outsider")));
  const proposal = { id: "prop_00000000000000aa", votingStarts: 1_000_000, votingEnds: 2_000_000 };
  const deadline = 10_000n;

  async function signed(account: (typeof accounts)[number], voter: string, support: number, votes: bigint, receivedAt: number) {
    const body = await signGovernanceMessage(account, domain, "Vote", { voter, proposal: proposal.id, support, votes, deadline });
    return {
      message: { voter: voter as `0x${string}`, proposal: proposal.id, support, votes, deadline },
      signature: body.signature,
      receivedAt,
    } satisfies SignedBallot;
  }

  it("for every mode, random snapshots and ballots", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<VotingMode>("token", "quadratic", "one_person_one_vote", "delegated"),
        fc.array(
          fc.record({ power: fc.bigInt(1n, 400n), bonded: fc.bigInt(0n, 50n), delegate: fc.integer({ min: -1, max: 5 }) }),
          {
            minLength: 6,
            maxLength: 6,
          },
        ),
        fc.array(
          fc.record({ voter: fc.integer({ min: 0, max: 5 }), support: fc.constantFrom(0, 1, 2), votes: fc.bigInt(1n, 20n) }),
          {
            maxLength: 6,
          },
        ),
        fc.array(
          fc.record({
            kind: fc.constantFrom("wrong_signature", "no_power", "double_vote", "after_close"),
            voter: fc.integer({ min: 0, max: 5 }),
            support: fc.constantFrom(0, 1, 2),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        async (mode, holders, wanted, invalid) => {
          const snapshot: PowerEntry[] = holders.map((h, i) => ({
            holder: accounts[i].address.toLowerCase(),
            power: h.power,
            bonded: h.bonded,
            delegate: h.delegate >= 0 && h.delegate !== i ? accounts[h.delegate].address.toLowerCase() : null,
          }));
          const rules = { mode, memberMinStake: 10n };
          // The valid ballots: one per voter, admitted in order, at distinct times in the window.
          const byHolder = new Map(snapshot.map((e) => [e.holder, e]));
          const voted = new Set<string>();
          const valid: SignedBallot[] = [];
          let at = proposal.votingStarts;
          const tick = () => {
            at += 10;
            return at;
          };
          for (const w of wanted) {
            const voter = snapshot[w.voter].holder;
            const votes = mode === "quadratic" ? w.votes : 0n;
            if (ballotRefusal({ voter, support: w.support as 0, votes }, byHolder, voted, rules)) continue;
            voted.add(voter);
            valid.push(await signed(accounts[w.voter], voter, w.support, votes, tick()));
          }
          const before = await countSignedBallots(proposal, snapshot, valid, rules, domain);
          expect(before.refused).toBe(0);
          const extra: SignedBallot[] = [];
          for (const x of invalid) {
            const votes = mode === "quadratic" ? 1n : 0n;
            const voter = snapshot[x.voter].holder;
            if (x.kind === "wrong_signature") extra.push(await signed(outsider, voter, x.support, votes, proposal.votingStarts));
            else if (x.kind === "no_power")
              extra.push(await signed(outsider, outsider.address.toLowerCase(), x.support, votes, tick()));
            else if (x.kind === "after_close")
              extra.push(await signed(accounts[x.voter], voter, x.support, votes, proposal.votingEnds + 1));
            else if (valid.some((v) => v.message.voter === voter))
              extra.push(await signed(accounts[x.voter], voter, x.support, votes, tick()));
            else extra.push(await signed(accounts[x.voter], voter, x.support, votes, proposal.votingEnds + 1_000));
          }
          const after = await countSignedBallots(proposal, snapshot, [...extra, ...valid], rules, domain);
          expect(after.tally).toEqual(before.tally);
          expect(after.refused).toBe(extra.length);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
