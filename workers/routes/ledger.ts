/**
 * `/v1/ledger`: the internal DB-CPTM ledger. Public reads: a holder's accounts, one account,
 * transfers (paginated, newest first), supply. Writes: the admin's mint (v0's only way in) and
 * holder-to-holder transfers signed by the sender (EIP-712 `Transfer`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  availableOf,
  BURN_ACCOUNT,
  balanceAccount,
  ISSUANCE_ACCOUNT,
  REWARD_POOL_ACCOUNT,
  TREASURY_ACCOUNT,
} from "../../protocol/ledger.js";
import { type Account, accountsOfOwner, getAccount, getAccounts, listTransfers, type StoredTransfer } from "../db/ledger.js";
import { mint, transfer } from "../economy/transfers.js";
import { jsonSafe } from "../http/json-safe.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { amount, holder, jsonAnswer, minorUnits, numericCursor, operationId, pageLimit } from "../http/schemas/common.js";
import { OperationSchema, operationAnswer } from "../http/schemas/economy.js";
import { signedEnvelope, TransferMessage } from "../http/schemas/signed.js";
import { MAX_SIGNED_BODY_BYTES, verifyEconomyAction } from "../http/signed.js";
import { requireAdmin } from "../middleware/auth.js";
import { notInV0App } from "./not-in-v0.js";

export const accountJson = (a: Account) => ({
  id: a.id,
  kind: a.kind,
  owner: a.owner,
  balance: (a.creditsPosted - a.debitsPosted).toString(),
  available: availableOf(a).toString(),
  pendingOut: a.debitsPending.toString(),
  pendingIn: a.creditsPending.toString(),
});

export const transferJson = (t: StoredTransfer) => jsonSafe(t) as z.infer<typeof TransferSchema>;

export const AccountSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    owner: z.string().nullable(),
    balance: minorUnits,
    available: minorUnits,
    pendingOut: minorUnits,
    pendingIn: minorUnits,
  })
  .openapi("Account");

export const TransferSchema = z
  .looseObject({
    id: z.string(),
    debitAccount: z.string(),
    creditAccount: z.string(),
    amount: minorUnits,
    seq: z.number().int(),
    createdAt: z.number().int(),
  })
  .openapi("Transfer");

const tags = ["economy"];
const holderParam = z.object({ holder: holder.openapi({ param: { name: "holder", in: "path" } }) });

const supplyRoute = createRoute({
  method: "get",
  path: "/supply",
  tags,
  summary: "Minted, burned, supply, treasury, reward pool",
  responses: {
    200: jsonAnswer(
      z
        .object({ minted: minorUnits, burned: minorUnits, supply: minorUnits, treasury: minorUnits, rewardPool: minorUnits })
        .openapi("Supply"),
      "The supply",
    ),
  },
});

const holderRoute = createRoute({
  method: "get",
  path: "/holders/{holder}",
  tags,
  summary: "A holder's balance and accounts",
  request: { params: holderParam },
  responses: {
    200: jsonAnswer(
      z.object({ holder: z.string(), balance: AccountSchema, accounts: z.array(AccountSchema) }).openapi("Holder"),
      "The holder",
    ),
  },
});

const accountRoute = createRoute({
  method: "get",
  path: "/accounts/{id}",
  tags,
  summary: "One account's totals",
  request: {
    params: z.object({
      id: z
        .string()
        .regex(/^(system|balance|pool|licence|clearing):[\w:.-]{1,120}$/, { error: "is not a ledger account id" })
        .openapi({ param: { name: "id", in: "path" }, example: "system:treasury" }),
    }),
  },
  responses: { 200: jsonAnswer(AccountSchema, "The account") },
});

const transfersRoute = createRoute({
  method: "get",
  path: "/transfers",
  tags,
  summary: "Transfers, newest first, paginated",
  request: {
    query: z.object({ account: z.string().optional(), cursor: numericCursor, limit: pageLimit }),
  },
  responses: {
    200: jsonAnswer(
      z.object({ transfers: z.array(TransferSchema), next: z.number().int().nullable() }).openapi("TransferPage"),
      "A page",
    ),
  },
});

const mintRoute = createRoute({
  method: "post",
  path: "/mint",
  tags,
  summary: "Grant DB-CPTM to a holder (admin; v0's only way in)",
  security: [{ bearer: [] }],
  middleware: [
    requireAdmin,
    jsonBody(z.object({ id: operationId, holder, amount: amount() }).openapi("Mint"), 4 * 1024),
  ] as const,
  responses: { 200: jsonAnswer(OperationSchema, "Already done"), 201: jsonAnswer(OperationSchema, "Minted") },
});

const transferRoute = createRoute({
  method: "post",
  path: "/transfers",
  tags,
  summary: "Transfer from the signer's balance (EIP-712 `Transfer`)",
  middleware: [jsonBody(signedEnvelope(TransferMessage, "SignedTransfer"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(OperationSchema, "Already done"), 201: jsonAnswer(OperationSchema, "Transferred") },
});

export const ledgerApp = openApiApp()
  // v0 has no way out of the ledger: /v1/ledger/withdrawals and the like answer 501.
  .route("/", notInV0App)
  .openapi(supplyRoute, async (c) => {
    const db = c.var.db;
    const a = await getAccounts(db, [ISSUANCE_ACCOUNT, BURN_ACCOUNT, TREASURY_ACCOUNT, REWARD_POOL_ACCOUNT]);
    const minted = (a.get(ISSUANCE_ACCOUNT) as Account).debitsPosted - (a.get(ISSUANCE_ACCOUNT) as Account).creditsPosted;
    const burned = (a.get(BURN_ACCOUNT) as Account).creditsPosted;
    return c.json(
      {
        minted: minted.toString(),
        burned: burned.toString(),
        supply: (minted - burned).toString(),
        treasury: availableOf(a.get(TREASURY_ACCOUNT) as Account).toString(),
        rewardPool: availableOf(a.get(REWARD_POOL_ACCOUNT) as Account).toString(),
      },
      200,
    );
  })
  .openapi(holderRoute, async (c) => {
    const db = c.var.db;
    const { holder } = c.req.valid("param");
    const balance = await getAccount(db, balanceAccount(holder));
    return c.json({ holder, balance: accountJson(balance), accounts: (await accountsOfOwner(db, holder)).map(accountJson) }, 200);
  })
  .openapi(accountRoute, async (c) => c.json(accountJson(await getAccount(c.var.db, c.req.valid("param").id)), 200))
  .openapi(transfersRoute, async (c) => {
    const { account, cursor, limit } = c.req.valid("query");
    const page = await listTransfers(c.var.db, { account, before: cursor, limit });
    return c.json({ transfers: page.transfers.map(transferJson), next: page.next }, 200);
  })
  .openapi(mintRoute, async (c) => {
    const r = c.var.body;
    const outcome = await mint(c.var.db, r, Date.now());
    return operationAnswer(c, `admin/mint/${r.id}`, outcome);
  })
  .openapi(transferRoute, async (c) => {
    const now = Date.now();
    const action = await verifyEconomyAction(c.var.config, "Transfer", c.var.body, now);
    const { to, amount } = action.values;
    const outcome = await transfer(c.var.db, { id: action.operation, from: action.signer, to, amount }, now);
    return operationAnswer(c, action.operation, outcome);
  });
