/**
 * Governance in workerd on real D1 (and libSQL in the second run): the lifecycle's boundaries
 * exactly at each deadline and one second after (as OpenZeppelin's Governor tests do), driven
 * through the services with explicit clocks; the snapshot (moving tokens after it changes
 * nothing); the four modes; execution of each kind as an idempotent ledger operation (parameter
 * from the next epoch, treasury spends with M-of-N council approvals, council elections); and the
 * signed HTTP routes with their refusals, each changing nothing.
 */
import { env } from "cloudflare:workers";
import type { LocalAccount } from "viem";
import { describe, expect, it } from "vitest";
import { signGovernanceMessage } from "../../protocol/governance-messages.js";
import { balanceAccount, ISSUANCE_ACCOUNT, ledgerViolations, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { sessionEpoch } from "../../protocol/session.js";
import { type GatewayConfig, gatewayConfig } from "../../workers/config.js";
import { database } from "../../workers/db/database.js";
import { getProposal, governanceActivity, snapshotOf } from "../../workers/db/governance.js";
import { getAccount, ledgerSnapshot, ledgerStatements, single } from "../../workers/db/ledger.js";
import { runOperation } from "../../workers/economy/operation.js";
import { stake } from "../../workers/economy/staking.js";
import { transfer } from "../../workers/economy/transfers.js";
import { registerValidator } from "../../workers/economy/validators.js";
import { ApiError } from "../../workers/errors.js";
import { delegateVotes } from "../../workers/governance/delegations.js";
import { governedConfig } from "../../workers/governance/parameters.js";
import {
  advanceProposal,
  approveSpend,
  cancelProposal,
  castVote,
  executeProposal,
  openVoting,
  proposalTally,
  propose,
  queueProposal,
  rejectProposal,
  stateAt,
} from "../../workers/governance/proposals.js";
import { call, fund, inAnHour, newOperator, postSigned, signingDomain, unique } from "./helpers.js";

const db = () => database(env);
/** 10^7 DB-CPTM: a voter that makes the quorum alone, whatever the other files minted (far less). */
const BIG = 10_000_000_000_000n;
/** Above the proposal threshold (1,000 DB-CPTM), far below the quorum. */
const PROPOSER = 2_000_000_000n;
const council = Array.from({ length: 5 }, () => newOperator());

async function config(now: number): Promise<GatewayConfig> {
  return { ...(await governedConfig(db(), gatewayConfig(env), now, true)), council: council.map((m) => m.address.toLowerCase()) };
}

async function refused(work: Promise<unknown>, code: string) {
  const error = await work.then(
    () => null,
    (e) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe(code);
}

const addr = (a: LocalAccount) => a.address.toLowerCase();

async function submit(proposer: LocalAccount, now: number, kind = "text", payload = "{}", citations: string[] = []) {
  const outcome = await propose(
    db(),
    await config(now),
    {
      operation: `${addr(proposer)}/${unique("p")}`,
      proposer: addr(proposer),
      kind: kind as "text",
      title: "t",
      description: "d",
      payload,
      citations,
    },
    now,
  );
  if (outcome.alreadyDone) throw new Error("unexpected retry");
  return outcome.result.proposal;
}

/** Proposes, opens voting, has `voter` vote for, and queues: returns the proposal with its deadlines. */
async function queued(voter: LocalAccount, t0: number, kind = "text", payload = "{}") {
  const id = await submit(voter, t0, kind, payload);
  const c = await config(t0);
  const open = t0 + c.reviewSeconds * 1000 + 1000;
  await openVoting(db(), c, id, open);
  const p = await getProposal(db(), id);
  const votes = p?.mode === "quadratic" ? 3_162_277n : 0n; // 3,162,277^2 credits: just under BIG
  await castVote(db(), { proposal: id, voter: addr(voter), support: 1, votes, signature: "0x" }, open);
  const close = (p?.votingEnds ?? 0) + 1000;
  await queueProposal(db(), c, id, close);
  return (await getProposal(db(), id))!;
}

describe("governance lifecycle boundaries (at the deadline, and one second after)", () => {
  it("review: cancel and reject until reviewEnds; voting opens only after it", async () => {
    const proposer = newOperator();
    await fund(addr(proposer), PROPOSER);
    const t0 = Date.now();
    const c = await config(t0);
    const reviewEnds = t0 + c.reviewSeconds * 1000;

    const a = await submit(proposer, t0);
    await refused(openVoting(db(), c, a, reviewEnds), "proposal_state");
    await refused(cancelProposal(db(), { proposal: a, by: addr(council[0]) }, reviewEnds), "not_proposer");
    expect((await cancelProposal(db(), { proposal: a, by: addr(proposer) }, reviewEnds)).alreadyDone).toBe(false);
    expect(await stateAt(db(), (await getProposal(db(), a))!, reviewEnds + 1000)).toBe("cancelled");

    const b = await submit(proposer, t0);
    await refused(cancelProposal(db(), { proposal: b, by: addr(proposer) }, reviewEnds + 1000), "proposal_state");
    await refused(
      rejectProposal(db(), c, { proposal: b, member: addr(council[0]), reason: "late" }, reviewEnds + 1000),
      "proposal_state",
    );
    await refused(
      rejectProposal(db(), c, { proposal: b, member: addr(proposer), reason: "not council" }, reviewEnds),
      "not_council_member",
    );
    await rejectProposal(db(), c, { proposal: b, member: addr(council[0]), reason: "breaks rule 3" }, reviewEnds);
    const rejected = (await getProposal(db(), b))!;
    expect([rejected.state, rejected.rejectReason, rejected.rejectedBy]).toEqual(["rejected", "breaks rule 3", addr(council[0])]);
    await refused(openVoting(db(), c, b, reviewEnds + 1000), "proposal_state");

    const d = await submit(proposer, t0);
    expect(await stateAt(db(), (await getProposal(db(), d))!, reviewEnds)).toBe("review");
    expect(await stateAt(db(), (await getProposal(db(), d))!, reviewEnds + 1000)).toBe("awaiting_voting");
    await openVoting(db(), c, d, reviewEnds + 1000);
    const opened = (await getProposal(db(), d))!;
    expect([opened.state, opened.votingStarts, opened.votingEnds]).toEqual([
      "voting",
      reviewEnds + 1000,
      reviewEnds + 1000 + c.votingSeconds * 1000,
    ]);
  });

  it("voting: a vote at votingEnds counts, one second later is refused; the result is queued only after it", async () => {
    const voter = newOperator();
    const late = newOperator();
    await fund(addr(voter), BIG);
    await fund(addr(late), PROPOSER);
    const t0 = Date.now();
    const c = await config(t0);
    const id = await submit(voter, t0, "parameter_change", '{"name":"quorumBps","value":"500"}');
    const open = t0 + c.reviewSeconds * 1000 + 1000;
    await openVoting(db(), c, id, open);
    const votingEnds = open + c.votingSeconds * 1000;
    await castVote(db(), { proposal: id, voter: addr(voter), support: 1, votes: 0n, signature: "0x" }, votingEnds);
    await refused(
      castVote(db(), { proposal: id, voter: addr(late), support: 0, votes: 0n, signature: "0x" }, votingEnds + 1000),
      "proposal_state",
    );
    await refused(queueProposal(db(), c, id, votingEnds), "proposal_state");
    const q = await queueProposal(db(), c, id, votingEnds + 1000);
    expect(q.alreadyDone ? null : q.result.state).toBe("queued");
    const p = (await getProposal(db(), id))!;
    expect(p.eta).toBe(votingEnds + 1000 + c.timelockSeconds * 1000);
    expect(p.expiresAt).toBe((p.eta ?? 0) + c.graceSeconds * 1000);
    expect(p.forVotes).toBe(Number(BIG));
    expect(p.againstVotes).toBe(0);
  });

  it("timelock and grace: executes from eta to expiresAt, not a second before or after; anyone may execute, once", async () => {
    const voter = newOperator();
    await fund(addr(voter), BIG);
    const t0 = Date.now();
    const c = await config(t0);
    const a = await queued(voter, t0);
    await refused(executeProposal(db(), c, a.id, (a.eta ?? 0) - 1000), "proposal_state");
    const done = await executeProposal(db(), c, a.id, a.eta ?? 0);
    expect(done.alreadyDone).toBe(false);
    expect((await executeProposal(db(), c, a.id, (a.eta ?? 0) + 5)).alreadyDone).toBe(true);

    const b = await queued(voter, t0);
    expect((await executeProposal(db(), c, b.id, b.expiresAt ?? 0)).alreadyDone).toBe(false);

    const e = await queued(voter, t0);
    await refused(executeProposal(db(), c, e.id, (e.expiresAt ?? 0) + 1000), "proposal_state");
    expect(await advanceProposal(db(), c, e.id, (e.expiresAt ?? 0) + 1000)).toBe("expired");
    expect((await getProposal(db(), e.id))?.state).toBe("expired");
  });

  it("defeated without quorum: nothing queues, nothing executes", async () => {
    const proposer = newOperator();
    const small = newOperator();
    await fund(addr(proposer), PROPOSER);
    await fund(addr(small), 1_000_000n);
    const t0 = Date.now();
    const c = await config(t0);
    const id = await submit(proposer, t0);
    const open = t0 + c.reviewSeconds * 1000 + 1000;
    await openVoting(db(), c, id, open);
    await castVote(db(), { proposal: id, voter: addr(small), support: 1, votes: 1n, signature: "0x" }, open); // text is quadratic
    const after = open + c.votingSeconds * 1000 + 1000;
    expect(await advanceProposal(db(), c, id, after)).toBe("defeated");
    await refused(executeProposal(db(), c, id, after + c.timelockSeconds * 1000), "proposal_state");
  });
});

describe("voting power and modes", () => {
  it("is the snapshot taken when voting opens: tokens moved after it change nothing", async () => {
    const holder = newOperator();
    const receiver = newOperator();
    await fund(addr(holder), BIG);
    const t0 = Date.now();
    const c = await config(t0);
    const id = await submit(holder, t0, "parameter_change", '{"name":"quorumBps","value":"450"}');
    const open = t0 + c.reviewSeconds * 1000 + 1000;
    await openVoting(db(), c, id, open);
    await transfer(db(), { id: unique("move"), from: addr(holder), to: addr(receiver), amount: BIG }, open + 1);
    await refused(
      castVote(db(), { proposal: id, voter: addr(receiver), support: 0, votes: 0n, signature: "0x" }, open + 2),
      "no_voting_power",
    );
    await castVote(db(), { proposal: id, voter: addr(holder), support: 1, votes: 0n, signature: "0x" }, open + 3);
    await refused(
      castVote(db(), { proposal: id, voter: addr(holder), support: 0, votes: 0n, signature: "0x" }, open + 4),
      "already_voted",
    );
    const p = (await getProposal(db(), id))!;
    const t = await proposalTally(db(), p);
    expect(t.tally.for).toBe(BIG);
    expect(t.tally.against).toBe(0n);
    const entry = (await snapshotOf(db(), id)).find((e) => e.holder === addr(holder));
    expect(entry?.power).toBe(BIG);
  });

  it("counts liquid balance plus bonded stake; one person one vote needs the member stake; quadratic costs n^2", async () => {
    const staker = newOperator();
    const liquidOnly = newOperator();
    const proposer = newOperator();
    await fund(addr(staker), 50_000_000n);
    await fund(addr(liquidOnly), 50_000_000n);
    await fund(addr(proposer), BIG);
    const t0 = Date.now();
    const c = await config(t0);
    const validator = newOperator();
    await registerValidator(db(), { id: unique("v"), address: addr(validator), name: "v" }, t0);
    await stake(
      db(),
      c,
      { id: unique("s"), holder: addr(staker), kind: "validator", subject: addr(validator), amount: 20_000_000n },
      t0,
    );
    const members = [council[0].address, council[1].address].map((m) => m.toLowerCase());
    const election = await submit(proposer, t0, "council_election", JSON.stringify({ members, signatures: 1 }));
    const text = await submit(proposer, t0, "text");
    const open = t0 + c.reviewSeconds * 1000 + 1000;
    await openVoting(db(), c, election, open);
    await openVoting(db(), c, text, open);
    const snap = await snapshotOf(db(), election);
    expect(snap.find((e) => e.holder === addr(staker))).toMatchObject({ power: 50_000_000n, bonded: 20_000_000n });
    // one person, one vote: the staker is a member, the liquid-only holder is not.
    await castVote(db(), { proposal: election, voter: addr(staker), support: 1, votes: 0n, signature: "0x" }, open);
    await refused(
      castVote(db(), { proposal: election, voter: addr(liquidOnly), support: 1, votes: 0n, signature: "0x" }, open),
      "not_a_member",
    );
    const e = await proposalTally(db(), (await getProposal(db(), election))!);
    expect([e.tally.for, e.tally.against]).toEqual([1n, 0n]);
    // quadratic: 7,071 votes cost 49,999,041 credits (<= 50,000,000); 7,072 would cost 50,013,184.
    await refused(
      castVote(db(), { proposal: text, voter: addr(liquidOnly), support: 0, votes: 7_072n, signature: "0x" }, open),
      "votes_over_credits",
    );
    await refused(
      castVote(db(), { proposal: text, voter: addr(liquidOnly), support: 0, votes: 0n, signature: "0x" }, open),
      "invalid_votes",
    );
    await castVote(db(), { proposal: text, voter: addr(liquidOnly), support: 0, votes: 7_071n, signature: "0x" }, open);
    const q = await proposalTally(db(), (await getProposal(db(), text))!);
    expect(q.tally.against).toBe(7_071n);
  });

  it("delegated: a delegate votes with what was delegated at the snapshot; a direct vote overrides it", async () => {
    const delegate = newOperator();
    const d1 = newOperator();
    const d2 = newOperator();
    const proposer = newOperator();
    for (const [a, n] of [
      [delegate, 1_000_000n],
      [d1, 2_000_000n],
      [d2, 3_000_000n],
      [proposer, PROPOSER],
    ] as const)
      await fund(addr(a), n);
    const t0 = Date.now();
    const c = await config(t0);
    await delegateVotes(db(), { operation: unique("d"), holder: addr(d1), delegate: addr(delegate) }, t0);
    await delegateVotes(db(), { operation: unique("d"), holder: addr(d2), delegate: addr(delegate) }, t0);
    await refused(delegateVotes(db(), { operation: unique("d"), holder: addr(d1), delegate: addr(d1) }, t0), "self_delegation");
    const spend = await submit(proposer, t0, "treasury_spend", JSON.stringify({ recipient: addr(d1), amount: "1" }));
    expect((await getProposal(db(), spend))?.mode).toBe("delegated");
    const open = t0 + c.reviewSeconds * 1000 + 1000;
    await openVoting(db(), c, spend, open);
    // Undelegating after the snapshot changes nothing for this proposal.
    await delegateVotes(db(), { operation: unique("d"), holder: addr(d2), delegate: null }, open + 1);
    await castVote(db(), { proposal: spend, voter: addr(delegate), support: 1, votes: 0n, signature: "0x" }, open + 2);
    let t = await proposalTally(db(), (await getProposal(db(), spend))!);
    expect(t.tally.for).toBe(6_000_000n);
    await castVote(db(), { proposal: spend, voter: addr(d1), support: 0, votes: 0n, signature: "0x" }, open + 3);
    t = await proposalTally(db(), (await getProposal(db(), spend))!);
    expect([t.tally.for, t.tally.against]).toEqual([4_000_000n, 2_000_000n]);
  });
});

describe("execution", () => {
  it("a parameter change takes effect from the next epoch and shows as pending until then", async () => {
    const voter = newOperator();
    await fund(addr(voter), BIG);
    const t0 = Date.now();
    const p = await queued(voter, t0, "parameter_change", '{"name":"minDelegation","value":"2500000"}');
    const c = await config(p.eta ?? 0);
    const done = await executeProposal(db(), c, p.id, p.eta ?? 0);
    const epoch = sessionEpoch(p.eta ?? 0, c.sessionSeconds);
    expect(done.alreadyDone ? null : done.result).toMatchObject({
      parameter: "minDelegation",
      value: 2_500_000n,
      effectiveEpoch: epoch + 1,
    });
    const nextEpochStart = (epoch + 1) * c.sessionSeconds * 1000;
    expect((await governedConfig(db(), gatewayConfig(env), nextEpochStart - 1, true)).minDelegation).toBe(c.minDelegation);
    expect((await governedConfig(db(), gatewayConfig(env), nextEpochStart, true)).minDelegation).toBe(2_500_000n);
    // The public read (now, before that epoch) shows it pending with its epoch.
    const view = (await (await call("/v1/governance/parameters")).json()) as {
      parameters: { name: string; value: string; pending: { value: string; effectiveEpoch: number; proposalId: string }[] }[];
    };
    const row = view.parameters.find((x) => x.name === "minDelegation");
    expect(row?.pending).toContainEqual({ value: "2500000", effectiveEpoch: epoch + 1, proposalId: p.id });
    expect(row?.value).toBe(gatewayConfig(env).minDelegation.toString());
  });

  it("a treasury spend above the threshold needs M of N council approvals; it moves value inside the ledger, once", async () => {
    const voter = newOperator();
    const recipient = newOperator();
    await fund(addr(voter), BIG);
    const t0 = Date.now();
    const amount = 200_000_000_000n; // above COUNCIL_SPEND_THRESHOLD (100,000 DB-CPTM)
    await runOperation(db(), { id: unique("sys/treasury"), kind: "test_fund_treasury", request: {} }, t0, async () => ({
      statements: ledgerStatements(
        db(),
        [single(unique("treasury-mint"), ISSUANCE_ACCOUNT, TREASURY_ACCOUNT, amount, "mint")],
        t0,
      ),
      result: null,
    }));
    const p = await queued(
      voter,
      t0,
      "treasury_spend",
      JSON.stringify({ recipient: addr(recipient), amount: amount.toString() }),
    );
    const c = await config(p.eta ?? 0);
    const treasuryBefore = await getAccount(db(), TREASURY_ACCOUNT);
    await approveSpend(db(), c, { proposal: p.id, member: addr(council[0]) }, p.eta ?? 0);
    await approveSpend(db(), c, { proposal: p.id, member: addr(council[1]) }, p.eta ?? 0);
    await refused(approveSpend(db(), c, { proposal: p.id, member: addr(voter) }, p.eta ?? 0), "not_council_member");
    await refused(executeProposal(db(), c, p.id, p.eta ?? 0), "council_signatures_missing");
    expect(await getAccount(db(), TREASURY_ACCOUNT)).toEqual(treasuryBefore);
    await approveSpend(db(), c, { proposal: p.id, member: addr(council[2]) }, p.eta ?? 0);
    expect((await executeProposal(db(), c, p.id, p.eta ?? 0)).alreadyDone).toBe(false);
    expect((await executeProposal(db(), c, p.id, p.eta ?? 0)).alreadyDone).toBe(true);
    const got = await getAccount(db(), balanceAccount(addr(recipient)));
    expect(got.creditsPosted - got.debitsPosted).toBe(amount);
    const snapshot = await ledgerSnapshot(db());
    expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);
  });

  it("a revenue distribution splits the treasury's amount by its rule into locked payouts, once", async () => {
    const voter = newOperator();
    await fund(addr(voter), BIG);
    const t0 = Date.now();
    const amount = 5_000_000n;
    await runOperation(db(), { id: unique("sys/treasury"), kind: "test_fund_treasury", request: {} }, t0, async () => ({
      statements: ledgerStatements(
        db(),
        [single(unique("treasury-mint"), ISSUANCE_ACCOUNT, TREASURY_ACCOUNT, amount, "mint")],
        t0,
      ),
      result: null,
    }));
    const p = await queued(voter, t0, "revenue_distribution", JSON.stringify({ rule: "activity", amount: amount.toString() }));
    expect(p.mode).toBe("quadratic");
    const c = await config(p.eta ?? 0);
    const before = await getAccount(db(), TREASURY_ACCOUNT);
    const done = await executeProposal(db(), c, p.id, p.eta ?? 0);
    expect(done.alreadyDone ? null : done.result).toMatchObject({
      rule: "activity",
      distribution: `gov/execute/${p.id}/revenue`,
    });
    expect((await executeProposal(db(), c, p.id, p.eta ?? 0)).alreadyDone).toBe(true);
    const after = await getAccount(db(), TREASURY_ACCOUNT);
    // Payouts are pending transfers out of the treasury (locked); dust stays in it.
    expect(after.debitsPending - before.debitsPending).toBeGreaterThan(0n);
    expect(after.debitsPending - before.debitsPending).toBeLessThanOrEqual(amount);
    expect(after.debitsPosted).toBe(before.debitsPosted);
    const snapshot = await ledgerSnapshot(db());
    expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);
  });

  it("a council election replaces the council", async () => {
    const voter = newOperator();
    await fund(addr(voter), BIG);
    const validator = newOperator();
    const t0 = Date.now();
    await registerValidator(db(), { id: unique("v"), address: addr(validator), name: "v" }, t0);
    await stake(
      db(),
      await config(t0),
      { id: unique("s"), holder: addr(voter), kind: "validator", subject: addr(validator), amount: BIG / 2n },
      t0,
    );
    const members = [newOperator(), newOperator(), newOperator()].map(addr);
    const id = await submit(voter, t0, "council_election", JSON.stringify({ members, signatures: 2 }));
    const c = await config(t0);
    const open = t0 + c.reviewSeconds * 1000 + 1000;
    await openVoting(db(), c, id, open);
    await castVote(db(), { proposal: id, voter: addr(voter), support: 1, votes: 0n, signature: "0x" }, open);
    const after = open + c.votingSeconds * 1000 + 1000;
    const state = await advanceProposal(db(), c, id, after);
    if (state === "queued") {
      const p = (await getProposal(db(), id))!;
      await executeProposal(db(), c, id, p.eta ?? 0);
      const res = await call("/v1/governance/council");
      expect(await res.json()).toMatchObject({ members, signatures: 2, proposalId: id });
    } else {
      // Other files' members outnumber this one vote's quorum: still, nothing executes.
      expect(state).toBe("defeated");
    }
  });
});

describe("signed routes", () => {
  async function signedPropose(signer: LocalAccount, fields: Record<string, unknown> = {}) {
    return signGovernanceMessage(signer, signingDomain(), "Propose", {
      proposer: signer.address,
      kind: "text",
      title: "Publish the roadmap",
      description: "A text proposal",
      payload: "{}",
      citations: [],
      id: unique("prop"),
      deadline: inAnHour(),
      ...fields,
    });
  }

  it("submits with the threshold, cites earlier proposals, and refuses the rest with nothing stored", async () => {
    const rich = newOperator();
    const poor = newOperator();
    await fund(addr(rich), PROPOSER);
    await fund(addr(poor), 1_000n);
    const first = await postSigned("/v1/governance/proposals", await signedPropose(rich));
    expect(first.status).toBe(201);
    const body = (await first.json()) as { proposal: { id: string; mode: string; contentHash: string; state: string } };
    expect(body.proposal).toMatchObject({ mode: "quadratic", state: "review" });
    expect(body.proposal.contentHash).toMatch(/^0x[0-9a-f]{64}$/);

    const citing = await postSigned("/v1/governance/proposals", await signedPropose(rich, { citations: [body.proposal.id] }));
    expect(citing.status).toBe(201);
    const cited = (await citing.json()) as { proposal: { citations: string[] } };
    expect(cited.proposal.citations).toEqual([body.proposal.id]);

    const cases: [Promise<Response>, number, string][] = [
      [postSigned("/v1/governance/proposals", await signedPropose(poor)), 403, "below_proposal_threshold"],
      [
        postSigned("/v1/governance/proposals", await signedPropose(rich, { citations: ["prop_00000000000000ff"] })),
        400,
        "unknown_citation",
      ],
      [
        postSigned(
          "/v1/governance/proposals",
          await signedPropose(rich, { kind: "parameter_change", payload: '{"name":"quorumBps","value":"0"}' }),
        ),
        400,
        "invalid_payload",
      ],
    ];
    const forged = await signedPropose(poor);
    forged.message.proposer = rich.address;
    cases.push([postSigned("/v1/governance/proposals", forged), 401, "bad_signature"]);
    for (const [res, status, code] of cases) {
      const r = await res;
      expect(r.status, code).toBe(status);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    const activity = await governanceActivity(db(), 0, Date.now() + 1000);
    expect(activity.find((a) => a.holder === addr(poor))).toBeUndefined();
    expect(activity.find((a) => a.holder === addr(rich))?.proposalsMade).toBe(2);
  });

  it("votes signed over HTTP once voting is open; delegation over HTTP; reads show the tally and the signed votes", async () => {
    const voter = newOperator();
    await fund(addr(voter), PROPOSER);
    const t0 = Date.now() - 2 * gatewayConfig(env).reviewSeconds * 1000;
    const id = await submit(voter, t0);
    const adv = await call(`/v1/governance/proposals/${id}/advance`, { method: "POST" });
    expect(adv.status).toBe(200);
    expect(((await adv.json()) as { proposal: { state: string } }).proposal.state).toBe("voting");
    const vote = (fields: Record<string, unknown> = {}) =>
      signGovernanceMessage(voter, signingDomain(), "Vote", {
        voter: voter.address,
        proposal: id,
        support: 1,
        votes: 1000n,
        deadline: inAnHour(),
        ...fields,
      });
    const forged = await vote();
    forged.message.support = 0;
    const bad = await postSigned("/v1/governance/votes", forged);
    expect(bad.status).toBe(401);
    const ok = await postSigned("/v1/governance/votes", await vote());
    expect(ok.status, await ok.clone().text()).toBe(201);
    expect((await postSigned("/v1/governance/votes", await vote())).status).toBe(200);
    const second = await postSigned("/v1/governance/votes", await vote({ support: 0 }));
    expect(second.status).toBe(409);
    const read = (await (await call(`/v1/governance/proposals/${id}`)).json()) as { tally: { for: string; against: string } };
    expect(read.tally).toMatchObject({ for: "1000", against: "0" });
    const votes = (await (await call(`/v1/governance/proposals/${id}/votes`)).json()) as {
      votes: { voter: string; signature: string }[];
    };
    expect(votes.votes).toHaveLength(1);
    expect(votes.votes[0].voter).toBe(addr(voter));

    const friend = newOperator();
    const d = await signGovernanceMessage(voter, signingDomain(), "Delegate", {
      holder: voter.address,
      delegate: friend.address,
      id: unique("del"),
      deadline: inAnHour(),
    });
    expect((await postSigned("/v1/governance/delegations", d)).status).toBe(201);
    expect(await (await call(`/v1/governance/delegations/${voter.address}`)).json()).toEqual({
      holder: addr(voter),
      delegate: addr(friend),
    });
    expect((await call(`/v1/governance/proposals/prop_00000000000000ee`)).status).toBe(404);
  });
});
