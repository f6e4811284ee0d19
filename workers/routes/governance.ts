/**
 * `/v1/governance`: proposals, votes, delegations, the council, the governed parameters and
 * governance activity (docs/governance.md). Holders' actions are EIP-712 signed
 * (protocol/governance-messages.ts); moving a proposal on with time (`advance`) and executing a
 * queued one take no signature: anyone may. Every read is public, votes with their signatures and
 * the snapshot included, so anyone can recount a proposal with `protocol/`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type Address, type Hex, isAddress } from "viem";
import { PROPOSAL_KINDS, type ProposalKind, type Support } from "../../protocol/governance.js";
import { GOVERNANCE_SIGNER_FIELD, type GovernanceAction, governanceTypes } from "../../protocol/governance-messages.js";
import { type GatewayConfig, gatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import {
  approvalsOf,
  citationsOf,
  currentCouncil,
  delegationOf,
  getProposal,
  governanceActivity,
  listProposals,
  type ProposalRow,
  snapshotOf,
  votesOf,
} from "../db/governance.js";
import { apiError } from "../errors.js";
import { delegateVotes } from "../governance/delegations.js";
import { governedParametersView } from "../governance/parameters.js";
import {
  advanceProposal,
  approveSpend,
  cancelProposal,
  castVote,
  executeProposal,
  proposalIdOf,
  proposalTally,
  propose,
  rejectProposal,
  stateAt,
} from "../governance/proposals.js";
import { jsonSafe } from "../http/json-safe.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import {
  address,
  amount,
  holder,
  idParam,
  jsonAnswer,
  minorUnits,
  numericCursor,
  operationId,
  pageLimit,
  text,
} from "../http/schemas/common.js";
import { OperationSchema, operationAnswer } from "../http/schemas/economy.js";
import { signedEnvelope } from "../http/schemas/signed.js";
import { checkDeadline, checkTypedSignature, MAX_SIGNED_BODY_BYTES } from "../http/signed.js";

const tags = ["governance"];

/** Verifies a signed governance message: deadline, then the signature of its signer field. */
async function verifyGovernance<M extends { deadline: bigint }>(
  config: GatewayConfig,
  action: GovernanceAction,
  body: { message: M; signature: Hex },
  nowMs: number,
): Promise<Address> {
  const signer = (body.message as Record<string, unknown>)[GOVERNANCE_SIGNER_FIELD[action]] as Address;
  checkDeadline(body.message.deadline, nowMs);
  await checkTypedSignature(
    config,
    governanceTypes,
    action,
    { signature: body.signature, signer, nonce: 0n, deadline: body.message.deadline },
    body.message,
    action === "CouncilReject" || action === "CouncilApprove" ? "council member" : "holder",
  );
  return signer;
}

const proposalIdField = z.string().regex(/^prop_[0-9a-f]{16}$/, { error: "must be a proposal id (prop_ and 16 hex digits)" });

const ProposeMessage = z.object({
  proposer: address,
  kind: z.enum(PROPOSAL_KINDS, { error: `must be one of ${PROPOSAL_KINDS.join(", ")}` }),
  title: text(200),
  description: z.string().max(10_000, { error: "must be at most 10000 characters" }),
  payload: z.string().max(4_000, { error: "must be JSON text of at most 4000 characters" }),
  citations: z.array(proposalIdField).max(32, { error: "must list at most 32 proposals" }),
  id: operationId,
  deadline: amount(),
});
const VoteMessage = z.object({
  voter: address,
  proposal: proposalIdField,
  support: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: "must be 0 (against), 1 (for) or 2 (abstain)" }),
  votes: amount(),
  deadline: amount(),
});
const DelegateMessage = z.object({
  holder: address,
  // Signed as a string (it may be ""): kept as written, so the signature checks; lower-cased after.
  delegate: z
    .string()
    .refine((v) => v === "" || isAddress(v, { strict: false }), { error: 'must be an address, or "" to undelegate' })
    .openapi({ example: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" }),
  id: operationId,
  deadline: amount(),
});
const CancelMessage = z.object({ proposer: address, proposal: proposalIdField, deadline: amount() });
const RejectMessage = z.object({ member: address, proposal: proposalIdField, reason: text(1_000), deadline: amount() });
const ApproveMessage = z.object({ member: address, proposal: proposalIdField, deadline: amount() });

const TallySchema = z.object({
  for: minorUnits,
  against: minorUnits,
  abstain: minorUnits,
  participation: minorUnits,
  eligible: minorUnits,
  quorumReached: z.boolean(),
  passed: z.boolean(),
});

const ProposalSchema = z
  .object({
    id: z.string(),
    proposer: z.string(),
    kind: z.enum(PROPOSAL_KINDS),
    mode: z.enum(["token", "quadratic", "one_person_one_vote", "delegated"]),
    title: z.string(),
    description: z.string(),
    payload: z.unknown(),
    contentHash: z.string(),
    citations: z.array(z.string()),
    state: z.string().openapi({ description: "The state now (the stored state followed along the clock)" }),
    storedState: z.string(),
    createdAt: z.number().int(),
    reviewEnds: z.number().int(),
    votingStarts: z.number().int().nullable(),
    votingEnds: z.number().int().nullable(),
    eta: z.number().int().nullable(),
    expiresAt: z.number().int().nullable(),
    executedAt: z.number().int().nullable(),
    cancelledAt: z.number().int().nullable(),
    rejectedAt: z.number().int().nullable(),
    rejectReason: z.string().nullable(),
    tally: TallySchema.nullable(),
    approvals: z.array(z.string()),
  })
  .openapi("Proposal");

async function proposalJson(db: Database, p: ProposalRow, now: number) {
  const [state, citations, approvals, counted] = await Promise.all([
    stateAt(db, p, now),
    citationsOf(db, p.id),
    approvalsOf(db, p.id),
    p.votingStarts === null ? null : proposalTally(db, p),
  ]);
  return jsonSafe({
    id: p.id,
    proposer: p.proposer,
    kind: p.kind,
    mode: p.mode,
    title: p.title,
    description: p.description,
    payload: JSON.parse(p.payload),
    contentHash: p.contentHash,
    citations,
    state,
    storedState: p.state,
    createdAt: p.createdAt,
    reviewEnds: p.reviewEnds,
    votingStarts: p.votingStarts,
    votingEnds: p.votingEnds,
    eta: p.eta,
    expiresAt: p.expiresAt,
    executedAt: p.executedAt,
    cancelledAt: p.cancelledAt,
    rejectedAt: p.rejectedAt,
    rejectReason: p.rejectReason,
    tally: counted && { ...counted.tally, quorumReached: counted.quorumReached, passed: counted.passed },
    approvals,
  }) as z.infer<typeof ProposalSchema>;
}

async function mustGetProposal(db: Database, id: string) {
  const p = await getProposal(db, id);
  if (!p) throw apiError("unknown_proposal", `No proposal "${id}"`);
  return p;
}

const sameProposal = (path: string, signed: string) => {
  if (path !== signed) throw apiError("invalid_field", `Field "message.proposal" must be the proposal of the path (${path})`);
};

const idPath = z.object({ id: idParam("id", "prop_0123456789abcdef") });
const ProposalAnswer = OperationSchema.extend({ proposal: ProposalSchema });

const parametersRoute = createRoute({
  method: "get",
  path: "/parameters",
  tags,
  summary: "The governed parameters: value in force, default, bounds, and executed changes pending with their epoch",
  responses: {
    200: jsonAnswer(
      z
        .object({
          epoch: z.number().int(),
          parameters: z.array(
            z.object({
              name: z.string(),
              value: minorUnits,
              default: minorUnits,
              min: minorUnits,
              max: minorUnits,
              pending: z.array(z.object({ value: minorUnits, effectiveEpoch: z.number().int(), proposalId: z.string() })),
            }),
          ),
        })
        .openapi("GovernedParameters"),
      "The parameters",
    ),
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/proposals",
  tags,
  summary: "Proposals, newest first (by stored state, optionally)",
  request: { query: z.object({ state: z.string().max(20).optional(), cursor: numericCursor, limit: pageLimit }) },
  responses: {
    200: jsonAnswer(
      z.object({ proposals: z.array(ProposalSchema), next: z.number().int().nullable() }).openapi("ProposalPage"),
      "A page of proposals",
    ),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/proposals/{id}",
  tags,
  summary: "A proposal: its state now, mode, content hash, citations, tally and council approvals",
  request: { params: idPath },
  responses: { 200: jsonAnswer(ProposalSchema, "The proposal") },
});

const votesRoute = createRoute({
  method: "get",
  path: "/proposals/{id}/votes",
  tags,
  summary: "A proposal's snapshot (power per holder at voting's opening) and signed votes: enough to recount it",
  request: { params: idPath },
  responses: {
    200: jsonAnswer(
      z
        .object({
          proposal: z.string(),
          snapshot: z.array(
            z.object({ holder: z.string(), power: minorUnits, bonded: minorUnits, delegate: z.string().nullable() }),
          ),
          votes: z.array(
            z.object({
              voter: z.string(),
              support: z.number().int(),
              votes: minorUnits,
              signature: z.string(),
              castAt: z.number().int(),
            }),
          ),
        })
        .openapi("ProposalVotes"),
      "Snapshot and votes",
    ),
  },
});

const signedRoute = <S extends z.ZodType>(path: string, schema: S, name: string, summary: string, withId: boolean) =>
  createRoute({
    method: "post",
    path,
    tags,
    summary,
    ...(withId ? { request: { params: idPath } } : {}),
    middleware: [jsonBody(signedEnvelope(schema, name), MAX_SIGNED_BODY_BYTES)] as const,
    responses: { 200: jsonAnswer(OperationSchema, "Already done"), 201: jsonAnswer(OperationSchema, "Done") },
  });

const proposeRoute = createRoute({
  method: "post",
  path: "/proposals",
  tags,
  summary: "Submit a proposal (EIP-712 `Propose`): needs the proposal threshold of voting power; citations are earlier proposals",
  middleware: [jsonBody(signedEnvelope(ProposeMessage, "SignedPropose"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(ProposalAnswer, "Already submitted"), 201: jsonAnswer(ProposalAnswer, "Submitted, in review") },
});

const cancelRoute = signedRoute(
  "/proposals/{id}/cancel",
  CancelMessage,
  "SignedCancelProposal",
  "The proposer cancels a proposal in review (EIP-712 `CancelProposal`)",
  true,
);
const rejectRoute = signedRoute(
  "/proposals/{id}/reject",
  RejectMessage,
  "SignedCouncilReject",
  "A council member rejects a proposal in review, with a reason (EIP-712 `CouncilReject`)",
  true,
);
const approveRoute = signedRoute(
  "/proposals/{id}/approve",
  ApproveMessage,
  "SignedCouncilApprove",
  "A council member approves a treasury spend (EIP-712 `CouncilApprove`); large spends need M of N",
  true,
);
const voteRoute = signedRoute(
  "/votes",
  VoteMessage,
  "SignedVote",
  "Vote on a proposal in voting (EIP-712 `Vote`): one per holder per proposal",
  false,
);
const delegateRoute = signedRoute(
  "/delegations",
  DelegateMessage,
  "SignedDelegate",
  'Delegate voting power to an address, or "" to undelegate (EIP-712 `Delegate`)',
  false,
);

const advanceRoute = createRoute({
  method: "post",
  path: "/proposals/{id}/advance",
  tags,
  summary: "Make the steps time has made due (open voting with its snapshot, record the result and queue, expire); anyone may",
  request: { params: idPath },
  responses: { 200: jsonAnswer(z.object({ proposal: ProposalSchema }), "The proposal after") },
});

const executeRoute = createRoute({
  method: "post",
  path: "/proposals/{id}/execute",
  tags,
  summary: "Execute a queued proposal after its timelock, within the grace period; anyone may. Nothing leaves the ledger",
  request: { params: idPath },
  responses: { 200: jsonAnswer(ProposalAnswer, "Already executed"), 201: jsonAnswer(ProposalAnswer, "Executed") },
});

const delegationRoute = createRoute({
  method: "get",
  path: "/delegations/{holder}",
  tags,
  summary: "Whom a holder delegates to (null: nobody)",
  request: { params: z.object({ holder: holder.openapi({ param: { name: "holder", in: "path" } }) }) },
  responses: {
    200: jsonAnswer(z.object({ holder: z.string(), delegate: z.string().nullable() }).openapi("Delegation"), "The delegation"),
  },
});

const councilRoute = createRoute({
  method: "get",
  path: "/council",
  tags,
  summary: "The council in office: members, the signatures (M) large spends need, the election that chose it",
  responses: {
    200: jsonAnswer(
      z
        .object({
          members: z.array(z.string()),
          signatures: z.number().int(),
          proposalId: z.string().nullable(),
          since: z.number().int().nullable(),
        })
        .openapi("Council"),
      "The council",
    ),
  },
});

const timeQuery = (name: string) =>
  z
    .string()
    .regex(/^\d{1,16}$/, { error: "must be unix milliseconds" })
    .transform(Number)
    .openapi({ param: { name, in: "query" }, type: "string", description: "Unix milliseconds" });

const activityRoute = createRoute({
  method: "get",
  path: "/activity",
  tags,
  summary:
    "Per holder within [from, to]: votes cast, proposals made, proposals adopted (what activity-based revenue sharing counts)",
  request: { query: z.object({ from: timeQuery("from"), to: timeQuery("to") }) },
  responses: {
    200: jsonAnswer(
      z
        .object({
          from: z.number().int(),
          to: z.number().int(),
          holders: z.array(
            z.object({
              holder: z.string(),
              votesCast: z.number().int(),
              proposalsMade: z.number().int(),
              proposalsAdopted: z.number().int(),
            }),
          ),
        })
        .openapi("GovernanceActivity"),
      "Activity",
    ),
  },
});

export const governanceApp = openApiApp()
  .openapi(parametersRoute, async (c) => {
    // The configuration, not the governed one, so each parameter's `default` is the configured value.
    const view = await governedParametersView(c.var.db, gatewayConfig(c.env), Date.now());
    return c.json(jsonSafe(view) as never, 200);
  })
  .openapi(listRoute, async (c) => {
    const { state, cursor, limit } = c.req.valid("query");
    const now = Date.now();
    const page = await listProposals(c.var.db, { state, before: cursor, limit });
    const list = [];
    for (const p of page.proposals) list.push(await proposalJson(c.var.db, p, now));
    return c.json({ proposals: list, next: page.next }, 200);
  })
  .openapi(getRoute, async (c) => {
    const p = await mustGetProposal(c.var.db, c.req.valid("param").id);
    return c.json(await proposalJson(c.var.db, p, Date.now()), 200);
  })
  .openapi(votesRoute, async (c) => {
    const p = await mustGetProposal(c.var.db, c.req.valid("param").id);
    const [snapshot, votes] = await Promise.all([snapshotOf(c.var.db, p.id), votesOf(c.var.db, p.id)]);
    const answer = jsonSafe({
      proposal: p.id,
      snapshot,
      votes: votes.map((v) => ({
        voter: v.voter,
        support: v.support,
        votes: String(v.votes),
        signature: v.signature,
        castAt: v.castAt,
      })),
    });
    return c.json(answer as never, 200);
  })
  .openapi(proposeRoute, async (c) => {
    const { db, config } = c.var;
    const now = Date.now();
    const body = c.var.body;
    const proposer = await verifyGovernance(config, "Propose", body, now);
    const m = body.message;
    const operation = `${proposer}/${m.id}`;
    const outcome = await propose(
      db,
      config,
      {
        operation,
        proposer,
        kind: m.kind as ProposalKind,
        title: m.title,
        description: m.description,
        payload: m.payload,
        citations: m.citations,
      },
      now,
    );
    const id = outcome.alreadyDone ? proposalIdOf(operation) : outcome.result.proposal;
    return operationAnswer(c, operation, outcome, { proposal: await proposalJson(db, await mustGetProposal(db, id), now) });
  })
  .openapi(cancelRoute, async (c) => {
    const now = Date.now();
    const by = await verifyGovernance(c.var.config, "CancelProposal", c.var.body, now);
    sameProposal(c.req.param("id") ?? "", c.var.body.message.proposal);
    const outcome = await cancelProposal(c.var.db, { proposal: c.var.body.message.proposal, by }, now);
    return operationAnswer(c, `gov/cancel/${c.var.body.message.proposal}`, outcome);
  })
  .openapi(rejectRoute, async (c) => {
    const now = Date.now();
    const member = await verifyGovernance(c.var.config, "CouncilReject", c.var.body, now);
    const m = c.var.body.message;
    sameProposal(c.req.param("id") ?? "", m.proposal);
    const outcome = await rejectProposal(c.var.db, c.var.config, { proposal: m.proposal, member, reason: m.reason }, now);
    return operationAnswer(c, `gov/reject/${m.proposal}`, outcome);
  })
  .openapi(approveRoute, async (c) => {
    const now = Date.now();
    const member = await verifyGovernance(c.var.config, "CouncilApprove", c.var.body, now);
    const m = c.var.body.message;
    sameProposal(c.req.param("id") ?? "", m.proposal);
    const outcome = await approveSpend(c.var.db, c.var.config, { proposal: m.proposal, member }, now);
    return operationAnswer(c, `${member}/approve/${m.proposal}`, outcome);
  })
  .openapi(voteRoute, async (c) => {
    const now = Date.now();
    const voter = await verifyGovernance(c.var.config, "Vote", c.var.body, now);
    const m = c.var.body.message;
    const outcome = await castVote(
      c.var.db,
      { proposal: m.proposal, voter, support: m.support as Support, votes: m.votes, signature: c.var.body.signature },
      now,
    );
    return operationAnswer(c, `${voter}/vote/${m.proposal}`, outcome);
  })
  .openapi(delegateRoute, async (c) => {
    const now = Date.now();
    const holderAddress = await verifyGovernance(c.var.config, "Delegate", c.var.body, now);
    const m = c.var.body.message;
    const operation = `${holderAddress}/${m.id}`;
    const outcome = await delegateVotes(
      c.var.db,
      { operation, holder: holderAddress, delegate: m.delegate.toLowerCase() || null },
      now,
    );
    return operationAnswer(c, operation, outcome);
  })
  .openapi(advanceRoute, async (c) => {
    const now = Date.now();
    const id = c.req.valid("param").id;
    await mustGetProposal(c.var.db, id);
    await advanceProposal(c.var.db, c.var.config, id, now);
    return c.json({ proposal: await proposalJson(c.var.db, await mustGetProposal(c.var.db, id), now) }, 200);
  })
  .openapi(executeRoute, async (c) => {
    const now = Date.now();
    const id = c.req.valid("param").id;
    const outcome = await executeProposal(c.var.db, c.var.config, id, now);
    return operationAnswer(c, `gov/execute/${id}`, outcome, {
      proposal: await proposalJson(c.var.db, await mustGetProposal(c.var.db, id), now),
    });
  })
  .openapi(delegationRoute, async (c) => {
    const { holder: h } = c.req.valid("param");
    return c.json({ holder: h, delegate: await delegationOf(c.var.db, h) }, 200);
  })
  .openapi(councilRoute, async (c) => {
    const council = await currentCouncil(c.var.db, { members: c.var.config.council, signatures: c.var.config.councilSignatures });
    return c.json(council, 200);
  })
  .openapi(activityRoute, async (c) => {
    const { from, to } = c.req.valid("query");
    if (to < from) throw apiError("invalid_field", 'Query parameter "to" must not be before "from"');
    return c.json({ from, to, holders: await governanceActivity(c.var.db, from, to) }, 200);
  });
