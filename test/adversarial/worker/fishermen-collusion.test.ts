/**
 * Issue 15: fishermen that cannot be fooled or spotted. A minority of colluding hosts reporting a
 * far-future head and a forked chain must not lower an honest host's freshness or canary.
 * On the code before the fix (best head = second-highest head, canary = majority of non-null
 * hashes) honest hosts scored 0.80 (freshness 0, correctness 1/3) and colluders 1.00, for 2 of 5
 * and 3 of 7 alike; after it, honest hosts score 1.00 and colluders 0.80 (freshness 0, correctness 1/3).
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayConfig } from "../../../workers/config.js";
import type { ReportCard } from "../../../workers/db/quality.js";
import { type SessionPlan, sessionIdFor } from "../../../workers/sessions/plan-session.js";
import { fishermanStub, relaySessionStub } from "../../../workers/sessions/session-stub.js";
import {
  createRequestor,
  createService,
  type Fault,
  type FaultHost,
  PLACES,
  registerHost,
  startFaultHost,
} from "../../worker/helpers.js";

const config = () => gatewayConfig(env);
const currentEpoch = () => Math.floor(Date.now() / 1000 / config().sessionSeconds);

/** Colluders: a head far in the future and a fork of their own (the same fork for all of them). */
const COLLUDER: Fault = { mode: "ok", head: 1_000_000, wrongAnswers: true };

async function collusionNetwork(honest: number, colluders: number) {
  const service = await createService({ kind: "jsonrpc", chainId: 31337 });
  const hosts: { id: string; host: FaultHost; colluding: boolean }[] = [];
  for (let i = 0; i < honest + colluders; i++) {
    const host = await startFaultHost();
    const colluding = i >= honest;
    if (colluding) await host.set(COLLUDER);
    hosts.push({ id: await registerHost({ endpoint: host.url, services: [service], ...PLACES.frankfurt }), host, colluding });
  }
  const requestor = await createRequestor();
  const coordinates = { requestorId: requestor.id, serviceId: service, epoch: currentEpoch() };
  const plan: SessionPlan = await relaySessionStub(env, sessionIdFor(coordinates)).open(coordinates, 1_000_000n);
  return { hosts, plan };
}

async function cardsAfterRounds(plan: SessionPlan, rounds: number): Promise<Map<string, ReportCard>> {
  const stub = fishermanStub(env, plan.sessionId);
  for (let i = 0; i < rounds; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
  const cards = await stub.endSession(plan.endsAt + config().rolloverGraceSeconds * 1000);
  return new Map(cards.map((c) => [c.hostId, c]));
}

describe("#issue-15 collusion against the reference head and canary", () => {
  it.each([
    [3, 2],
    [4, 3],
  ])("%i honest hosts keep freshness and canary at 1 against %i colluders", async (honest, colluders) => {
    const { hosts, plan } = await collusionNetwork(honest, colluders);
    expect(plan.hosts).toHaveLength(honest + colluders);
    const cards = await cardsAfterRounds(plan, 2);
    const report = hosts.map((h) => ({ colluding: h.colluding, ...cards.get(h.id) }));
    for (const card of report.filter((c) => !c.colluding)) {
      expect(card).toMatchObject({ status: "scored", availability: 1, freshness: 1, correctness: 1 });
      expect(card.score).toBeGreaterThan(0.95);
    }
    for (const card of report.filter((c) => c.colluding)) {
      expect(card.freshness).toBeLessThan(0.2);
      expect(card.correctness).toBeLessThan(0.5);
      expect(card.score).toBeLessThan(0.85);
    }
  });
});
