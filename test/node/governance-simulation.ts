/**
 * Governance operations for the economy simulation (economy-simulation.test.ts): random
 * proposals of every kind (some citing unknown proposals, some below the threshold), votes in
 * every mode (some from holders without power, second votes, votes over their credits or after
 * the close), delegations, cancellations, rejections, council approvals, time passing and
 * executions, each checked not to change the supply; and the invariants checked after every
 * step: one vote per holder per proposal, no vote above its snapshot power or outside its window,
 * tallies within the snapshot, the treasury never negative, every execution once.
 */
import { eq, sql } from "drizzle-orm";
import { PROPOSAL_KINDS, type ProposalKind, type Support } from "../../protocol/governance.js";
import { boundsConflict, GOVERNED_PARAMETERS, type GovernedName } from "../../protocol/governance-parameters.js";
import { availableOf, BURN_ACCOUNT, ISSUANCE_ACCOUNT, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { PARAMETERS } from "../../protocol/parameters.js";
import { accounts, governanceSnapshots, governanceVotes, operations, proposals } from "../../schema/tables.js";
import type { GatewayConfig } from "../../workers/config.js";
import type { Database } from "../../workers/db/database.js";
import { listParameterChanges } from "../../workers/db/governance.js";
import { getAccount } from "../../workers/db/ledger.js";
import { delegateVotes } from "../../workers/governance/delegations.js";
import {
  advanceProposals,
  approveSpend,
  cancelProposal,
  castVote,
  executeProposal,
  proposalTally,
  propose,
  rejectProposal,
} from "../../workers/governance/proposals.js";

interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
  amount(max: bigint): bigint;
}

interface Context {
  db: Database;
  config: GatewayConfig;
  r: Rng;
  holders: readonly string[];
  now(): number;
  advance(ms: number): void;
  attempt(run: () => Promise<unknown>): Promise<string>;
}

/** Everything but issuance and burn: governance must never change it. */
async function supply(db: Database): Promise<bigint> {
  const rows = await db.select().from(accounts).all();
  return rows
    .filter((a) => a.id !== ISSUANCE_ACCOUNT && a.id !== BURN_ACCOUNT)
    .reduce((n, a) => n + BigInt(a.creditsPosted) - BigInt(a.debitsPosted), 0n);
}

/** The simulation's governance operations, as `[weight, name, run]` entries of its table. */
export function governanceSimulation(ctx: Context): [number, string, () => Promise<string>][] {
  const { db, r, holders } = ctx;
  // The first five holders are the council; 3 of 5 approve large spends.
  const config: GatewayConfig = { ...ctx.config, council: holders.slice(0, 5), councilSignatures: 3 };
  const ids: string[] = [];
  const pickProposal = async (states?: string[]) => {
    const rows = await db.select({ id: proposals.id, state: proposals.state }).from(proposals).all();
    const live = states ? rows.filter((p) => states.includes(p.state)) : rows;
    return live.length ? r.pick(live).id : null;
  };
  const payloadFor = (kind: ProposalKind): string => {
    switch (kind) {
      case "parameter_change": {
        const name = r.pick([
          "quorumBps",
          "supermajorityBps",
          "minDelegation",
          "jailSlashBps",
          // The market's bounds: random values cross often, refused as parameter_bounds_conflict.
          "marketMinPrice",
          "marketMaxPrice",
        ] as GovernedName[]);
        const p = GOVERNED_PARAMETERS[name];
        const span = p.max - p.min > 100_000n ? 100_000n : p.max - p.min;
        // One in ten is out of bounds (refused as invalid_payload).
        const value = r.next() < 0.1 ? p.max + 1n : p.min + BigInt(r.int(Number(span) + 1));
        return JSON.stringify({ name, value: value.toString() });
      }
      case "treasury_spend":
        return JSON.stringify({ recipient: r.pick(holders), amount: r.amount(400_000n).toString() });
      case "revenue_distribution":
        return JSON.stringify({ rule: r.pick(["stake", "activity", "hybrid"]), amount: r.amount(300_000n).toString() });
      case "council_election":
        return JSON.stringify({ members: holders.slice(0, 5), signatures: 3 });
      case "text":
        return "{}";
    }
  };
  /** Runs a governance step and checks it left the supply as it was. */
  const unchangedSupply = async (run: () => Promise<string>) => {
    const before = await supply(db);
    const outcome = await run();
    if ((await supply(db)) !== before) throw new Error("a governance step changed the supply");
    return outcome;
  };
  const refusingPayload = async (run: () => Promise<unknown>) => {
    try {
      return await ctx.attempt(run);
    } catch (error) {
      if ((error as { code?: string }).code === "invalid_payload") return "invalid_payload";
      throw error;
    }
  };

  return [
    [
      5,
      "governance propose",
      () =>
        unchangedSupply(async () => {
          const proposer = r.pick(holders);
          const kind = r.pick(PROPOSAL_KINDS);
          const citations = ids.length && r.next() < 0.5 ? [r.pick(ids)] : r.next() < 0.05 ? ["prop_00000000000000ff"] : [];
          const operation = `${proposer}/gp${r.int(1e9)}`;
          const outcome = await refusingPayload(() =>
            propose(
              db,
              config,
              { operation, proposer, kind, title: "t", description: "", payload: payloadFor(kind), citations },
              ctx.now(),
            ),
          );
          if (outcome === "done") ids.push((await db.select().from(proposals).orderBy(sql`seq DESC`).limit(1).get())?.id ?? "");
          return outcome;
        }),
    ],
    [
      4,
      "governance time passes",
      () =>
        unchangedSupply(async () => {
          ctx.advance(r.int(8_000));
          const moved = await advanceProposals(db, config, ctx.now());
          return moved > 0 ? "moved" : "none due";
        }),
    ],
    [
      8,
      "governance vote",
      () =>
        unchangedSupply(async () => {
          const id = await pickProposal(["voting", "queued", "review"]);
          if (!id) return "no proposal";
          // Mostly snapshot holders; sometimes someone who never held anything.
          const voter = r.next() < 0.1 ? `0x${"e".repeat(40)}` : r.pick(holders);
          const support = (r.next() < 0.7 ? 1 : r.int(3)) as Support;
          const p = await db.select().from(proposals).where(eq(proposals.id, id)).get();
          const votes = p?.mode === "quadratic" ? BigInt(r.int(3_000)) : r.next() < 0.05 ? 1n : 0n;
          return ctx.attempt(() => castVote(db, { proposal: id, voter, support, votes, signature: "0x" }, ctx.now()));
        }),
    ],
    [
      2,
      "governance delegate",
      () =>
        unchangedSupply(() => {
          const holder = r.pick(holders);
          const delegate = r.next() < 0.2 ? null : r.pick(holders);
          return ctx.attempt(() => delegateVotes(db, { operation: `${holder}/gd${r.int(1e9)}`, holder, delegate }, ctx.now()));
        }),
    ],
    [
      1,
      "governance cancel or reject",
      () =>
        unchangedSupply(async () => {
          const id = await pickProposal();
          if (!id) return "no proposal";
          const who = r.pick(holders);
          return ctx.attempt(() =>
            r.next() < 0.5
              ? cancelProposal(db, { proposal: id, by: who }, ctx.now())
              : rejectProposal(db, config, { proposal: id, member: who, reason: "rule breach" }, ctx.now()),
          );
        }),
    ],
    [
      2,
      "governance approve",
      () =>
        unchangedSupply(async () => {
          const id = await pickProposal(["voting", "queued"]);
          if (!id) return "no proposal";
          return ctx.attempt(() => approveSpend(db, config, { proposal: id, member: r.pick(holders) }, ctx.now()));
        }),
    ],
    [
      4,
      "governance execute",
      () =>
        unchangedSupply(async () => {
          const id = await pickProposal(["queued", "executed"]);
          if (!id) return "no proposal";
          const p = await db.select().from(proposals).where(eq(proposals.id, id)).get();
          if (p?.eta && ctx.now() < p.eta && r.next() < 0.7) ctx.advance(p.eta - ctx.now());
          return ctx.attempt(() => executeProposal(db, config, id, ctx.now()));
        }),
    ],
  ];
}

/** Governance's invariants over the whole database. */
export async function governanceViolations(db: Database): Promise<string[]> {
  const broken: string[] = [];
  const treasury = await getAccount(db, TREASURY_ACCOUNT);
  if (availableOf(treasury) < 0n) broken.push(`the treasury is negative (${availableOf(treasury)})`);
  const doubles = await db.all<{ n: number }>(
    sql`SELECT COUNT(*) AS n FROM governance_votes GROUP BY proposal_id, voter HAVING COUNT(*) > 1`,
  );
  if (doubles.length) broken.push("a holder voted twice on one proposal");
  // Executed changes never cross the governed bounds, in any epoch a change took effect in:
  // each parameter's latest recorded change, without the rule that voids a crossing one.
  const changes = await listParameterChanges(db);
  for (const epoch of new Set(changes.map((c) => c.effectiveEpoch))) {
    const values: Record<string, bigint> = {
      marketMinPrice: BigInt(PARAMETERS.marketMinPrice.default),
      marketMaxPrice: BigInt(PARAMETERS.marketMaxPrice.default),
    };
    const recorded = changes
      .filter((c) => c.effectiveEpoch <= epoch)
      .sort((a, b) => a.effectiveEpoch - b.effectiveEpoch || a.seq - b.seq);
    for (const c of recorded) values[GOVERNED_PARAMETERS[c.name].field] = c.value;
    const conflict = boundsConflict(values);
    if (conflict) broken.push(`executed parameter changes from epoch ${epoch}: ${conflict}`);
  }
  const all = await db.select().from(proposals).all();
  for (const p of all) {
    if (p.votingStarts === null) continue;
    const votes = await db.select().from(governanceVotes).where(eq(governanceVotes.proposalId, p.id)).all();
    const snap = new Map(
      (await db.select().from(governanceSnapshots).where(eq(governanceSnapshots.proposalId, p.id)).all()).map((e) => [
        e.holder,
        e,
      ]),
    );
    for (const v of votes) {
      if (v.castAt < p.votingStarts || v.castAt > (p.votingEnds ?? 0)) broken.push(`${p.id}: a vote outside its window`);
      const own = BigInt(snap.get(v.voter)?.power ?? 0);
      if (p.mode === "quadratic" && BigInt(v.votes) * BigInt(v.votes) > own)
        broken.push(`${p.id}: quadratic votes above the snapshot`);
      if ((p.mode === "token" || p.mode === "quadratic") && own === 0n) broken.push(`${p.id}: ${v.voter} voted without power`);
    }
    const t = (await proposalTally(db, p)).tally;
    if (t.participation > t.eligible) broken.push(`${p.id}: participation ${t.participation} above the snapshot's ${t.eligible}`);
    if (p.mode !== "quadratic" && t.for + t.against + t.abstain > t.eligible)
      broken.push(`${p.id}: votes above the snapshot's power`);
    if (p.state === "executed") {
      const ops = await db
        .select()
        .from(operations)
        .where(eq(operations.id, `gov/execute/${p.id}`))
        .all();
      if (ops.length !== 1) broken.push(`${p.id}: executed without its one operation`);
    }
  }
  return broken;
}
