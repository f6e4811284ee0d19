/**
 * v0 is internal only (docs/economy.md): DB-CPTM never leaves the ledger. Routes that look
 * like a way out answer 501 `not_available_in_v0`, whatever the method, and change nothing.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { apiError } from "../errors.js";

/** Resource names under `/v1` (and `/v1/ledger`) that would move value out of the ledger. */
export const NOT_IN_V0 = ["withdrawals", "withdraw", "bridge", "cash-out", "cashout", "wallets", "wallet", "payouts"];

const notAvailable = (what: string) =>
  apiError(
    "not_available_in_v0",
    `${what} is not available in v0: DB-CPTM lives only in the gateway's internal ledger (no withdrawal, bridge, cash-out or wallet). See docs/economy.md.`,
  );

export const notInV0App = new Hono<AppEnv>();
for (const name of NOT_IN_V0) {
  notInV0App.all(`/${name}`, () => {
    throw notAvailable(`/${name}`);
  });
  notInV0App.all(`/${name}/*`, () => {
    throw notAvailable(`/${name}`);
  });
}
