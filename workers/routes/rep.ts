/**
 * `/v1/rep`: REP, batch producers and validation pools (docs/rep.md). Public reads: a holder's
 * REP, every availability stake, the REP transfers (from which anyone recomputes a draw), and the
 * pools with their draw and votes (the "Forum"). Holders' writes are EIP-712 signed
 * (`RepEncumber`, `RepRelease`, `RepVote`, protocol/rep-messages.ts); the genesis pool is the
 * admin's, once. REP is not transferable: `POST /v1/rep/transfers` always answers 403.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Hex } from "viem";
import { availableOf } from "../../protocol/ledger.js";
import { repLiquidAccount, repStakeAccount } from "../../protocol/rep.js";
import { REP_SIGNER_FIELD, type RepAction, repTypes } from "../../protocol/rep-messages.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import {
  encumbranceSnapshot,
  getPool,
  getRepAccounts,
  listPools,
  listRepTransfers,
  type RepPool,
  releasesOf,
  type StoredRepTransfer,
  votesOf,
} from "../db/rep.js";
import { apiError } from "../errors.js";
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
import { requireAdmin } from "../middleware/auth.js";
import { vote } from "../rep/pools.js";
import { encumber, release, repGenesis } from "../rep/stakes.js";

/** Verifies a signed REP message: deadline, then signature; returns the signer and its namespaced operation id. */
async function verifyRepAction<M extends { id: string; deadline: bigint }>(
  config: GatewayConfig,
  action: RepAction,
  body: { message: M; signature: Hex },
  nowMs: number,
) {
  const signer = (body.message as Record<string, unknown>)[REP_SIGNER_FIELD[action]] as Hex;
  checkDeadline(body.message.deadline, nowMs);
  const envelope = { signature: body.signature, signer, nonce: 0n, deadline: body.message.deadline };
  await checkTypedSignature(config, repTypes, action, envelope, body.message, "holder");
  return { signer, operation: `${signer}/${body.message.id}`, values: body.message };
}

const RepAmountMessage = z.object({ holder: address, amount: amount(), id: operationId, deadline: amount() });
const RepVoteMessage = z.object({
  voter: address,
  pool: text(80),
  accept: z.boolean({ error: "must be true (accept) or false (reject)" }),
  stake: amount(),
  id: operationId,
  deadline: amount(),
});
const SignedRepAmount = signedEnvelope(RepAmountMessage, "SignedRepAmount");
const SignedRepVote = signedEnvelope(RepVoteMessage, "SignedRepVote");

const RepHolderSchema = z
  .object({
    holder: z.string(),
    liquid: minorUnits,
    encumbered: minorUnits,
    releasing: minorUnits,
    releases: z.array(
      z.object({
        id: z.string(),
        amount: minorUnits,
        startedAt: z.number().int(),
        maturesAt: z.number().int(),
        state: z.string(),
      }),
    ),
  })
  .openapi("RepHolder");

const RepTransferSchema = z
  .looseObject({
    seq: z.number().int(),
    id: z.string(),
    debitAccount: z.string(),
    creditAccount: z.string(),
    amount: minorUnits,
    phase: z.string(),
    code: z.string(),
    createdAt: z.number().int(),
  })
  .openapi("RepTransfer");

const RepPoolSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["batch", "genesis"]),
    seed: z.string().openapi({ description: 'keccak256("conductor-relay/rep-draw/" + batch id)' }),
    ledgerSeq: z.number().int().openapi({ description: "The last REP transfer the draw's weights include" }),
    candidates: z.array(z.object({ holder: z.string(), weight: minorUnits })),
    totalWeight: minorUnits,
    producer: z.string().nullable(),
    producerStake: minorUnits,
    supply: minorUnits,
    quorum: minorUnits,
    opensAt: z.number().int(),
    closesAt: z.number().int(),
    state: z.enum(["open", "accepted", "rejected", "tied", "no_quorum", "no_producer", "genesis"]),
    acceptStake: minorUnits,
    rejectStake: minorUnits,
    voters: z.number().int(),
    fees: minorUnits,
    minted: minorUnits,
    forfeited: minorUnits,
    resolvedAt: z.number().int().nullable(),
    producerReward: minorUnits.nullable(),
  })
  .openapi("RepPool");

const RepPoolDetailSchema = RepPoolSchema.extend({
  votes: z.array(
    z.object({
      voter: z.string(),
      accept: z.boolean(),
      stake: minorUnits,
      signature: z.string(),
      operation: z.string(),
      createdAt: z.number().int(),
    }),
  ),
}).openapi("RepPoolDetail");

const poolJson = (p: RepPool): z.infer<typeof RepPoolSchema> => ({
  id: p.id,
  kind: p.kind,
  seed: p.seed,
  ledgerSeq: p.ledgerSeq,
  candidates: (JSON.parse(p.candidates) as [string, string][]).map(([h, w]) => ({ holder: h, weight: w })),
  totalWeight: String(p.totalWeight),
  producer: p.producer,
  producerStake: String(p.producerStake),
  supply: String(p.supply),
  quorum: String(p.quorum),
  opensAt: p.opensAt,
  closesAt: p.closesAt,
  state: p.state,
  acceptStake: String(p.acceptStake),
  rejectStake: String(p.rejectStake),
  voters: p.voters,
  fees: String(p.fees),
  minted: String(p.minted),
  forfeited: String(p.forfeited),
  resolvedAt: p.resolvedAt,
  producerReward: p.producerReward === null ? null : String(p.producerReward),
});

async function poolDetail(db: Database, id: string) {
  const pool = await getPool(db, id);
  if (!pool) throw apiError("unknown_rep_pool", `No validation pool "${id}"`);
  const votes = (await votesOf(db, id)).map((v) => ({
    voter: v.voter,
    accept: v.accept === 1,
    stake: String(v.stake),
    signature: v.signature,
    operation: v.operation,
    createdAt: v.createdAt,
  }));
  return { ...poolJson(pool), votes };
}

async function holderJson(db: Database, who: string): Promise<z.infer<typeof RepHolderSchema>> {
  const a = await getRepAccounts(db, [repLiquidAccount(who), repStakeAccount(who)]);
  const liquid = a.get(repLiquidAccount(who));
  const stake = a.get(repStakeAccount(who));
  const releases = await releasesOf(db, who);
  return {
    holder: who,
    liquid: liquid ? availableOf(liquid).toString() : "0",
    encumbered: stake ? availableOf(stake).toString() : "0",
    releasing: stake ? stake.debitsPending.toString() : "0",
    releases: releases.map((r) => ({
      id: r.id,
      amount: String(r.amount),
      startedAt: r.startedAt,
      maturesAt: r.maturesAt,
      state: r.state,
    })),
  };
}

const tags = ["rep"];
const poolParams = z.object({ id: idParam("id", "0x5a1e...") });

const supplyRoute = createRoute({
  method: "get",
  path: "/supply",
  tags,
  summary: "REP minted (REP is never burned) and every availability stake, as the next draw would weigh them",
  responses: {
    200: jsonAnswer(
      z
        .object({
          supply: minorUnits,
          ledgerSeq: z.number().int(),
          stakes: z.array(z.object({ holder: z.string(), encumbered: minorUnits })),
        })
        .openapi("RepSupply"),
      "REP supply and stakes",
    ),
  },
});

const holderRoute = createRoute({
  method: "get",
  path: "/holders/{holder}",
  tags,
  summary: "A holder's REP: liquid, encumbered (its draw weight), being released",
  request: { params: z.object({ holder: holder.openapi({ param: { name: "holder", in: "path" } }) }) },
  responses: { 200: jsonAnswer(RepHolderSchema, "The holder's REP") },
});

const transfersRoute = createRoute({
  method: "get",
  path: "/transfers",
  tags,
  summary: "REP transfers, oldest first from `cursor` (a seq): enough to recompute every draw",
  request: { query: z.object({ account: z.string().max(140).optional(), cursor: numericCursor, limit: pageLimit }) },
  responses: {
    200: jsonAnswer(
      z.object({ transfers: z.array(RepTransferSchema), next: z.number().int().nullable() }).openapi("RepTransferPage"),
      "A page",
    ),
  },
});

const noTransferRoute = createRoute({
  method: "post",
  path: "/transfers",
  tags,
  summary: "Refused: REP is not transferable (403 `rep_not_transferable`)",
  responses: { 403: jsonAnswer(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), "Refused") },
});

const RepOperation = OperationSchema.extend({ holder: RepHolderSchema });

const encumberRoute = createRoute({
  method: "post",
  path: "/encumber",
  tags,
  summary: "Encumber liquid REP in the signer's availability stake (EIP-712 `RepEncumber`)",
  middleware: [jsonBody(SignedRepAmount, MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(RepOperation, "Already done"), 201: jsonAnswer(RepOperation, "Encumbered") },
});

const releaseRoute = createRoute({
  method: "post",
  path: "/release",
  tags,
  summary: "Release encumbered REP: it stops weighing at once and returns after REP_RELEASE_SECONDS (EIP-712 `RepRelease`)",
  middleware: [jsonBody(SignedRepAmount, MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(RepOperation, "Already done"), 201: jsonAnswer(RepOperation, "Releasing") },
});

const poolsRoute = createRoute({
  method: "get",
  path: "/pools",
  tags,
  summary: "The Forum: validation pools, newest first, with their draw and result",
  request: { query: z.object({ cursor: numericCursor, limit: pageLimit }) },
  responses: {
    200: jsonAnswer(
      z.object({ pools: z.array(RepPoolSchema), next: z.number().int().nullable() }).openapi("RepPoolPage"),
      "A page",
    ),
  },
});

const poolRoute = createRoute({
  method: "get",
  path: "/pools/{id}",
  tags,
  summary: "One pool (a batch id, or `genesis`): the draw, every signed vote, the result",
  request: { params: poolParams },
  responses: { 200: jsonAnswer(RepPoolDetailSchema, "The pool") },
});

const voteRoute = createRoute({
  method: "post",
  path: "/pools/{id}/votes",
  tags,
  summary: "Vote accept or reject on a batch, staking liquid REP (EIP-712 `RepVote`; not the producer)",
  request: { params: poolParams },
  middleware: [jsonBody(SignedRepVote, MAX_SIGNED_BODY_BYTES)] as const,
  responses: {
    200: jsonAnswer(OperationSchema.extend({ pool: RepPoolDetailSchema }), "Already done"),
    201: jsonAnswer(OperationSchema.extend({ pool: RepPoolDetailSchema }), "Voted"),
  },
});

const genesisRoute = createRoute({
  method: "post",
  path: "/genesis",
  tags,
  summary: "The genesis pool: mint the initial REP allocation, once (admin)",
  security: [{ bearer: [] }],
  middleware: [
    requireAdmin,
    jsonBody(
      z
        .object({
          allocations: z
            .array(z.object({ holder: address, amount: amount() }))
            .min(1)
            .max(64),
        })
        .openapi("RepGenesis"),
      16 * 1024,
    ),
  ] as const,
  responses: { 200: jsonAnswer(OperationSchema, "Already done"), 201: jsonAnswer(OperationSchema, "Minted") },
});

export const repApp = openApiApp()
  .openapi(supplyRoute, async (c) => {
    const snapshot = await encumbranceSnapshot(c.var.db);
    return c.json(
      {
        supply: snapshot.supply.toString(),
        ledgerSeq: snapshot.ledgerSeq,
        stakes: snapshot.stakes
          .map((a) => ({ holder: a.owner as string, encumbered: availableOf(a).toString() }))
          .filter((s) => s.encumbered !== "0"),
      },
      200,
    );
  })
  .openapi(holderRoute, async (c) => c.json(await holderJson(c.var.db, c.req.valid("param").holder), 200))
  .openapi(transfersRoute, async (c) => {
    const { account, cursor, limit } = c.req.valid("query");
    const page = await listRepTransfers(c.var.db, { account, after: cursor, limit });
    return c.json(
      {
        transfers: page.transfers.map((t: StoredRepTransfer) => jsonSafe(t) as z.infer<typeof RepTransferSchema>),
        next: page.next,
      },
      200,
    );
  })
  .openapi(noTransferRoute, () => {
    throw apiError("rep_not_transferable", "REP is reputation: it cannot be transferred, only earned in validation pools");
  })
  .openapi(encumberRoute, async (c) => {
    const now = Date.now();
    const signed = await verifyRepAction(c.var.config, "RepEncumber", c.var.body, now);
    const outcome = await encumber(c.var.db, { id: signed.operation, holder: signed.signer, amount: signed.values.amount }, now);
    return operationAnswer(c, signed.operation, outcome, { holder: await holderJson(c.var.db, signed.signer) });
  })
  .openapi(releaseRoute, async (c) => {
    const now = Date.now();
    const signed = await verifyRepAction(c.var.config, "RepRelease", c.var.body, now);
    const outcome = await release(
      c.var.db,
      c.var.config,
      { id: signed.operation, holder: signed.signer, amount: signed.values.amount },
      now,
    );
    return operationAnswer(c, signed.operation, outcome, { holder: await holderJson(c.var.db, signed.signer) });
  })
  .openapi(poolsRoute, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const page = await listPools(c.var.db, { before: cursor, limit });
    return c.json({ pools: page.pools.map(poolJson), next: page.next }, 200);
  })
  .openapi(poolRoute, async (c) => c.json(await poolDetail(c.var.db, c.req.valid("param").id), 200))
  .openapi(voteRoute, async (c) => {
    const now = Date.now();
    const { id } = c.req.valid("param");
    const signed = await verifyRepAction(c.var.config, "RepVote", c.var.body, now);
    if (signed.values.pool !== id) throw apiError("invalid_field", `Field "pool" must be the pool of the path (${id})`);
    const outcome = await vote(
      c.var.db,
      {
        id: signed.operation,
        voter: signed.signer,
        pool: id,
        accept: signed.values.accept,
        stake: signed.values.stake,
        signature: c.var.body.signature,
      },
      now,
    );
    return operationAnswer(c, signed.operation, outcome, { pool: await poolDetail(c.var.db, id) });
  })
  .openapi(genesisRoute, async (c) => {
    const outcome = await repGenesis(c.var.db, c.var.body.allocations, Date.now());
    return operationAnswer(c, "admin/rep-genesis", outcome);
  });
