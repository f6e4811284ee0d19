/**
 * A fresh economy database for Node tests of ledger operations: the real migrations on a libSQL
 * `file:` database behind the repository layer (the same SQL the Worker runs on D1), plus a
 * way to fund the treasury (in production only settlement and debt collection do).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations, libsqlClient, repositoryDatabase } from "../../dev/libsql.js";
import { ISSUANCE_ACCOUNT, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { readParameters } from "../../protocol/parameters.js";
import type { GatewayConfig } from "../../workers/config.js";
import type { Database } from "../../workers/db/database.js";
import { ledgerStatements, single } from "../../workers/db/ledger.js";
import { runOperation } from "../../workers/economy/operation.js";

export const economyConfig: GatewayConfig = {
  ...readParameters({ MIN_DELEGATION: "1000", MIN_HOST_STAKE: "1000", UNBONDING_SECONDS: "50" }),
  registryChainId: 31337,
  signingDomain: { chainId: 31337, verifyingContract: "0x0000000000000000000000000000000000000000" },
  allowLoopbackHosts: false,
  devMode: true,
};

export async function freshEconomyDatabase(name: string): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `conductor-${name}-`));
  const client = libsqlClient(`file:${path.join(dir, "economy.db")}`);
  await applyMigrations(client);
  return repositoryDatabase(client);
}

/** Issues `amount` straight into the treasury, as one ledger operation. */
export async function fundTreasury(db: Database, id: string, amount: bigint, now: number) {
  return runOperation(db, { id: `test/fund/${id}`, kind: "test_fund", request: { amount } }, now, async () => ({
    statements: ledgerStatements(db, [single(`test/fund/${id}`, ISSUANCE_ACCOUNT, TREASURY_ACCOUNT, amount, "mint")], now),
    result: null,
  }));
}
