/**
 * `/v1/ledger`: the internal DB-CPTM ledger. Public reads: a holder's accounts, one account,
 * transfers (paginated, newest first), supply. Writes: the admin's mint (v0's only way in) and
 * holder-to-holder transfers signed by the sender (EIP-712 `Transfer`).
 */
import { Hono } from "hono";
import {
  availableOf,
  BURN_ACCOUNT,
  balanceAccount,
  ISSUANCE_ACCOUNT,
  REWARD_POOL_ACCOUNT,
  TREASURY_ACCOUNT,
} from "../../protocol/ledger.js";
import type { AppEnv } from "../app-env.js";
import { type Account, accountsOfOwner, getAccount, getAccounts, listTransfers, type StoredTransfer } from "../db/ledger.js";
import { mint, transfer } from "../economy/transfers.js";
import { apiError } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import { amountField, holderValue, jsonSafe, OPERATION_ID, operationResponse, pageLimit, stringField } from "../http/fields.js";
import { readEconomyAction } from "../http/signed.js";
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

export const transferJson = (t: StoredTransfer) => jsonSafe(t);

export const ledgerApp = new Hono<AppEnv>()
  // v0 has no way out of the ledger: /v1/ledger/withdrawals and the like answer 501.
  .route("/", notInV0App)
  .get("/supply", async (c) => {
    const db = c.var.db;
    const a = await getAccounts(db, [ISSUANCE_ACCOUNT, BURN_ACCOUNT, TREASURY_ACCOUNT, REWARD_POOL_ACCOUNT]);
    const minted = (a.get(ISSUANCE_ACCOUNT) as Account).debitsPosted - (a.get(ISSUANCE_ACCOUNT) as Account).creditsPosted;
    const burned = (a.get(BURN_ACCOUNT) as Account).creditsPosted;
    return c.json({
      minted: minted.toString(),
      burned: burned.toString(),
      supply: (minted - burned).toString(),
      treasury: availableOf(a.get(TREASURY_ACCOUNT) as Account).toString(),
      rewardPool: availableOf(a.get(REWARD_POOL_ACCOUNT) as Account).toString(),
    });
  })
  .get("/holders/:holder", async (c) => {
    const db = c.var.db;
    const holder = holderValue(c.req.param("holder"));
    const balance = await getAccount(db, balanceAccount(holder));
    return c.json({ holder, balance: accountJson(balance), accounts: (await accountsOfOwner(db, holder)).map(accountJson) });
  })
  .get("/accounts/:id", async (c) => {
    const id = c.req.param("id");
    if (!/^(system|balance|pool|licence|clearing):[\w:.-]{1,120}$/.test(id))
      throw apiError("invalid_field", "Not a ledger account id");
    return c.json(accountJson(await getAccount(c.var.db, id)));
  })
  .get("/transfers", async (c) => {
    const cursor = c.req.query("cursor");
    const before = cursor === undefined ? undefined : Number(cursor);
    if (before !== undefined && !Number.isSafeInteger(before))
      throw apiError("invalid_field", '"cursor" is not a cursor from a previous page');
    const page = await listTransfers(c.var.db, {
      account: c.req.query("account"),
      before,
      limit: pageLimit(c.req.query("limit")),
    });
    return c.json({ transfers: page.transfers.map(transferJson), next: page.next });
  })
  .post("/mint", requireAdmin, async (c) => {
    const body = await readJsonObject(c.req.raw, 4 * 1024);
    const r = {
      id: stringField(body, "id", { max: 64, pattern: OPERATION_ID }),
      holder: holderValue(stringField(body, "holder", { max: 64 })),
      amount: amountField(body, "amount"),
    };
    const outcome = await mint(c.var.db, r, Date.now());
    return operationResponse(`admin/mint/${r.id}`, outcome);
  })
  .post("/transfers", async (c) => {
    const config = c.var.config;
    const now = Date.now();
    const action = await readEconomyAction(
      c.req.raw,
      config,
      "Transfer",
      (m) => ({ to: holderValue(stringField(m, "to", { max: 64 }), "to"), amount: amountField(m, "amount") }),
      now,
    );
    const outcome = await transfer(c.var.db, { id: action.operation, from: action.signer, ...action.values }, now);
    return operationResponse(action.operation, outcome);
  });
