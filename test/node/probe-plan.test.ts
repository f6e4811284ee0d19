import { describe, expect, it } from "vitest";
import { type Hex, sha256Hex } from "../../protocol/hex.js";
import {
  checkProbePlan,
  drawnShapeIndices,
  IDENTITY_EVERY_ROUNDS,
  PROBE_PLAN_VERSION,
  type ProbePlanReveal,
  planDraws,
  planRound,
  probePlanCommitment,
  type RevealedRound,
  TRAFFIC_PROBES_PER_ROUND,
} from "../../protocol/probe-plan.js";
import { reanchor, type TrafficShape } from "../../protocol/probe-shapes.js";
import { type ProbeSample, samplesHash } from "../../protocol/quality.js";

const SEED = sha256Hex("plan seed");
const SESSION_SEED = sha256Hex("session seed");
const HOSTS = ["host_a", "host_b", "host_c"];
const SHAPES: TrafficShape[] = [
  { method: "eth_getBalance", params: ["0x1111111111111111111111111111111111111111", "latest"] },
  { method: "eth_getCode", params: ["0x2222222222222222222222222222222222222222", "latest"] },
  { method: "eth_call", params: [{ to: "0x3333333333333333333333333333333333333333", data: "0x70a08231" }, "latest"] },
  { method: "eth_getTransactionCount", params: ["0x1111111111111111111111111111111111111111", "latest"] },
  { method: "eth_chainId", params: [] },
];

/** What an honest fisherman records: every planned probe of every round, in order, with its round's inputs. */
function honestReveal(kind: "jsonrpc" | "http", rounds: number, shapes: TrafficShape[] = SHAPES): ProbePlanReveal {
  const revealed: RevealedRound[] = [];
  const samples: ProbeSample[] = [];
  for (let round = 0; round < rounds; round++) {
    const anchor = 100 + round;
    const drawn: Record<string, TrafficShape> = {};
    for (const i of drawnShapeIndices(SEED, round, shapes.length)) drawn[String(i)] = shapes[i];
    revealed.push({ round, at: 1_000 * round, anchor, shapeCount: shapes.length, shapes: drawn });
    const plan = planRound(SEED, round, {
      kind,
      hostIds: HOSTS,
      shapeCount: shapes.length,
      shapeAt: (i) => shapes[i],
      anchor,
      model: "m-1",
    });
    for (const host of plan.hosts) {
      for (const [seq, p] of host.probes.entries()) {
        samples.push({
          hostId: host.hostId,
          at: 1_000 * round + seq,
          probe: p.probe,
          ok: true,
          latencyMs: 5,
          checks: {},
          round,
          seq,
          request: p.request,
        });
      }
    }
  }
  return {
    version: PROBE_PLAN_VERSION,
    commitment: probePlanCommitment(SEED, SESSION_SEED),
    seed: SEED,
    kind,
    model: "m-1",
    hostIds: HOSTS,
    rounds: revealed,
    samples,
  };
}

const cardsOf = (reveal: ProbePlanReveal) =>
  new Map(
    HOSTS.map((h) => {
      const own = reveal.samples.filter((s) => s.hostId === h);
      return [h, { samples: own.length, samplesHash: samplesHash(own) }];
    }),
  );

describe("committed probe plans (protocol/probe-plan.ts)", () => {
  it("commits to the seed, the session and the version; the commitment hides the seed", () => {
    const c = probePlanCommitment(SEED, SESSION_SEED);
    expect(c).toMatch(/^0x[0-9a-f]{64}$/);
    expect(probePlanCommitment(SEED, SESSION_SEED)).toBe(c);
    expect(probePlanCommitment(sha256Hex("other seed"), SESSION_SEED)).not.toBe(c);
    expect(probePlanCommitment(SEED, sha256Hex("other session"))).not.toBe(c);
    expect(probePlanCommitment(SEED, SESSION_SEED, PROBE_PLAN_VERSION + 1)).not.toBe(c);
    expect(c).not.toContain(SEED.slice(2));
  });

  it("draws deterministically per (seed, round, subject, purpose), uniformly enough", () => {
    const a = planDraws(SEED, 3, "host_a", "timing");
    const b = planDraws(SEED, 3, "host_a", "timing");
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(planDraws(SEED, 4, "host_a", "timing").next()).not.toBe(first[0]);
    expect(planDraws(SEED, 3, "host_b", "timing").next()).not.toBe(first[0]);
    expect(planDraws(SEED, 3, "host_a", "order").next()).not.toBe(first[0]);
    const d = planDraws(SEED, 0, "", "uniformity");
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5_000; i++) {
      const x = d.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      counts[Math.floor(x * 10)]++;
    }
    for (const n of counts) expect(n).toBeGreaterThan(400);
    expect(() => planDraws("0x1234" as Hex, 0, "", "x")).toThrow(/32 bytes/);
  });

  it("plans JSON-RPC rounds: the head first, the same re-anchored calls to every host in each host's own order, identity every fourth round", () => {
    const plans = Array.from({ length: 8 }, (_, round) =>
      planRound(SEED, round, {
        kind: "jsonrpc",
        hostIds: HOSTS,
        shapeCount: 4,
        shapeAt: (i) => SHAPES[i],
        anchor: 0x38,
        model: null,
      }),
    );
    for (const [round, plan] of plans.entries()) {
      expect(plan.calls).toHaveLength(TRAFFIC_PROBES_PER_ROUND);
      if (round % IDENTITY_EVERY_ROUNDS === 0) expect(plan.calls.some((c) => c.method === "eth_chainId")).toBe(true);
      for (const c of plan.calls.filter((c) => c.method !== "eth_chainId")) expect(c.params.at(-1)).toBe("0x38");
      for (const host of plan.hosts) {
        expect(host.probes[0]).toEqual({ probe: "eth_blockNumber", request: JSON.stringify(["eth_blockNumber", []]) });
        expect([...host.order].sort()).toEqual([0, 1, 2, 3]);
        expect(host.probes.slice(1).map((p) => p.request)).toEqual(
          host.order.map((slot) => JSON.stringify([plan.calls[slot].method, plan.calls[slot].params])),
        );
      }
    }
    // Orders differ between hosts and rounds (not one fixed sequence a host could learn).
    const orders = new Set(plans.flatMap((p) => p.hosts.map((h) => h.order.join())));
    expect(orders.size).toBeGreaterThan(4);
    // Without traffic: the chain id and the canary at the anchor.
    const reference = planRound(SEED, 1, {
      kind: "jsonrpc",
      hostIds: HOSTS,
      shapeCount: 0,
      shapeAt: () => undefined,
      anchor: 9,
      model: null,
    });
    expect(reference.calls).toEqual([
      { method: "eth_chainId", params: [] },
      reanchor({ method: "eth_getBlockByNumber", params: ["latest", false] }, 9),
    ]);
  });

  it("plans inference rounds from the corpus: one chat for every host, seeded in most rounds, models first or second per host", () => {
    const chats = Array.from({ length: 40 }, (_, round) =>
      planRound(SEED, round, { kind: "http", hostIds: HOSTS, shapeCount: 0, shapeAt: () => undefined, anchor: 0, model: "m-1" }),
    );
    const seeded = chats.filter((p) => typeof p.chat?.seed === "number").length;
    expect(seeded).toBeGreaterThan(20);
    expect(seeded).toBeLessThan(40);
    expect(new Set(chats.map((p) => JSON.stringify(p.chat?.messages))).size).toBeGreaterThan(5);
    for (const p of chats) {
      expect(p.chat).toMatchObject({ model: "m-1", stream: true, temperature: 0 });
      for (const h of p.hosts) expect(h.probes.map((x) => x.probe).sort()).toEqual(["chat", "models"]);
    }
  });

  it("accepts an honest reveal of either kind, with cards hashing its samples", () => {
    for (const kind of ["jsonrpc", "http"] as const) {
      const reveal = honestReveal(kind, 5);
      expect(checkProbePlan(SESSION_SEED, reveal, cardsOf(reveal))).toBeNull();
    }
    const noTraffic = honestReveal("jsonrpc", 3, []);
    expect(checkProbePlan(SESSION_SEED, noTraffic, cardsOf(noTraffic))).toBeNull();
  });

  it("refuses every deviation from the committed plan, saying which", () => {
    const honest = honestReveal("jsonrpc", 4);
    const cards = cardsOf(honest);
    const reasonOf = (change: (r: ProbePlanReveal) => ProbePlanReveal, withCards = true) =>
      checkProbePlan(SESSION_SEED, change(structuredClone(honest)), withCards ? cards : undefined);

    // A seed chosen after the fact (to make the plan fit probes picked after seeing answers).
    expect(reasonOf((r) => ({ ...r, seed: sha256Hex("a seed that fits") }))).toMatch(
      /revealed seed hashes to 0x[0-9a-f]{64}, not to the committed/,
    );
    // Another host's probe order, or another call, in a sample.
    const swapped = reasonOf((r) => {
      const own = r.samples.filter((s) => s.hostId === "host_b" && s.round === 2);
      // The head probe moved after a traffic call: the order the plan gave is not followed.
      [own[0].request, own[1].request, own[0].probe, own[1].probe] = [own[1].request, own[0].request, own[1].probe, own[0].probe];
      return r;
    }, false);
    expect(swapped).toMatch(/^round 2: host host_b probe 0 was eth_\w+ .* where the plan derives eth_blockNumber/);
    expect(
      reasonOf((r) => {
        const s = r.samples.find((x) => x.hostId === "host_a" && x.round === 1 && x.seq === 3) as ProbeSample;
        s.request = JSON.stringify(["eth_getBalance", ["0x9999999999999999999999999999999999999999", "0x65"]]);
        return r;
      }, false),
    ).toMatch(/^round 1: host host_a probe 3 was eth_\w+ \["eth_getBalance",\["0x9999/);
    // A probe whose answer was dropped, and one sent twice.
    expect(
      reasonOf(
        (r) => ({ ...r, samples: r.samples.filter((s) => !(s.hostId === "host_c" && s.round === 3 && s.seq === 2)) }),
        false,
      ),
    ).toMatch(/^round 3: host host_c has 4 samples where the plan has 5 probes/);
    // A round left out (re-run or dropped), or samples of no revealed round.
    expect(reasonOf((r) => ({ ...r, rounds: r.rounds.filter((x) => x.round !== 1) }), false)).toMatch(/^round 1 is missing/);
    expect(reasonOf((r) => ({ ...r, rounds: r.rounds.slice(0, 3) }), false)).toMatch(/samples belong to no revealed round/);
    // Probes out of the planned time order.
    expect(
      reasonOf((r) => {
        const s = r.samples.find((x) => x.hostId === "host_a" && x.round === 0 && x.seq === 2) as ProbeSample;
        s.at = -5;
        return r;
      }, false),
    ).toMatch(/^round 0: host host_a probe 2 was sent before probe 1/);
    // A drawn shape not given, and samples that are not what the cards committed to.
    expect(reasonOf((r) => ({ ...r, rounds: r.rounds.map((x) => (x.round === 2 ? { ...x, shapes: {} } : x)) }), false)).toMatch(
      /^round 2 draws traffic shape \d, which is not given/,
    );
    expect(
      reasonOf((r) => {
        (r.samples.find((x) => x.hostId === "host_a") as ProbeSample).latencyMs = 1;
        return r;
      }),
    ).toMatch(/^the report card of host_a commits to 20 samples hashing to 0x[0-9a-f]{64}, the revealed ones are 20 hashing to/);
    expect(reasonOf((r) => ({ ...r, version: 99 }))).toMatch(/unknown probe plan version 99/);
  });
});
