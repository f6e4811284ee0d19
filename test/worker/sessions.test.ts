import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { epochStartMs, SELECTION_ALGORITHM, selectSessionHosts, sessionIdFromSeed, sessionSeed } from "../../protocol/session.js";
import { gatewayConfig } from "../../workers/config.js";
import {
  admin,
  call,
  createRequestor,
  createService,
  eth,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  testHosts,
} from "./helpers.js";

interface SessionPlan {
  sessionId: string;
  requestorId: string;
  serviceId: string;
  epoch: number;
  seed: `0x${string}`;
  algorithm: string;
  quota: number;
  startsAt: number;
  endsAt: number;
  hosts: { id: string }[];
}

const current = async (service: string, key: string) =>
  (await (
    await call(`/v1/sessions/current?service=${service}`, { headers: { authorization: `Bearer ${key}` } })
  ).json()) as SessionPlan;

describe("sessions", () => {
  it("can be recomputed by anyone from the public registry", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    for (let i = 0; i < 30; i++) {
      await registerHost({
        endpoint: testHosts().anvils[i % 3],
        services: [service],
        ...PLACES.paris,
        stake: BigInt(1_000_000 * (1 + (i % 5))),
      });
    }
    const requestor = await createRequestor(2_000_000n);
    const plan = await current(service, requestor.key);
    expect(plan.algorithm).toBe(SELECTION_ALGORITHM);
    expect(plan.hosts).toHaveLength(gatewayConfig(env).hostsPerSession);
    expect(plan.quota).toBe(2000);

    // Independent recomputation: only public data (GET /v1/hosts) and protocol/ functions.
    const registry = (await (await call(`/v1/hosts?service=${service}&limit=200`)).json()) as {
      hosts: { id: string; stake: string; activeSince: number; leftAt: number | null }[];
    };
    const seed = sessionSeed({ requestorId: requestor.id, serviceId: service, epoch: plan.epoch });
    expect(seed).toBe(plan.seed);
    expect(sessionIdFromSeed(seed)).toBe(plan.sessionId);
    const recomputed = selectSessionHosts({
      seed,
      hosts: registry.hosts.map((h) => ({ ...h, stake: BigInt(h.stake) })),
      epochStart: epochStartMs(plan.epoch, gatewayConfig(env).sessionSeconds),
      count: gatewayConfig(env).hostsPerSession,
    });
    expect(plan.hosts.map((h) => h.id)).toEqual(recomputed);

    // The relay path uses the same session.
    const res = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris);
    expect(res.headers.get("x-conductor-session")).toBe(plan.sessionId);
    expect(plan.hosts.map((h) => h.id)).toContain(res.headers.get("x-conductor-host"));
    await reportReceipts();
    const record = (await (await call(`/v1/sessions/${plan.sessionId}`)).json()) as {
      hostIds: string[];
      usage: { relays: number };
    };
    expect(record.hostIds).toEqual(recomputed);
    expect(record.usage.relays).toBe(1);
  });

  it("gives different requestors different sessions over the same hosts", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    for (let i = 0; i < 3; i++) await registerHost({ endpoint: testHosts().anvils[i], services: [service], ...PLACES.paris });
    const a = await current(service, (await createRequestor()).key);
    const b = await current(service, (await createRequestor()).key);
    expect(a.sessionId).not.toBe(b.sessionId);
    expect(new Set(a.hosts.map((h) => h.id))).toEqual(new Set(b.hosts.map((h) => h.id)));
  });

  it("requires a key and a known service", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    expect((await call(`/v1/sessions/current?service=${service}`)).status).toBe(401);
    const { key } = await createRequestor();
    const unknown = await call("/v1/sessions/current?service=nope", { headers: { authorization: `Bearer ${key}` } });
    expect(unknown.status).toBe(404);
    expect((await call("/v1/sessions/ses_missing")).status).toBe(404);
  });

  it("does not let a service take a resource's name", async () => {
    const res = await admin("/v1/services", { id: "hosts", kind: "jsonrpc", chainId: 1 });
    expect(res.status).toBe(400);
  });
});
