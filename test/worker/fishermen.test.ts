import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { epochStartMs, selectSessionHosts, sessionSeed } from "../../protocol/session.js";
import { gatewayConfig } from "../../workers/config.js";
import type { ReportCard } from "../../workers/db/quality.js";
import { releaseJailedHosts } from "../../workers/quality/jail-release.js";
import type { SessionPlan } from "../../workers/sessions/plan-session.js";
import { fishermanStub, relaySessionStub } from "../../workers/sessions/session-stub.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  type FaultHost,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
} from "./helpers.js";

const config = () => gatewayConfig(env);
const closesAt = (plan: SessionPlan) => plan.endsAt + config().rolloverGraceSeconds * 1000;

/** A service whose hosts are fault hosts with the given knobs, all in Frankfurt unless placed. */
async function network(kind: "jsonrpc" | "http", faults: Record<string, Parameters<FaultHost["set"]>[0] | null>) {
  const service =
    kind === "jsonrpc" ? await createService({ kind, chainId: 31337 }) : await createService({ kind, model: "conductor-demo-1" });
  const hosts: Record<string, { id: string; host: FaultHost }> = {};
  for (const [name, fault] of Object.entries(faults)) {
    const host = await startFaultHost(name);
    if (fault) await host.set(fault);
    const id = await registerHost({
      endpoint: kind === "http" ? `${host.url}/v1` : host.url,
      services: [service],
      ...PLACES.frankfurt,
    });
    hosts[name] = { id, host };
  }
  const requestor = await createRequestor();
  return { service, hosts, requestor };
}

/** Opens the session of (requestor, service, epoch) the way the first relay would, which starts its fisherman. */
async function openSession(requestorId: string, serviceId: string, epoch: number): Promise<SessionPlan> {
  const coordinates = { requestorId, serviceId, epoch };
  const { sessionIdFor } = await import("../../workers/sessions/plan-session.js");
  return relaySessionStub(env, sessionIdFor(coordinates)).open(coordinates, 1_000_000n);
}

async function probeRounds(sessionId: string, rounds: number) {
  const stub = fishermanStub(env, sessionId);
  for (let i = 0; i < rounds; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
}

const currentEpoch = () => Math.floor(Date.now() / 1000 / config().sessionSeconds);

async function endSession(plan: SessionPlan): Promise<Record<string, ReportCard>> {
  const cards = await fishermanStub(env, plan.sessionId).endSession(closesAt(plan));
  return Object.fromEntries(cards.map((c) => [c.hostId, c]));
}

describe("fishermen and report cards", () => {
  it("shows each JSON-RPC fault in the card's figures and score; healthy hosts score near 1", async () => {
    const { service, hosts, requestor } = await network("jsonrpc", {
      healthyA: null,
      healthyB: null,
      healthyC: null,
      slow: { mode: "slow", delayMs: 700 },
      wrongChain: { mode: "ok", chainId: 1 },
      stale: { mode: "ok", head: 20 },
      forked: { mode: "ok", wrongAnswers: true },
      down: { mode: "status", status: 500 },
      garbage: { mode: "garbage" },
      flapping: { mode: "reset", times: 3 },
    });
    const plan = await openSession(requestor.id, service, currentEpoch());
    expect(plan.hosts).toHaveLength(10);
    await probeRounds(plan.sessionId, 2);
    const cards = await endSession(plan);
    const card = (name: string) => cards[hosts[name].id];

    for (const name of ["healthyA", "healthyB", "healthyC"]) {
      expect(card(name)).toMatchObject({ status: "scored", samples: 6, availability: 1, correctness: 1, freshness: 1 });
      expect(card(name).score).toBeGreaterThan(0.95);
    }
    const healthy = card("healthyA").score as number;
    expect(card("slow").latencyP50Ms).toBeGreaterThanOrEqual(700);
    expect(card("slow").latencyScore).toBeLessThan(0.65);
    expect(card("slow").score).toBeLessThan(healthy);
    expect(card("wrongChain").identityFailureRate).toBe(1);
    expect(card("wrongChain").correctness).toBeLessThan(1);
    expect(card("stale").freshness).toBeLessThan(0.2);
    expect(card("stale").score).toBeLessThan(healthy);
    expect(card("forked").correctness).toBeCloseTo(2 / 3, 5);
    expect(card("down")).toMatchObject({ availability: 0, score: 0 });
    expect(card("garbage")).toMatchObject({ availability: 0 });
    expect(card("flapping").availability).toBeCloseTo(0.5, 5);
    expect(card("flapping").score).toBeGreaterThan(0);
    expect(card("flapping").score).toBeLessThan(healthy);
    for (const c of Object.values(cards)) {
      expect(c.samplesHash).toMatch(/^0x[0-9a-f]{64}$/);
      if (c.score !== null) expect(c.score === 0 || c.score === 1 || (c.score > 0 && c.score < 1)).toBe(true);
    }

    const listed = (await (await call(`/v1/report-cards?session=${plan.sessionId}&limit=200`)).json()) as { cards: ReportCard[] };
    expect(listed.cards).toHaveLength(10);
    const byHost = (await (await call(`/v1/report-cards?host=${hosts.stale.id}`)).json()) as { cards: ReportCard[] };
    expect(byHost.cards.map((c) => c.hostId)).toEqual([hosts.stale.id]);
  });

  it("shows inference faults: wrong model, cut stream, wrong answer, and times the first token", async () => {
    const { service, hosts, requestor } = await network("http", {
      healthyA: null,
      healthyB: null,
      wrongModel: { mode: "ok", model: "some-other-model" },
      cut: { mode: "cut_stream" },
      noDone: { mode: "no_done" },
      wrongAnswer: { mode: "ok", wrongAnswers: true },
    });
    const plan = await openSession(requestor.id, service, currentEpoch());
    await probeRounds(plan.sessionId, 3);
    const samples = await fishermanStub(env, plan.sessionId).samples();
    const chat = samples.find((s) => s.hostId === hosts.healthyA.id && s.probe === "chat");
    expect(chat?.firstByteMs).toBeGreaterThanOrEqual(0);
    expect(chat?.firstByteMs).toBeLessThanOrEqual(chat?.latencyMs as number);
    const cards = await endSession(plan);
    const card = (name: string) => cards[hosts[name].id];
    expect(card("healthyA")).toMatchObject({ availability: 1, correctness: 1 });
    expect(card("healthyA").score).toBeGreaterThan(0.95);
    expect(card("wrongModel").identityFailureRate).toBe(1);
    expect(card("cut").availability).toBeCloseTo(0.5, 5);
    expect(card("noDone").availability).toBeCloseTo(0.5, 5);
    expect(card("wrongAnswer").correctness).toBeCloseTo(0.5, 5);
  });

  it("says 'insufficient samples' instead of inventing a score", async () => {
    const { service, requestor } = await network("jsonrpc", { a: null, b: null });
    const plan = await openSession(requestor.id, service, currentEpoch());
    await probeRounds(plan.sessionId, 1); // 3 samples per host, below the minimum of 6
    const cards = Object.values(await endSession(plan));
    expect(cards.every((c) => c.status === "insufficient_samples" && c.score === null && c.samples === 3)).toBe(true);
  });

  it("writes one card per host when session end runs twice", async () => {
    const { service, requestor } = await network("jsonrpc", { a: null, b: null, c: null });
    const plan = await openSession(requestor.id, service, currentEpoch());
    await probeRounds(plan.sessionId, 2);
    const first = await endSession(plan);
    const second = await endSession(plan);
    expect(Object.keys(second).sort()).toEqual(Object.keys(first).sort());
    const listed = (await (await call(`/v1/report-cards?session=${plan.sessionId}`)).json()) as { cards: ReportCard[] };
    expect(listed.cards).toHaveLength(3);
    expect(await runDurableObjectAlarm(fishermanStub(env, plan.sessionId))).toBe(false); // stopped
  });

  it("sends probes a host cannot tell from relays", async () => {
    const { service, hosts, requestor } = await network("jsonrpc", { a: null, b: null });
    const plan = await openSession(requestor.id, service, currentEpoch());
    await probeRounds(plan.sessionId, 1);

    // A relay of the same method, serialised the way the fisherman serialises its probes.
    const relayBody = JSON.stringify({ jsonrpc: "2.0", id: 4242, method: "eth_chainId", params: [] });
    const res = await rpc(service, requestor.key, relayBody, PLACES.frankfurt);
    expect(res.status).toBe(200);
    const served = Object.values(hosts).find((h) => h.id === res.headers.get("x-conductor-host"))?.host as FaultHost;
    const { history } = await served.stats();
    const relay = history.find((r) => r.body === relayBody);
    const probe = history.find((r) => r !== relay && JSON.parse(r.body).method === "eth_chainId");
    expect(relay).toBeDefined();
    expect(probe).toBeDefined();
    expect(relay?.method).toBe(probe?.method);
    expect(relay?.path).toBe(probe?.path);
    const probeBody = JSON.parse(probe?.body as string);
    expect(probe?.body).toBe(JSON.stringify({ ...JSON.parse(relayBody), id: probeBody.id }));
    // Same headers, byte for byte, but for content-length, which follows the id's digits.
    const withoutLength = ({ "content-length": _, ...headers }: Record<string, string>) => headers;
    expect(withoutLength(relay?.headers ?? {})).toEqual(withoutLength(probe?.headers ?? {}));
    expect(Number(relay?.headers["content-length"]) - relayBody.length).toBe(
      Number(probe?.headers["content-length"]) - (probe?.body.length ?? 0),
    );
  });
});

describe("quality-aware routing", () => {
  it("stops sending traffic to a dead host once its breaker opens, and returns after it heals", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const near = await startFaultHost();
    const backup = await startFaultHost();
    const nearId = await registerHost({ endpoint: near.url, services: [service], ...PLACES.frankfurt });
    const backupId = await registerHost({ endpoint: backup.url, services: [service], ...PLACES.virginia });
    const { key } = await createRequestor();
    await near.set({ mode: "reset" });

    const relay = async () => {
      const res = await rpc(service, key, eth("eth_blockNumber"), PLACES.paris);
      expect(res.status).toBe(200);
      return {
        host: res.headers.get("x-conductor-host"),
        attempts: res.headers.get("x-conductor-attempts"),
        session: res.headers.get("x-conductor-session") as string,
      };
    };
    for (let i = 0; i < config().breakerThreshold; i++) expect(await relay()).toMatchObject({ host: backupId, attempts: "2" });
    const nearRequestsWhenOpened = (await near.stats()).requests;
    for (let i = 0; i < 5; i++) expect(await relay()).toMatchObject({ host: backupId, attempts: "1" });
    expect((await near.stats()).requests).toBe(nearRequestsWhenOpened); // no traffic while open
    const { session } = await relay();
    // What routing learned reaches the object with the isolate's report, and survives its eviction.
    await reportReceipts();
    await evictDurableObject(relaySessionStub(env, session));
    const usage = (await (await call(`/v1/sessions/${session}`)).json()) as {
      usage: { hosts: { hostId: string; breaker: string; quality: number }[] };
    };
    const nearUsage = usage.usage.hosts.find((h) => h.hostId === nearId);
    expect(nearUsage?.breaker).toBe("open");
    expect(nearUsage?.quality).toBeLessThan(0.5);
    expect((await relay()).attempts).toBe("1");

    // The host heals; the fisherman's next round sees it answer, and its trial relay succeeds.
    await near.set({ mode: "ok" });
    await probeRounds(session, 1);
    await reportReceipts(); // the isolate learns the object's view with its next report
    expect(await relay()).toMatchObject({ host: nearId, attempts: "1" });
    expect(await relay()).toMatchObject({ host: nearId, attempts: "1" });
  });

  it("skips a host that answered 429 with Retry-After", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const near = await startFaultHost();
    const backup = await startFaultHost();
    await registerHost({ endpoint: near.url, services: [service], ...PLACES.frankfurt });
    const backupId = await registerHost({ endpoint: backup.url, services: [service], ...PLACES.virginia });
    const { key } = await createRequestor();
    await near.set({ mode: "rate_limit", retryAfter: 600, times: 1 });
    const first = await rpc(service, key, eth("eth_blockNumber"), PLACES.paris);
    expect(first.headers.get("x-conductor-attempts")).toBe("2");
    const second = await rpc(service, key, eth("eth_blockNumber"), PLACES.paris);
    expect(second.headers.get("x-conductor-host")).toBe(backupId);
    expect(second.headers.get("x-conductor-attempts")).toBe("1");
    expect((await near.stats()).requests).toBe(1);
  });

  it("answers eth_chainId from another host when the nearest names the wrong chain", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const near = await startFaultHost();
    const backup = await startFaultHost();
    await near.set({ mode: "ok", chainId: 1 });
    await registerHost({ endpoint: near.url, services: [service], ...PLACES.frankfurt });
    const backupId = await registerHost({ endpoint: backup.url, services: [service], ...PLACES.virginia });
    const { key } = await createRequestor();
    const res = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(((await res.json()) as { result: string }).result).toBe("0x7a69");
    expect(res.headers.get("x-conductor-host")).toBe(backupId);
  });
});

describe("reputation and jail", () => {
  it("jails a host that serves the wrong chain, excludes it from later sessions, and releases it once it passes probes", async () => {
    const { service, hosts, requestor } = await network("jsonrpc", { a: null, b: null, liar: { mode: "ok", chainId: 5 } });
    const epoch = currentEpoch();
    const plan = await openSession(requestor.id, service, epoch);
    await probeRounds(plan.sessionId, 2);
    await endSession(plan);

    const reputation = async (hostId: string, e: number) =>
      (await (await call(`/v1/hosts/${hostId}/reputation?epoch=${e}`)).json()) as {
        reputation: number;
        jailed: boolean;
        jail: { fromEpoch: number; releaseAfter: number; untilEpoch: number | null; reason: string }[];
      };
    const jailed = await reputation(hosts.liar.id, epoch);
    expect(jailed.jail).toHaveLength(1);
    const term = jailed.jail[0];
    expect(term.reason).toMatch(/wrong chain/);
    expect(term.fromEpoch).toBe(Math.floor(closesAt(plan) / 1000 / config().sessionSeconds) + 1);
    expect((await reputation(hosts.liar.id, term.fromEpoch)).jailed).toBe(true);
    expect((await reputation(hosts.liar.id, term.fromEpoch - 1)).jailed).toBe(false);

    const later = await openSession(requestor.id, service, term.fromEpoch);
    expect(later.hosts.map((h) => h.id).sort()).toEqual([hosts.a.id, hosts.b.id].sort());

    // Still lying when the cooldown ends: kept.
    expect((await releaseJailedHosts(env, term.releaseAfter)).kept).toContain(hosts.liar.id);
    // Fixed, and after the next cooldown: released from the following epoch.
    await hosts.liar.host.set({ mode: "ok", chainId: 31337 });
    const retryAt = term.releaseAfter + config().jailCooldownSeconds * 1000;
    expect((await releaseJailedHosts(env, retryAt)).released).toContain(hosts.liar.id);
    const freeFrom = Math.floor(retryAt / 1000 / config().sessionSeconds) + 1;
    expect((await reputation(hosts.liar.id, freeFrom)).jailed).toBe(false);
    const afterRelease = await openSession(requestor.id, service, freeFrom);
    expect(afterRelease.hosts.map((h) => h.id)).toContain(hosts.liar.id);
  });

  it("jails a host below the score threshold for three consecutive sessions, not two", async () => {
    const { service, hosts, requestor } = await network("jsonrpc", { a: null, b: null, bad: { mode: "status", status: 503 } });
    const epoch = currentEpoch();
    for (let k = 0; k < 3; k++) {
      const plan = await openSession(requestor.id, service, epoch + k);
      expect(plan.hosts.map((h) => h.id)).toContain(hosts.bad.id);
      await probeRounds(plan.sessionId, 2);
      await endSession(plan);
      const terms = ((await (await call(`/v1/hosts/${hosts.bad.id}/reputation`)).json()) as { jail: unknown[] }).jail;
      expect(terms).toHaveLength(k < 2 ? 0 : 1);
    }
  });

  it("moves reputation with the cards, keeps newcomers at the neutral prior, and weighs selection by it", async () => {
    const { service, hosts, requestor } = await network("jsonrpc", {
      good: null,
      fine: null,
      poor: { mode: "slow", delayMs: 900 },
    });
    const epoch = currentEpoch();
    const plan = await openSession(requestor.id, service, epoch);
    await probeRounds(plan.sessionId, 2);
    await endSession(plan);
    const newcomer = await registerHost({ endpoint: (await startFaultHost()).url, services: [service], ...PLACES.tokyo });

    const next = Math.floor(closesAt(plan) / 1000 / config().sessionSeconds) + 1; // first epoch that counts the cards
    const rep = async (id: string, e = next) =>
      ((await (await call(`/v1/hosts/${id}/reputation?epoch=${e}`)).json()) as { reputation: number }).reputation;
    expect(await rep(hosts.good.id, epoch)).toBe(0.5); // the cards did not exist when this epoch began
    expect(await rep(hosts.good.id)).toBeGreaterThan(0.64);
    expect(await rep(hosts.poor.id)).toBeLessThan(await rep(hosts.good.id));
    expect(await rep(newcomer)).toBe(0.5);

    // Anyone can recompute the next session from public data: registry, reputations, seed.
    const later = await openSession(requestor.id, service, next);
    const registry = (await (await call(`/v1/hosts?service=${service}`)).json()) as {
      hosts: { id: string; stake: string; activeSince: number; leftAt: number | null }[];
    };
    const inputs = await Promise.all(
      registry.hosts.map(async (h) => ({ ...h, stake: BigInt(h.stake), reputation: await rep(h.id) })),
    );
    const recomputed = selectSessionHosts({
      seed: sessionSeed({ requestorId: requestor.id, serviceId: service, epoch: next }),
      hosts: inputs,
      epochStart: epochStartMs(next, config().sessionSeconds),
      count: config().hostsPerSession,
    });
    expect(later.hosts.map((h) => h.id)).toEqual(recomputed);
    expect(later.hosts.find((h) => h.id === hosts.good.id)?.reputation).toBe(await rep(hosts.good.id));
  });
});
