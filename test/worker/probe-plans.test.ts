/**
 * Committed probe plans (issue 15, part 3): the commitment is public from the session's opening
 * and nothing of the plan is before its end; after the end the revealed seed hashes to the
 * commitment, and recomputing the rounds from public reads gives exactly the probes the samples
 * record and the hosts received.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Fisherman } from "../../durable-objects/fisherman.js";
import type { Hex } from "../../protocol/hex.js";
import { checkProbePlan, type ProbePlanReveal, planRound, probePlanCommitment } from "../../protocol/probe-plan.js";
import { sessionEpoch } from "../../protocol/session.js";
import { gatewayConfig } from "../../workers/config.js";
import { type SessionPlan, sessionIdFor } from "../../workers/sessions/plan-session.js";
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
const ADDRESS = "0x00000000000000000000000000000000000c0ffe";

type ProbePlanView = Omit<ProbePlanReveal, "seed" | "rounds" | "samples"> & {
  sessionId: string;
  revealed: boolean;
  revealedAt: number | null;
  seed: Hex | null;
  rounds: ProbePlanReveal["rounds"] | null;
  samples: ProbePlanReveal["samples"] | null;
};

async function network(kind: "jsonrpc" | "http") {
  const service =
    kind === "jsonrpc" ? await createService({ kind, chainId: 31337 }) : await createService({ kind, model: "conductor-demo-1" });
  const hosts: { id: string; host: FaultHost }[] = [];
  for (let i = 0; i < 3; i++) {
    const host = await startFaultHost();
    const endpoint = kind === "http" ? `${host.url}/v1` : host.url;
    hosts.push({ id: await registerHost({ endpoint, services: [service], ...PLACES.frankfurt }), host });
  }
  const requestor = await createRequestor();
  const coordinates = { requestorId: requestor.id, serviceId: service, epoch: sessionEpoch(Date.now(), config().sessionSeconds) };
  const plan: SessionPlan = await relaySessionStub(env, sessionIdFor(coordinates)).open(coordinates, 1_000_000n);
  return { service, hosts, requestor, plan };
}

const planRead = async (sessionId: string) => {
  const res = await call(`/v1/sessions/${sessionId}/probe-plan`);
  expect(res.status).toBe(200);
  return { text: await res.clone().text(), body: (await res.json()) as ProbePlanView };
};

/** The plan seed as the fisherman keeps it (never public before the end). */
const storedSeed = (sessionId: string) =>
  runInDurableObject(
    fishermanStub(env, sessionId) as unknown as DurableObjectStub<Fisherman>,
    (_instance, state) => state.storage.sql.exec<{ seed: string }>("SELECT seed FROM probe_plan").one().seed as Hex,
  );

const reportCards = async (sessionId: string) =>
  (
    (await (await call(`/v1/report-cards?session=${sessionId}&limit=50`)).json()) as {
      cards: { hostId: string; samples: number; samplesHash: string }[];
    }
  ).cards;

async function runRounds(sessionId: string, rounds: number) {
  for (let i = 0; i < rounds; i++) expect(await runDurableObjectAlarm(fishermanStub(env, sessionId))).toBe(true);
}

describe("committed probe plans", () => {
  it("publishes the commitment at the session's opening and nothing of the plan before its end", async () => {
    const { plan } = await network("jsonrpc");
    const seed = await storedSeed(plan.sessionId);
    const record = (await (await call(`/v1/sessions/${plan.sessionId}`)).json()) as Record<string, unknown>;
    expect(record.probePlanCommitment).toBe(probePlanCommitment(seed, plan.seed as Hex));
    expect(record.probePlanSeed).toBeNull();

    await runRounds(plan.sessionId, 2);
    const before = await planRead(plan.sessionId);
    expect(before.body).toMatchObject({
      commitment: record.probePlanCommitment,
      revealed: false,
      seed: null,
      rounds: null,
      samples: null,
      hostIds: plan.hosts.map((h) => h.id),
    });
    // The seed appears in no public read, and the object gives nothing away either.
    for (const path of [
      `/v1/sessions/${plan.sessionId}`,
      `/v1/sessions/${plan.sessionId}/probe-plan`,
      "/v1/report-cards?limit=100",
    ]) {
      expect(await (await call(path)).text()).not.toContain(seed.slice(2));
    }
    expect(await fishermanStub(env, plan.sessionId).planReveal()).toBeNull();
  });

  it("reveals after the end a seed that hashes to the commitment, and the public reads recompute every probe the hosts received", async () => {
    const { service, plan, hosts, requestor } = await network("jsonrpc");
    // Traffic to imitate: the probes draw from it.
    for (const [method, params] of [
      ["eth_getBalance", [ADDRESS, "latest"]],
      ["eth_getCode", [ADDRESS, "latest"]],
      ["eth_call", [{ to: ADDRESS, data: "0x70a08231" }, "latest"]],
    ] as const) {
      expect((await rpc(service, requestor.key, eth(method, 1, [...params]), PLACES.frankfurt)).status).toBe(200);
    }
    await reportReceipts();
    const relayed = new Map(await Promise.all(hosts.map(async (h) => [h.id, (await h.host.stats()).history.length] as const)));
    await runRounds(plan.sessionId, 3);
    await fishermanStub(env, plan.sessionId).endSession(plan.endsAt + config().rolloverGraceSeconds * 1000);

    const { body } = await planRead(plan.sessionId);
    expect(body.revealed).toBe(true);
    const seed = body.seed as Hex;
    expect(seed).toBe(await storedSeed(plan.sessionId));
    expect(probePlanCommitment(seed, plan.seed as Hex)).toBe(body.commitment);
    const rounds = body.rounds ?? [];
    const samples = body.samples ?? [];
    expect(rounds.map((r) => r.round)).toEqual([0, 1, 2]);
    expect(rounds.every((r) => r.shapeCount >= 3)).toBe(true);

    const cards = await reportCards(plan.sessionId);
    expect(cards).toHaveLength(hosts.length);
    expect(
      checkProbePlan(plan.seed as Hex, { ...body, seed, rounds, samples }, new Map(cards.map((c) => [c.hostId, c]))),
    ).toBeNull();

    // Each host received exactly the recomputed probes, round after round, in the planned order.
    for (const h of hosts) {
      const planned = rounds.flatMap((r) => {
        const round = planRound(seed, r.round, {
          kind: "jsonrpc",
          hostIds: body.hostIds,
          shapeCount: r.shapeCount,
          shapeAt: (i) => r.shapes[String(i)],
          anchor: r.anchor,
          model: null,
        });
        return (round.hosts.find((x) => x.hostId === h.id)?.probes ?? []).map((p) => p.request);
      });
      const received = (await h.host.stats()).history.slice(relayed.get(h.id)).map((req) => {
        const c = JSON.parse(req.body) as { method: string; params: unknown[] };
        return JSON.stringify([c.method, c.params]);
      });
      expect(received).toEqual(planned);
      expect(received.some((r) => r.includes(ADDRESS))).toBe(true);
      // The samples say the same, in the same order.
      const own = samples
        .filter((s) => s.hostId === h.id)
        .sort((a, b) => (a.round ?? 0) - (b.round ?? 0) || (a.seq ?? 0) - (b.seq ?? 0));
      expect(own.map((s) => s.request)).toEqual(planned);
    }
  });

  it("recomputes inference rounds (corpus prompt, settings, seed, order) from the reveal", async () => {
    const { plan, hosts } = await network("http");
    await runRounds(plan.sessionId, 3);
    await fishermanStub(env, plan.sessionId).endSession(plan.endsAt + config().rolloverGraceSeconds * 1000);
    const { body } = await planRead(plan.sessionId);
    expect(body).toMatchObject({ revealed: true, kind: "http", model: "conductor-demo-1" });
    const cards = await reportCards(plan.sessionId);
    const reveal = { ...body, seed: body.seed as Hex, rounds: body.rounds ?? [], samples: body.samples ?? [] };
    expect(checkProbePlan(plan.seed as Hex, reveal, new Map(cards.map((c) => [c.hostId, c])))).toBeNull();
    for (const h of hosts) {
      const chats = (await h.host.stats()).history.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body);
      const planned = reveal.rounds.map((r) =>
        JSON.stringify(
          planRound(reveal.seed, r.round, {
            kind: "http",
            hostIds: body.hostIds,
            shapeCount: 0,
            shapeAt: () => undefined,
            anchor: 0,
            model: body.model,
          }).chat,
        ),
      );
      expect(chats).toEqual(planned);
    }
  });

  it("answers unknown_session (404) and no_probe_plan (404) with the registry's codes", async () => {
    const unknown = await call("/v1/sessions/no-such-session/probe-plan");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("unknown_session");

    // A session whose service has no hosts opens without a fisherman, so without a plan.
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const requestor = await createRequestor();
    const coordinates = {
      requestorId: requestor.id,
      serviceId: service,
      epoch: sessionEpoch(Date.now(), config().sessionSeconds),
    };
    const plan = await relaySessionStub(env, sessionIdFor(coordinates)).open(coordinates, 1_000_000n);
    expect(plan.hosts).toEqual([]);
    const none = await call(`/v1/sessions/${plan.sessionId}/probe-plan`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "no_probe_plan",
      message: expect.stringContaining("no committed probe plan"),
    });
  });
});
