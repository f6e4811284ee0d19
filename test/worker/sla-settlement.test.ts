/**
 * Settlement at offered prices with SLA credits (docs/market.md), on D1: a session selected with
 * offers (frozen prices 5 and 20) whose slow host's report card falls below the service's latency
 * SLA. The batch is fabricated as cron leaves it (closed, batched, verified).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerViolations } from "../../protocol/ledger.js";
import { batches, batchSessions, reportCards, sessionHosts, sessions } from "../../schema/tables.js";
import { gatewayConfig } from "../../workers/config.js";
import { database } from "../../workers/db/database.js";
import { ledgerSnapshot } from "../../workers/db/ledger.js";
import { settleBatch } from "../../workers/economy/settle-batches.js";
import { admin, call, createService, newOperator, PLACES, registerHost, testHosts, unique } from "./helpers.js";

async function available(holder: string): Promise<bigint> {
  const body = (await (await call(`/v1/ledger/holders/${holder}`)).json()) as { balance: { available: string } };
  return BigInt(body.balance.available);
}

describe("settlement at offered prices with SLA credits", () => {
  it("charges each host's compute units at its frozen price, pays hosts by value x score, and credits the requestor what the slow host's score withheld", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 50, slaMinLatency: 0.5 });
    const payer = (await (
      await admin("/v1/requestors", { name: unique("payer"), stake: "1000000", balance: "1000000" })
    ).json()) as {
      id: string;
    };
    const fastOperator = newOperator();
    const slowOperator = newOperator();
    const fast = await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.frankfurt }, fastOperator);
    const slow = await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...PLACES.virginia }, slowOperator);
    const sessionId = unique("ses");
    const batchId = unique("batch");
    await db.insert(sessions).values({
      id: sessionId,
      requestorId: payer.id,
      serviceId: service,
      epoch: 1,
      seed: "0x",
      algorithm: "test",
      hostIds: JSON.stringify([fast, slow]),
      quota: 10_000,
      startsAt: 0,
      endsAt: 1,
      createdAt: 0,
      closedAt: 2,
      sessionRoot: "0x",
      relayCount: 300,
      computeUnits: 300,
      batchId,
      requirements: "regions=eu-central,us-east",
      hostPrices: JSON.stringify({ [fast]: 5, [slow]: 20 }),
    });
    await db.insert(batches).values({
      id: batchId,
      root: "0x",
      reportCardRoot: "0x",
      relayCount: 300,
      computeUnits: 300,
      sessionCount: 1,
      state: "verified",
      nextAttemptAt: 0,
      createdAt: 0,
      updatedAt: 0,
      prover: null,
    });
    await db
      .insert(batchSessions)
      .values({ batchId, ordinal: 0, sessionId, sessionSeed: "0x", sessionRoot: "0x", relayCount: 300, computeUnits: 300 });
    await db.insert(sessionHosts).values([
      { sessionId, hostId: fast, relays: 200, computeUnits: 200 },
      { sessionId, hostId: slow, relays: 100, computeUnits: 100 },
    ]);
    const card = (hostId: string, latencyScore: number, score: number) => ({
      sessionId,
      hostId,
      serviceId: service,
      epoch: 1,
      samples: 20,
      availability: 1,
      latencyP50Ms: latencyScore < 0.5 ? 2_500 : 40,
      latencyP90Ms: latencyScore < 0.5 ? 4_000 : 90,
      latencyScore,
      identityFailureRate: 0,
      score,
      status: "scored" as const,
      samplesHash: "0x",
      createdAt: 0,
    });
    // The slow host: every answer late, latency score 0.2 (below the SLA's 0.5), overall score 0.6.
    await db.insert(reportCards).values([card(fast, 1, 1), card(slow, 0.2, 0.6)]);

    const before = await available(payer.id);
    const outcome = await settleBatch(db, config, batchId, Date.now());
    if (outcome.alreadyDone) throw new Error("settled before");
    const s = outcome.result;
    // Due: 200 CU x 5 + 100 CU x 20 = 3,000 (not 300 x the service's 50).
    expect(s.due).toBe(3_000);
    expect(s.charged).toBe(3_000);
    const hostsPart = (3_000n * config.rewardSplit.hosts) / 10_000n; // 2,250
    // Basis: value brought in, 1,000 and 2,000 of 3,000; the slow host's score 0.6 withholds 40 % of its 1,500.
    expect(await available(fastOperator.address.toLowerCase())).toBe((hostsPart * 1_000n) / 3_000n);
    expect(await available(slowOperator.address.toLowerCase())).toBe((hostsPart * 2_000n * 600_000n) / (3_000n * 1_000_000n));
    expect(s.withheldByScore).toBe(600);
    // Below the SLA: what the slow host's score withheld goes back to the requestor, not to the treasury.
    expect(s.slaCredits).toBe(600);
    expect(await available(payer.id)).toBe(before - 3_000n + 600n);
    expect(s.hosts + s.treasury + s.validators + s.fisherman + s.chainPartner + s.burned + s.slaCredits).toBe(s.charged);
    const snapshot = await ledgerSnapshot(db);
    expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);
    // Exactly once.
    expect((await settleBatch(db, config, batchId, Date.now())).alreadyDone).toBe(true);
    expect(await available(payer.id)).toBe(before - 3_000n + 600n);
  });
});
