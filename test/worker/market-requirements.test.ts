import { describe, expect, it } from "vitest";
import { type MarketHost, matchingHosts, parseCanonicalRequirements, sessionSeedFor } from "../../protocol/market.js";
import { selectSessionHosts, sessionIdFromSeed } from "../../protocol/session.js";
import { call, createRequestor, createService, eth, newOperator, PLACES, registerHost, rpc, testHosts } from "./helpers.js";
import { publishOffer } from "./market-helpers.js";

/** One service on the three anvils: Frankfurt offers eu-central at 5, Virginia us-east at 20, Singapore publishes no offer. */
async function marketNetwork() {
  const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 50 });
  const operators = { frankfurt: newOperator(), virginia: newOperator(), singapore: newOperator() };
  const hosts = {
    frankfurt: await registerHost(
      { endpoint: testHosts().anvils[0], services: [service], ...PLACES.frankfurt },
      operators.frankfurt,
    ),
    virginia: await registerHost(
      { endpoint: testHosts().anvils[1], services: [service], ...PLACES.virginia },
      operators.virginia,
    ),
    singapore: await registerHost(
      { endpoint: testHosts().anvils[2], services: [service], ...PLACES.singapore },
      operators.singapore,
    ),
  };
  for (const [name, region, price] of [
    ["frankfurt", "eu-central", 5n],
    ["virginia", "us-east", 20n],
  ] as const) {
    const res = await publishOffer(operators[name], {
      hostId: hosts[name],
      serviceId: service,
      region,
      pricePerComputeUnit: price,
    });
    expect(res.status).toBe(200);
  }
  const requestor = await createRequestor();
  return { service, hosts, requestor };
}

const errorOf = async (res: Response) => ((await res.json()) as { error: { data?: { code: string }; message: string } }).error;

interface PublicSession {
  id: string;
  requestorId: string;
  serviceId: string;
  epoch: number;
  seed: `0x${string}`;
  startsAt: number;
  requirements: string;
  hostIds: string[];
  hostPrices: string;
}

/** Recomputes a session's hosts from public reads only: its record, the registry, reputations and the offers of its epoch. */
async function recompute(session: PublicSession, hostsPerSession = 24) {
  const seed = sessionSeedFor(session, session.requirements);
  const registry = (await (await call(`/v1/hosts?service=${session.serviceId}&limit=100`)).json()) as {
    hosts: { id: string; stake: string; activeSince: number; leftAt: number | null }[];
  };
  const offers = (await (await call(`/v1/offers?service=${session.serviceId}&epoch=${session.epoch}`)).json()) as {
    offers: { hostId: string; pricePerComputeUnit: number; region: string; models: string[]; contextLength: number }[];
  };
  const service = (await (await call(`/v1/services/${session.serviceId}`)).json()) as {
    pricePerComputeUnit: number;
    model: string | null;
  };
  const candidates: MarketHost[] = [];
  for (const h of registry.hosts) {
    const rep = (await (await call(`/v1/hosts/${h.id}/reputation?epoch=${session.epoch}`)).json()) as {
      reputation: number;
      jailed: boolean;
    };
    const offer = offers.offers.find((o) => o.hostId === h.id) ?? null;
    candidates.push({
      id: h.id,
      stake: BigInt(h.stake),
      activeSince: h.activeSince,
      leftAt: h.leftAt,
      reputation: rep.reputation,
      jailed: rep.jailed,
      offer,
    });
  }
  const matched = matchingHosts({
    hosts: candidates,
    requirements: parseCanonicalRequirements(session.requirements),
    epochStart: session.startsAt,
    servicePrice: service.pricePerComputeUnit,
    serviceModel: service.model,
  });
  return {
    seed,
    id: sessionIdFromSeed(seed),
    hostIds: selectSessionHosts({ seed, hosts: matched.hosts, epochStart: session.startsAt, count: hostsPerSession }),
  };
}

describe("market requirements in session selection", () => {
  it("keeps only hosts in the required region, in a session of its own that anyone recomputes from public reads", async () => {
    const { service, hosts, requestor } = await marketNetwork();
    const plain = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris);
    expect(plain.status).toBe(200);
    const eu = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.singapore, { "x-conductor-region": "eu-central" });
    expect(eu.status).toBe(200);
    // The nearest host is Singapore's, but only Frankfurt meets the requirement.
    expect(eu.headers.get("x-conductor-host")).toBe(hosts.frankfurt);
    const sessionId = eu.headers.get("x-conductor-session") as string;
    expect(sessionId).not.toBe(plain.headers.get("x-conductor-session"));

    const record = (await (await call(`/v1/sessions/${sessionId}`)).json()) as PublicSession;
    expect(record.requirements).toBe("regions=eu-central");
    expect(record.hostIds).toEqual([hosts.frankfurt]);
    expect(JSON.parse(record.hostPrices)).toEqual({ [hosts.frankfurt]: 5 });
    const again = await recompute(record);
    expect(again).toEqual({ seed: record.seed, id: record.id, hostIds: record.hostIds });

    // The plain session recomputes too, with seed input version 1 and every host.
    const plainRecord = (await (await call(`/v1/sessions/${plain.headers.get("x-conductor-session")}`)).json()) as PublicSession;
    expect(plainRecord.requirements).toBe("");
    expect(new Set(plainRecord.hostIds)).toEqual(new Set(Object.values(hosts)));
    expect((await recompute(plainRecord)).hostIds).toEqual(plainRecord.hostIds);
  });

  it("filters by maximum price (a host without an offer charges the service's price) and minimum score", async () => {
    const { service, hosts, requestor } = await marketNetwork();
    const cheap = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.virginia, { "x-conductor-max-price": "20" });
    expect(cheap.status).toBe(200);
    const record = (await (await call(`/v1/sessions/${cheap.headers.get("x-conductor-session")}`)).json()) as PublicSession;
    expect(new Set(record.hostIds)).toEqual(new Set([hosts.frankfurt, hosts.virginia]));
    expect(cheap.headers.get("x-conductor-host")).toBe(hosts.virginia);
    expect((await recompute(record)).hostIds).toEqual(record.hostIds);
    // New hosts have the neutral prior reputation (0.5): a minimum of 0.9 excludes all of them.
    const picky = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, { "x-conductor-min-score": "0.9" });
    expect(picky.status).toBe(422);
    expect(picky.headers.get("x-conductor-excluded-by")).toBe("minScore");
  });

  it("answers 422 naming the requirement that excluded every host, and 400 for a malformed header; neither opens a usable session", async () => {
    const { service, requestor } = await marketNetwork();
    const nowhere = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, { "x-conductor-region": "ap-south" });
    expect(nowhere.status).toBe(422);
    expect(nowhere.headers.get("x-conductor-excluded-by")).toBe("regions");
    const error = await errorOf(nowhere);
    expect(error.data?.code).toBe("requirements_unsatisfiable");
    expect(error.message).toContain('"regions"');
    // Regions pass (eu-central), the price does not: the price is named.
    const tooCheap = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, {
      "x-conductor-region": "eu-central,us-east",
      "x-conductor-max-price": "4",
    });
    expect(tooCheap.status).toBe(422);
    expect(tooCheap.headers.get("x-conductor-excluded-by")).toBe("maxPrice");
    const malformed = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, { "x-conductor-max-price": "cheap" });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).data?.code).toBe("invalid_requirement");
  });

  it("applies a key's standing requirements; headers only tighten them", async () => {
    const { service, hosts, requestor } = await marketNetwork();
    const me = (await (await call("/v1/requestors/me", { headers: { authorization: `Bearer ${requestor.key}` } })).json()) as {
      keyId: string;
    };
    const set = await call(`/v1/offers/requirements/${me.keyId}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${requestor.accountKey}`, "content-type": "application/json" },
      body: JSON.stringify({ regions: ["us-east"] }),
    });
    expect(set.status).toBe(200);
    const res = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.frankfurt);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(hosts.virginia);
    // A header cannot widen the key's regions: eu-central is outside them.
    const wider = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.frankfurt, { "x-conductor-region": "eu-central" });
    expect(wider.status).toBe(422);
    expect(wider.headers.get("x-conductor-excluded-by")).toBe("regions");
  });

  it("shares one quota between a requestor's sessions with and without requirements: requirements never multiply it", async () => {
    const { service } = await marketNetwork();
    // 10,000 minor units of stake at STAKE_PER_COMPUTE_UNIT 1,000: a quota of 10 compute units per session.
    const { key } = await createRequestor(10_000n);
    let served = 0;
    const servedBy = { plain: 0, eu: 0 };
    for (let i = 0; i < 30; i++) {
      for (const [name, headers] of [
        ["plain", {}],
        ["eu", { "x-conductor-region": "eu-central" }],
      ] as const) {
        const res = await rpc(service, key, eth("eth_chainId", i), PLACES.paris, headers);
        if (res.status === 200) {
          served += 1;
          servedBy[name] += 1;
        } else {
          expect(res.status).toBe(429);
          expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe("quota_exhausted");
        }
      }
    }
    expect(served).toBe(10);
    expect(servedBy.plain).toBeGreaterThan(0);
    expect(servedBy.eu).toBeGreaterThan(0);
  });

  it("caps the requirement sets one requestor opens per service and epoch at 8 (each is a session with its fisherman)", async () => {
    const { service, requestor } = await marketNetwork();
    for (let price = 20; price < 28; price++) {
      const res = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, { "x-conductor-max-price": String(price) });
      expect(res.status).toBe(200);
    }
    const ninth = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, { "x-conductor-max-price": "28" });
    expect(ninth.status).toBe(429);
    expect((await errorOf(ninth)).data?.code).toBe("too_many_requirement_sets");
    // A set already open still relays, and so does the plain session.
    expect((await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris, { "x-conductor-max-price": "20" })).status).toBe(
      200,
    );
    expect((await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
  });
});
