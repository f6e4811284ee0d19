/**
 * Chain partners (protocol/chain-partners.ts, workers/economy/settle-batches.ts): a service that
 * names a partner has its part of a settlement's chain-partner share paid to that partner's
 * balance; services without one leave their part, and every rounding remainder, with
 * `system:chain_partner`. Exact integer amounts.
 */
import { describe, expect, it } from "vitest";
import { partnerParts } from "../../protocol/chain-partners.js";
import { balanceAccount, balanceOf, CHAIN_PARTNER_ACCOUNT, ledgerViolations } from "../../protocol/ledger.js";
import { batches, batchSessions, hosts, operators, requestors, services, sessionHosts, sessions } from "../../schema/tables.js";
import type { Database } from "../../workers/db/database.js";
import { getAccount, ledgerSnapshot, transfersFor } from "../../workers/db/ledger.js";
import { setServicePartner } from "../../workers/db/services.js";
import { foldLedgerRootAfterSettlement, ledgerBalanceProof } from "../../workers/economy/ledger-root.js";
import { settleBatch } from "../../workers/economy/settle-batches.js";
import { mint } from "../../workers/economy/transfers.js";
import { economyConfig, freshEconomyDatabase } from "../support/economy-db.js";

const OPERATOR = `0x${"1".repeat(40)}`;
const PARTNER = `0x${"9".repeat(40)}`;
const PAYER = "req_00000000000000000001";

describe("partner parts (protocol)", () => {
  it.each([
    // share, services [service, partner, due], expected parts, rest
    [
      30n,
      [
        ["a", "p", 700n],
        ["b", null, 300n],
      ],
      [["p", 21n]],
      9n,
    ],
    [
      31n,
      [
        ["a", "p", 500n],
        ["b", "q", 500n],
      ],
      [
        ["p", 15n],
        ["q", 15n],
      ],
      1n,
    ],
    [
      10n,
      [
        ["a", "p", 1n],
        ["b", "p", 2n],
        ["c", null, 0n],
      ],
      [["p", 9n]],
      1n,
    ],
    [0n, [["a", "p", 1n]], [], 0n],
    [5n, [["a", "p", 0n]], [], 5n],
  ] as const)("share %s", (share, list, parts, rest) => {
    const out = partnerParts(
      share,
      list.map(([service, partner, due]) => ({ service, partner, due })),
    );
    expect([...out.parts]).toEqual(parts);
    expect(out.rest).toBe(rest);
  });
});

async function setup(): Promise<Database> {
  const db = await freshEconomyDatabase("partner");
  await db.insert(operators).values({ address: OPERATOR, nextNonce: 0 });
  await db.insert(hosts).values({
    id: "host_a",
    operator: OPERATOR,
    endpoint: "https://h.example",
    latitude: 0,
    longitude: 0,
    activeSince: 0,
    createdAt: 0,
    updatedAt: 0,
  });
  await db.insert(services).values([
    { id: "svc-partnered", kind: "jsonrpc", chainId: 1, pricePerComputeUnit: 7, createdAt: 0, partner: PARTNER },
    { id: "svc-plain", kind: "jsonrpc", chainId: 2, pricePerComputeUnit: 3, createdAt: 0 },
  ]);
  await db.insert(requestors).values({ id: PAYER, name: "payer", createdAt: 0 });
  await mint(db, { id: "grant", holder: PAYER, amount: 1_000_000n }, 0);
  return db;
}

let sessionEpochs = 0;
/** A verified batch with one 100-compute-unit session per service. */
async function batchOf(db: Database, id: string, serviceIds: string[]) {
  await db.insert(batches).values({
    id,
    root: "0x",
    reportCardRoot: "0x",
    relayCount: 100 * serviceIds.length,
    computeUnits: 100 * serviceIds.length,
    sessionCount: serviceIds.length,
    state: "verified",
    nextAttemptAt: 0,
    createdAt: 0,
    updatedAt: 0,
    prover: null,
  });
  for (const [ordinal, serviceId] of serviceIds.entries()) {
    const sessionId = `${id}_ses_${ordinal}`;
    await db.insert(sessions).values({
      id: sessionId,
      requestorId: PAYER,
      serviceId,
      epoch: ++sessionEpochs,
      seed: "0x",
      algorithm: "test",
      hostIds: "[]",
      quota: 1000,
      startsAt: 0,
      endsAt: 1,
      createdAt: 0,
      closedAt: 2,
      sessionRoot: "0x",
      relayCount: 100,
      computeUnits: 100,
    });
    await db
      .insert(batchSessions)
      .values({ batchId: id, ordinal, sessionId, sessionSeed: "0x", sessionRoot: "0x", relayCount: 100, computeUnits: 100 });
    await db.insert(sessionHosts).values({ sessionId, hostId: "host_a", relays: 100, computeUnits: 100 });
  }
}

describe("settlement pays each service's partner (libSQL)", () => {
  it("splits the 3 % chain-partner share by what each service was due: 21 to the partner, 9 to the system account", async () => {
    const db = await setup();
    // Due: 100 x 7 = 700 (partnered) + 100 x 3 = 300; revenue 1,000; chain partner 3 % = 30.
    await batchOf(db, "batch_1", ["svc-partnered", "svc-plain"]);
    const settled = await settleBatch(db, economyConfig, "batch_1", 10);
    expect(settled).toMatchObject({ alreadyDone: false, result: { charged: 1000, chainPartner: 30 } });
    expect(balanceOf(await getAccount(db, balanceAccount(PARTNER)))).toBe(21n);
    expect(balanceOf(await getAccount(db, CHAIN_PARTNER_ACCOUNT))).toBe(9n);
    const partnerTransfers = (await transfersFor(db, "batch_1")).filter((t) => t.code === "chain_partner_reward");
    expect(partnerTransfers.map((t) => [t.creditAccount, t.amount])).toEqual([
      [balanceAccount(PARTNER), 21n],
      [CHAIN_PARTNER_ACCOUNT, 9n],
    ]);
    // Settling again moves nothing.
    const before = await ledgerSnapshot(db);
    expect((await settleBatch(db, economyConfig, "batch_1", 11)).alreadyDone).toBe(true);
    expect((await ledgerSnapshot(db)).accounts).toEqual(before.accounts);
    expect(ledgerViolations(before.accounts, before.recomputed)).toEqual([]);
  });

  it("follows the partner named at settlement time; removing it sends the share back to the system account", async () => {
    const db = await setup();
    await batchOf(db, "batch_2", ["svc-partnered"]);
    await setServicePartner(db, "svc-partnered", null);
    await settleBatch(db, economyConfig, "batch_2", 10);
    // 700 charged, 3 % = 21, all to the system account.
    expect(balanceOf(await getAccount(db, CHAIN_PARTNER_ACCOUNT))).toBe(21n);
    expect(balanceOf(await getAccount(db, balanceAccount(PARTNER)))).toBe(0n);
    await batchOf(db, "batch_3", ["svc-plain"]);
    await setServicePartner(db, "svc-plain", PARTNER);
    await settleBatch(db, economyConfig, "batch_3", 10);
    expect(balanceOf(await getAccount(db, balanceAccount(PARTNER)))).toBe(9n);
  });

  it("cron folds a ledger root once after each run that settled a batch (the partner's reward is in it)", async () => {
    const db = await setup();
    expect(await foldLedgerRootAfterSettlement(db, 5)).toBeNull(); // nothing settled yet
    await batchOf(db, "batch_4", ["svc-partnered"]);
    await settleBatch(db, economyConfig, "batch_4", 10);
    expect(await foldLedgerRootAfterSettlement(db, 11)).toBe(1);
    expect(await foldLedgerRootAfterSettlement(db, 12)).toBeNull();
    await batchOf(db, "batch_5", ["svc-partnered"]);
    await settleBatch(db, economyConfig, "batch_5", 20);
    expect(await foldLedgerRootAfterSettlement(db, 21)).toBe(2);
    expect((await ledgerBalanceProof(db, PARTNER, 2)).balance).toBe(42n);
  });
});
