/**
 * SLA credits with a real slow host (docs/market.md, "Settlement at offered prices, SLA credits"):
 * a fault host that answers every request a second late serves relays in a session of a service
 * with a latency SLA, next to a healthy host, both with offers (prices 5 and 20). The session's
 * fisherman probes both; the slow host's report card falls below the SLA; then the real pipeline
 * (close, batch, commit on anvil, a validator's proof, verify, settle) charges the requestor at the
 * offered prices and credits it the part the slow host's score withheld. Expected amounts are
 * recomputed here with integer arithmetic from the relays each host served and the cards' scores
 * (public reads), then compared with the settlement's record and the holders' balances.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { ledgerViolations } from "../../protocol/ledger.js";
import { proveBatch } from "../../validator/verify-batch.js";
import { advanceBatches } from "../../workers/commitments/advance-batches.js";
import { gatewayConfig } from "../../workers/config.js";
import { database } from "../../workers/db/database.js";
import { ledgerSnapshot } from "../../workers/db/ledger.js";
import { settleFinalBatches } from "../../workers/economy/settle-batches.js";
import { governedConfig } from "../../workers/governance/parameters.js";
import { fishermanStub } from "../../workers/sessions/session-stub.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  newOperator,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
} from "../worker/helpers.js";
import { publishOffer } from "../worker/market-helpers.js";
import { afterThisEpoch, chain, mine, tick, validator } from "./pipeline.js";

const config = () => gatewayConfig(env);

async function available(holder: string): Promise<bigint> {
  const body = (await (await call(`/v1/ledger/holders/${holder}`)).json()) as { balance: { available: string } };
  return BigInt(body.balance.available);
}

interface Card {
  hostId: string;
  status: string;
  samples: number;
  availability: number;
  latencyP50Ms: number;
  latencyScore: number;
  score: number;
}

interface SettlementRecord {
  outcome: string;
  due: number;
  charged: number;
  hosts: number;
  treasury: number;
  validators: number;
  fisherman: number;
  chainPartner: number;
  burned: number;
  withheldByScore: number;
  slaCredits: number;
}

const SLOW_MS = 1_000;
const SLA_MIN_LATENCY = 0.5;

describe("SLA credits with a real slow host", () => {
  it("probes a host that answers a second late, scores it below the latency SLA, and credits the requestor at settlement what its score withheld", async () => {
    // Every attempt may take the slow host's second and more: no failover away from it on a loaded machine.
    const service = await createService({
      kind: "jsonrpc",
      chainId: 31337,
      pricePerComputeUnit: 50,
      slaMinLatency: SLA_MIN_LATENCY,
      relayPolicy: { attemptTimeoutMs: 5_000 },
    });
    const fastHost = await startFaultHost();
    const slowHost = await startFaultHost();
    await slowHost.set({ mode: "slow", delayMs: SLOW_MS }); // every request, relays and probes alike
    const fastOperator = newOperator();
    const slowOperator = newOperator();
    const fast = await registerHost({ endpoint: fastHost.url, services: [service], ...PLACES.virginia }, fastOperator);
    const slow = await registerHost({ endpoint: slowHost.url, services: [service], ...PLACES.frankfurt }, slowOperator);
    for (const [operator, hostId, price, region] of [
      [fastOperator, fast, 5n, "us-east"],
      [slowOperator, slow, 20n, "eu-central"],
    ] as const) {
      expect((await publishOffer(operator, { hostId, serviceId: service, pricePerComputeUnit: price, region })).status).toBe(200);
    }
    const requestor = await createRequestor(1_000_000n, { balance: 1_000_000n });
    const before = await available(requestor.id);

    // Callers near each host: the nearest host serves them (three relays each, at once).
    const relays = await Promise.all([
      ...[1, 2, 3].map((id) => rpc(service, requestor.key, eth("eth_blockNumber", id), PLACES.paris)),
      ...[4, 5, 6].map((id) => rpc(service, requestor.key, eth("eth_blockNumber", id), PLACES.newYork)),
    ]);
    for (const res of relays) expect(res.status).toBe(200);
    const servedBy = relays.map((r) => r.headers.get("x-conductor-host"));
    const sessionId = relays[0].headers.get("x-conductor-session") as string;
    expect(new Set(relays.map((r) => r.headers.get("x-conductor-session")))).toEqual(new Set([sessionId]));
    const cu = {
      fast: BigInt(servedBy.filter((h) => h === fast).length),
      slow: BigInt(servedBy.filter((h) => h === slow).length),
    };
    expect(cu.fast + cu.slow).toBe(6n);
    expect(cu.slow).toBeGreaterThan(0n);
    expect(cu.fast).toBeGreaterThan(0n);
    const record = (await (await call(`/v1/sessions/${sessionId}`)).json()) as { hostPrices: string };
    expect(JSON.parse(record.hostPrices)).toEqual({ [fast]: 5, [slow]: 20 });

    // The session's fisherman probes both hosts, two rounds (deterministic trigger: its alarm).
    await reportReceipts();
    for (let round = 0; round < 2; round++) expect(await runDurableObjectAlarm(fishermanStub(env, sessionId))).toBe(true);

    // The pipeline: close (the fisherman writes its cards), batch, commit; the validator proves; verify and settle.
    const now = afterThisEpoch();
    await tick(now);
    await tick(now);
    const { batchId } = (await (await call(`/v1/sessions/${sessionId}`)).json()) as { batchId: Hex };
    expect((await (await call(`/v1/batches/${batchId}`)).json()) as { state: string }).toMatchObject({ state: "committed" });
    await mine(chain().challengeDelay + 1);
    expect(await proveBatch(validator(), batchId)).toMatchObject({ status: "proved" });
    const { nextAttemptAt } = (await (await call(`/v1/batches/${batchId}`)).json()) as { nextAttemptAt: number };
    // The pipeline's next two steps, verify and settle (not the whole tick: its ledger-root fold
    // would commit epoch 1 to the anvil this project's files share, which ledger-root.test.ts owns).
    const settle = async (now: number) => {
      await advanceBatches(env, database(env), now);
      return settleFinalBatches(database(env), await governedConfig(database(env), config(), now), now);
    };
    expect(await settle(nextAttemptAt)).toBe(1);
    expect((await (await call(`/v1/batches/${batchId}`)).json()) as { state: string }).toMatchObject({ state: "verified" });

    // The cards: the slow host measured late, its latency score below the SLA; the fast one above it.
    const cards = Object.fromEntries(
      ((await (await call(`/v1/report-cards?session=${sessionId}`)).json()) as { cards: Card[] }).cards.map((c) => [c.hostId, c]),
    ) as Record<string, Card>;
    expect(cards[slow].status).toBe("scored");
    expect(cards[slow].latencyP50Ms).toBeGreaterThanOrEqual(SLOW_MS);
    expect(cards[slow].latencyScore).toBeLessThan(SLA_MIN_LATENCY);
    expect(cards[fast].status).toBe("scored");
    expect(cards[fast].latencyScore).toBeGreaterThan(cards[slow].latencyScore);
    const ppm = (score: number) => BigInt(Math.round(score * 1_000_000));
    expect(ppm(cards[slow].score)).toBeLessThan(1_000_000n);

    // Expected amounts, in integers: due at the offered prices; hosts by value x score; the credit
    // is the part of the hosts' share the slow host's score withheld.
    const value = { fast: cu.fast * 5n, slow: cu.slow * 20n };
    const due = value.fast + value.slow;
    const hostsPart = (due * config().rewardSplit.hosts) / 10_000n;
    const total = (value.fast + value.slow) * 1_000_000n;
    const pay = {
      fast: (hostsPart * value.fast * ppm(cards[fast].score)) / total,
      slow: (hostsPart * value.slow * ppm(cards[slow].score)) / total,
    };
    // (The healthy host on this machine answers in milliseconds: above the SLA, so it credits nothing;
    // the rule is applied to both rows all the same, so a loaded machine cannot make this flaky.)
    const withheld = (host: string, v: bigint) =>
      cards[host].latencyScore < SLA_MIN_LATENCY ? (hostsPart * v * (1_000_000n - ppm(cards[host].score))) / total : 0n;
    const credit = withheld(slow, value.slow) + withheld(fast, value.fast);
    expect(credit).toBeGreaterThan(0n);

    const settlement = (await (await call(`/v1/batches/${batchId}/settlement`)).json()) as SettlementRecord;
    expect(settlement).toMatchObject({
      outcome: "paid",
      due: Number(due),
      charged: Number(due),
      hosts: Number(pay.fast + pay.slow),
      withheldByScore: Number(hostsPart - pay.fast - pay.slow),
      slaCredits: Number(credit),
    });
    expect(settlement.slaCredits).toBeLessThanOrEqual(settlement.withheldByScore);
    const s = settlement;
    expect(s.hosts + s.treasury + s.validators + s.fisherman + s.chainPartner + s.burned + s.slaCredits).toBe(s.charged);
    expect(await available(requestor.id)).toBe(before - due + credit);
    expect(await available(fastOperator.address.toLowerCase())).toBe(pay.fast);
    expect(await available(slowOperator.address.toLowerCase())).toBe(pay.slow);
    const snapshot = await ledgerSnapshot(database(env));
    expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);

    // Settled once: a later run moves nothing.
    expect(await settle(nextAttemptAt + 60_000)).toBe(0);
    expect(await available(requestor.id)).toBe(before - due + credit);
  }, 120_000);
});
