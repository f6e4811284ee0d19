/**
 * `/v1/ledger` (governance v0, money side): public reads of the ledger roots committed on-chain,
 * a holder's balance proof against one, and a holder's revenue-sharing payouts (locked or paid).
 * Mounted beside `ledger.ts` under the same prefix.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ACTIVITY_WEIGHTS } from "../../protocol/revenue-sharing.js";
import type { LedgerRoot } from "../db/ledger-roots.js";
import { getLedgerRoot, listLedgerRoots } from "../db/ledger-roots.js";
import { payoutsOfHolder } from "../db/revenue.js";
import { ledgerBalanceProof } from "../economy/ledger-root.js";
import { apiError } from "../errors.js";
import { openApiApp } from "../http/openapi.js";
import { holder, jsonAnswer, minorUnits, pageLimit } from "../http/schemas/common.js";

const tags = ["economy"];
const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/);

const LedgerRootSchema = z
  .object({
    epoch: z.number().int(),
    root: bytes32,
    holders: z.number().int(),
    leafVersion: z.number().int(),
    throughSeq: z.number().int().openapi({ description: "Transfers with seq up to this one are in the epoch's balances" }),
    createdAt: z.number().int(),
    state: z.enum(["pending", "committed"]),
    tx: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable().openapi({ description: "Why the last attempt to commit it failed (it is retried)" }),
    committedAt: z.number().int().nullable(),
  })
  .openapi("LedgerRoot");

const rootJson = (r: LedgerRoot) => ({
  epoch: r.epoch,
  root: r.root,
  holders: r.holders,
  leafVersion: r.leafVersion,
  throughSeq: r.throughSeq,
  createdAt: r.createdAt,
  state: r.state,
  tx: r.tx,
  attempts: r.attempts,
  lastError: r.lastError,
  committedAt: r.committedAt,
});

const epochQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const epoch = Number(raw);
    if (!Number.isSafeInteger(epoch) || epoch < 1) {
      ctx.addIssue({ code: "custom", message: "must be a positive integer" });
      return z.NEVER;
    }
    return epoch;
  })
  .openapi({ type: "integer", minimum: 1, description: "The epoch (default: the latest)" });

const rootsRoute = createRoute({
  method: "get",
  path: "/roots",
  tags,
  summary: "Ledger roots, newest first",
  request: { query: z.object({ limit: pageLimit }) },
  responses: { 200: jsonAnswer(z.object({ roots: z.array(LedgerRootSchema) }).openapi("LedgerRootList"), "The roots") },
});

const rootRoute = createRoute({
  method: "get",
  path: "/roots/{epoch}",
  tags,
  summary: "The ledger root of one epoch",
  request: { params: z.object({ epoch: z.string().openapi({ param: { name: "epoch", in: "path" }, example: "1" }) }) },
  responses: { 200: jsonAnswer(LedgerRootSchema, "The root") },
});

const proofRoute = createRoute({
  method: "get",
  path: "/balance-proofs/{holder}",
  tags,
  summary: "A holder's balance and its inclusion proof in a ledger root (check with ProofRegistry.verifyLedgerBalance)",
  request: {
    params: z.object({ holder: holder.openapi({ param: { name: "holder", in: "path" } }) }),
    query: z.object({ epoch: epochQuery }),
  },
  responses: {
    200: jsonAnswer(
      z
        .object({
          epoch: z.number().int(),
          root: bytes32,
          leafVersion: z.number().int(),
          holder: z.string(),
          holderKey: bytes32,
          asset: z.string(),
          assetKey: bytes32,
          balance: minorUnits,
          leaf: bytes32,
          proof: z.array(bytes32),
          committed: z.boolean(),
          tx: z.string().nullable(),
        })
        .openapi("LedgerBalanceProof"),
      "The proof",
    ),
  },
});

const payoutsRoute = createRoute({
  method: "get",
  path: "/revenue-payouts/{holder}",
  tags,
  summary: "A holder's revenue-sharing payouts: locked (pending transfers) first, then paid",
  request: {
    params: z.object({ holder: holder.openapi({ param: { name: "holder", in: "path" } }) }),
    query: z.object({ limit: pageLimit }),
  },
  responses: {
    200: jsonAnswer(
      z
        .object({
          holder: z.string(),
          locked: minorUnits.openapi({ description: "Sum of the locked payouts listed" }),
          activityWeights: z.object({ votesCast: z.number(), proposalsMade: z.number(), proposalsAdopted: z.number() }),
          payouts: z.array(
            z.object({
              transfer: z.string(),
              distribution: z.string(),
              amount: minorUnits,
              stakePart: minorUnits,
              activityPart: minorUnits,
              maturesAt: z.number().int(),
              state: z.enum(["locked", "paid"]),
              paidAt: z.number().int().nullable(),
            }),
          ),
        })
        .openapi("RevenuePayouts"),
      "The payouts",
    ),
  },
});

export const ledgerRootsApp = openApiApp()
  .openapi(rootsRoute, async (c) =>
    c.json({ roots: (await listLedgerRoots(c.var.db, c.req.valid("query").limit)).map(rootJson) }, 200),
  )
  .openapi(rootRoute, async (c) => {
    const raw = c.req.valid("param").epoch;
    const epoch = Number(raw);
    const root = Number.isSafeInteger(epoch) && epoch > 0 ? await getLedgerRoot(c.var.db, epoch) : null;
    if (!root) throw apiError("unknown_ledger_root", `No ledger root for epoch "${raw}"`);
    return c.json(rootJson(root), 200);
  })
  .openapi(proofRoute, async (c) => {
    const p = await ledgerBalanceProof(c.var.db, c.req.valid("param").holder, c.req.valid("query").epoch);
    return c.json({ ...p, balance: p.balance.toString() }, 200);
  })
  .openapi(payoutsRoute, async (c) => {
    const { holder: who } = c.req.valid("param");
    const payouts = await payoutsOfHolder(c.var.db, who, c.req.valid("query").limit);
    return c.json(
      {
        holder: who,
        locked: payouts
          .filter((p) => p.state === "locked")
          .reduce((n, p) => n + p.amount, 0n)
          .toString(),
        activityWeights: {
          votesCast: Number(ACTIVITY_WEIGHTS.votesCast),
          proposalsMade: Number(ACTIVITY_WEIGHTS.proposalsMade),
          proposalsAdopted: Number(ACTIVITY_WEIGHTS.proposalsAdopted),
        },
        payouts: payouts.map((p) => ({
          transfer: p.transferId,
          distribution: p.distribution,
          amount: p.amount.toString(),
          stakePart: p.stakePart.toString(),
          activityPart: p.activityPart.toString(),
          maturesAt: p.maturesAt,
          state: p.state,
          paidAt: p.paidAt,
        })),
      },
      200,
    );
  });
