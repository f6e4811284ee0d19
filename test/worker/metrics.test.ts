/**
 * `/v1/metrics/relays`: relays, failures and latency per service and minute, counted by the
 * sessions' objects from their receipt reports (one write per report); bad windows refused.
 * `/v1/settlements`: the settlement list's paging and its refusals.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sessionEpoch } from "../../protocol/session.js";
import { gatewayConfig } from "../../workers/config.js";
import { MINUTE_MS, relayMinuteCounts } from "../../workers/db/relay-minutes.js";
import { sessionIdFor } from "../../workers/sessions/plan-session.js";
import { relaySessionStub } from "../../workers/sessions/session-stub.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
} from "./helpers.js";

interface RelayMetrics {
  from: number;
  to: number;
  minuteMs: number;
  services: {
    serviceId: string;
    relays: number;
    failures: number;
    minutes: { minute: number; relays: number; failures: number; latencyAvgMs: number | null; latencyMaxMs: number | null }[];
  }[];
}

async function metricsOf(service: string): Promise<RelayMetrics["services"][number] | undefined> {
  const res = await call(`/v1/metrics/relays?service=${service}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as RelayMetrics).services.find((s) => s.serviceId === service);
}

/** The counts once `relays` are in: the session's object writes them in the background after it answers the report. */
async function countedRelays(service: string, relays: number) {
  const until = Date.now() + 10_000;
  for (;;) {
    const counted = await metricsOf(service);
    if ((counted?.relays ?? 0) >= relays || Date.now() > until) return counted;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("relay metrics", () => {
  it("counts every reported relay once, in its minute, with failures and latency", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const host = await startFaultHost();
    await registerHost({ endpoint: host.url, services: [service], ...PLACES.paris });
    const { key, id: requestorId } = await createRequestor(1_000_000n);
    expect(await metricsOf(service)).toBeUndefined();
    const before = Date.now();
    for (let i = 0; i < 7; i++) expect((await rpc(service, key, eth("eth_blockNumber", i), PLACES.paris)).status).toBe(200);
    await host.set({ mode: "status", status: 500 });
    for (let i = 0; i < 2; i++) expect((await rpc(service, key, eth("eth_blockNumber", i), PLACES.paris)).status).toBe(503);
    await reportReceipts();
    const counted = await countedRelays(service, 9);
    expect(counted).toMatchObject({ relays: 9, failures: 2 });
    const minutes = counted?.minutes ?? [];
    expect(minutes.reduce((n, m) => n + m.relays, 0)).toBe(9);
    expect(minutes[0].minute).toBeGreaterThanOrEqual(Math.floor(before / MINUTE_MS) * MINUTE_MS);
    expect(minutes[0].minute % MINUTE_MS).toBe(0);
    const served = minutes.find((m) => m.latencyAvgMs !== null);
    expect(served?.latencyAvgMs).toBeGreaterThanOrEqual(0);
    expect(served?.latencyMaxMs).toBeGreaterThanOrEqual(served?.latencyAvgMs ?? 0);

    // A report sent again (an isolate retrying) changes neither the receipts nor the counts.
    const epoch = sessionEpoch(Date.now(), gatewayConfig(env).sessionSeconds);
    const stub = relaySessionStub(env, sessionIdFor({ requestorId, serviceId: service, epoch }));
    const [receipt] = await stub.receipts(-1, 1);
    const again = await stub.report(
      {
        receipts: [{ ...receipt, hostId: receipt.hostId, responseDigest: receipt.responseDigest ?? "", latencyMs: 1 } as never],
        observations: [],
        returned: [],
      },
      Date.now(),
    );
    expect(again.accepted).toBe(0);
    expect(await metricsOf(service)).toMatchObject({ relays: 9, failures: 2 });
  });

  it("folds a report's relays into one row per minute", () => {
    const t = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE_MS);
    const rows = relayMinuteCounts("svc", [
      { createdAt: t + 1, outcome: "ok", latencyMs: 10 },
      { createdAt: t + 59_999, outcome: "cancelled", latencyMs: 30 },
      { createdAt: t + 60_000, outcome: "failed", latencyMs: 900 },
    ]);
    expect(rows).toEqual([
      { serviceId: "svc", minute: t, relays: 2, failures: 0, latencySumMs: 40, latencyMaxMs: 30 },
      { serviceId: "svc", minute: t + MINUTE_MS, relays: 1, failures: 1, latencySumMs: 0, latencyMaxMs: 0 },
    ]);
  });

  it.each([
    ["?from=yesterday", 400, "invalid_field"],
    ["?to=-5", 400, "invalid_field"],
    ["?from=", 400, "invalid_field"],
    ["?from=1700000120000&to=1700000000000", 400, "invalid_field"],
    [`?from=0&to=${24 * 60 * MINUTE_MS + MINUTE_MS}`, 400, "invalid_field"],
    ["?service=no-such-service", 404, "unknown_service"],
  ])("refuses %s with %i %s", async (query, status, code) => {
    const res = await call(`/v1/metrics/relays${query}`);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("answers a whole-minute window of at most a day", async () => {
    const res = await call(`/v1/metrics/relays?from=${MINUTE_MS + 5}&to=${24 * 60 * MINUTE_MS}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ from: MINUTE_MS, to: 24 * 60 * MINUTE_MS, minuteMs: MINUTE_MS, services: [] });
  });
});

describe("settlements list", () => {
  it("pages newest first and refuses bad cursors and limits", async () => {
    const res = await call("/v1/settlements?limit=5");
    expect(res.status).toBe(200);
    const page = (await res.json()) as { settlements: { settledAt: number }[]; next: string | null };
    expect(page.settlements.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < page.settlements.length; i++)
      expect(page.settlements[i - 1].settledAt).toBeGreaterThanOrEqual(page.settlements[i].settledAt);
    for (const query of ["?cursor=abc", "?limit=0", "?limit=201"]) {
      const refused = await call(`/v1/settlements${query}`);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("invalid_field");
    }
  });
});
