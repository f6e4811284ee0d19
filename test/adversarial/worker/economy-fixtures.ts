/**
 * Fixtures shared by the adversarial economy tests in workerd: an active validator, a verified
 * batch written straight into D1/libSQL (as `test/worker/economy.test.ts` does: no chain round
 * trip is needed to settle), a licence row with its escrow, and signed licence actions.
 */
import { env } from "cloudflare:workers";
import type { LocalAccount } from "viem";
import { expect } from "vitest";
import { signEconomyMessage } from "../../../protocol/economy-messages.js";
import { ISSUANCE_ACCOUNT, ledgerViolations, licenceAccount } from "../../../protocol/ledger.js";
import type { NetworkPhase } from "../../../protocol/licences.js";
import { batches, batchSessions, licences, sessionHosts, sessions } from "../../../schema/tables.js";
import { gatewayConfig } from "../../../workers/config.js";
import { database, storageDriver } from "../../../workers/db/database.js";
import { ledgerSnapshot, ledgerStatements, single } from "../../../workers/db/ledger.js";
import { admin, call, fund, inAnHour, newOperator, postSigned, signingDomain, unique } from "../../worker/helpers.js";

export const chainId = () => signingDomain();
export const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;
export const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

export async function holderBalance(holder: string): Promise<bigint> {
  const body = await json<{ balance: { available: string } }>(await call(`/v1/ledger/holders/${holder}`));
  return BigInt(body.balance.available);
}

export async function expectLedgerBalanced() {
  const snapshot = await ledgerSnapshot(database(env));
  expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);
}

/** Registers a validator and self-bonds enough to be in the active set; returns its lower-case address. */
export async function registerActiveValidator(): Promise<string> {
  const validator = newOperator();
  await fund(validator.address, 20_000_000n);
  const register = await postSigned(
    "/v1/validators",
    await signEconomyMessage(validator, chainId(), "RegisterValidator", {
      validator: validator.address,
      name: unique("v"),
      id: "register",
      deadline: inAnHour(),
    }),
  );
  expect(register.status).toBe(201);
  const bond = await postSigned(
    "/v1/stakes",
    await signEconomyMessage(validator, chainId(), "Stake", {
      holder: validator.address,
      pool: `validator:${validator.address.toLowerCase()}`,
      amount: 15_000_000n,
      id: "self-bond",
      deadline: inAnHour(),
    }),
  );
  expect(bond.status).toBe(201);
  const address = validator.address.toLowerCase();
  const set = await json<{ validators: { address: string; active: boolean }[] }>(await call("/v1/validators"));
  expect(set.validators.find((v) => v.address === address)?.active).toBe(true);
  return address;
}

/**
 * A verified batch of one closed session of `requestorId` on `serviceId`, whose `relays` were all
 * served by `hostId`, proven by `prover`. Written directly, as a cron run would leave it.
 */
export async function insertVerifiedBatch(r: {
  requestorId: string;
  serviceId: string;
  hostId: string;
  relays: number;
  prover: string | null;
}): Promise<string> {
  const db = database(env);
  const sessionId = unique("ses");
  const batchId = unique("batch");
  await db.insert(sessions).values({
    id: sessionId,
    requestorId: r.requestorId,
    serviceId: r.serviceId,
    epoch: 1,
    seed: "0x",
    algorithm: "test",
    hostIds: JSON.stringify([r.hostId]),
    quota: r.relays,
    startsAt: 0,
    endsAt: 1,
    createdAt: 0,
    closedAt: 2,
    sessionRoot: "0x",
    relayCount: r.relays,
    computeUnits: r.relays,
    // Batched, as cron leaves it: a later cron run must not try to batch it again.
    batchId,
  });
  await db.insert(batches).values({
    id: batchId,
    root: "0x",
    reportCardRoot: "0x",
    relayCount: r.relays,
    computeUnits: r.relays,
    sessionCount: 1,
    state: "verified",
    nextAttemptAt: 0,
    createdAt: 0,
    updatedAt: 0,
    prover: r.prover,
  });
  await db.insert(batchSessions).values({
    batchId,
    ordinal: 0,
    sessionId,
    sessionSeed: "0x",
    sessionRoot: "0x",
    relayCount: r.relays,
    computeUnits: r.relays,
  });
  await db.insert(sessionHosts).values({ sessionId, hostId: r.hostId, relays: r.relays, computeUnits: r.relays });
  return batchId;
}

/**
 * A live, unbound licence of `holder`: the row and the escrow a mint writes, without the mint's
 * phase and cap rules. The API mints only in testnet and up to `LICENCE_MAX_SUPPLY`, which
 * `test/worker/economy.test.ts` uses up (and, on the libSQL run, whose database every file
 * shares, walks the phase past testnet), so these tests bring their own licences.
 */
export async function fixtureLicence(holder: string): Promise<string> {
  const db = database(env);
  const id = unique("lic");
  const now = Date.now();
  const escrow = single(
    `licence-mint/${id}`,
    ISSUANCE_ACCOUNT,
    licenceAccount(id),
    gatewayConfig(env).licenceStakeEquivalent,
    "licence_mint",
    id,
  );
  await db.batch([
    db.insert(licences).values({
      id,
      serial: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
      holder: holder.toLowerCase(),
      boundTo: null,
      state: "live",
      mintedAt: now,
    }),
    ...ledgerStatements(db, [escrow], now),
  ]);
  return id;
}

/** Signs and sends a `LicenceAction` of `holder`. */
export async function licenceAction(
  holder: LocalAccount,
  licence: string,
  action: "transfer" | "bind" | "redeem",
  target = "",
  id = unique("act"),
) {
  return postSigned(
    `/v1/licences/${licence}/actions`,
    await signEconomyMessage(holder, chainId(), "LicenceAction", {
      holder: holder.address,
      licence,
      action,
      target,
      id,
      deadline: inAnHour(),
    }),
  );
}

const PHASE_ORDER: NetworkPhase[] = ["testnet", "mainnet", "stabilized"];

/**
 * Brings the network to at least `target` when this file owns its database, and says whether the
 * phase is at least `target` now. On D1 each test file has a database of its own, so the file
 * may move its phase; on the libSQL run every file shares one sqld, whose phases
 * `test/worker/economy.test.ts` walks in order, so there the phase is only read.
 */
export async function phaseAtLeast(target: NetworkPhase): Promise<boolean> {
  const ownsDatabase = storageDriver(env) !== "libsql";
  for (;;) {
    const { phase } = await json<{ phase: NetworkPhase }>(await call("/v1/network"));
    if (PHASE_ORDER.indexOf(phase) >= PHASE_ORDER.indexOf(target)) return true;
    if (!ownsDatabase) return false;
    const next = PHASE_ORDER[PHASE_ORDER.indexOf(phase) + 1];
    const moved = await admin("/v1/network/phase", { phase: next });
    expect(moved.status).toBeLessThan(300);
  }
}
