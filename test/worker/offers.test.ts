import { describe, expect, it } from "vitest";
import {
  call,
  createRequestor,
  createService,
  newOperator,
  operatorNonce,
  PLACES,
  postSigned,
  registerHost,
  unique,
} from "./helpers.js";
import { publishOffer, signOffer } from "./market-helpers.js";

async function hostWithOperator(service: string) {
  const operator = newOperator();
  const hostId = await registerHost(
    { endpoint: `https://${unique("h")}.example.com`, services: [service], ...PLACES.frankfurt },
    operator,
  );
  return { operator, hostId };
}

describe("host offers", () => {
  it("publishes a signed offer, replaces it, and reads it publicly", async () => {
    const service = await createService({ kind: "http", model: "m-1", computeUnits: { default: 1, methods: {} } });
    const { operator, hostId } = await hostWithOperator(service);
    const first = await publishOffer(operator, {
      hostId,
      serviceId: service,
      pricePerComputeUnit: 7n,
      models: ["m-1", "m-2"],
      contextLength: 8192,
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      hostId,
      serviceId: service,
      pricePerComputeUnit: 7,
      region: "eu-central",
      models: ["m-1", "m-2"],
      contextLength: 8192,
    });
    const second = await publishOffer(operator, { hostId, serviceId: service, pricePerComputeUnit: 9n, region: "us-east" });
    expect(second.status).toBe(200);
    const page = (await (await call(`/v1/offers?service=${service}`)).json()) as {
      offers: { hostId: string; pricePerComputeUnit: number; region: string }[];
    };
    expect(page.offers).toHaveLength(1);
    expect(page.offers[0]).toMatchObject({ hostId, pricePerComputeUnit: 9, region: "us-east" });
  });

  it("refuses a price outside the configuration bounds, another operator, a service the host does not serve, a replay; refusals change nothing", async () => {
    const service = await createService({ kind: "http", model: "m-1", computeUnits: { default: 1, methods: {} } });
    const other = await createService({ kind: "http", model: "m-1", computeUnits: { default: 1, methods: {} } });
    const { operator, hostId } = await hostWithOperator(service);
    const before = await operatorNonce(operator);

    const tooCheap = await publishOffer(operator, { hostId, serviceId: service, pricePerComputeUnit: 0n });
    expect(tooCheap.status).toBe(400);
    expect(((await tooCheap.json()) as { error: { code: string } }).error.code).toBe("offer_price_out_of_bounds");
    const tooDear = await publishOffer(operator, { hostId, serviceId: service, pricePerComputeUnit: 1_000_001n });
    expect(((await tooDear.json()) as { error: { code: string } }).error.code).toBe("offer_price_out_of_bounds");

    const thief = newOperator();
    const stolen = await publishOffer(thief, { hostId, serviceId: service });
    expect(stolen.status).toBe(403);

    const elsewhere = await publishOffer(operator, { hostId, serviceId: other });
    expect(elsewhere.status).toBe(409);
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe("host_not_serving_service");

    const badRegion = await publishOffer(operator, { hostId, serviceId: service, region: "Europe West!" });
    expect(badRegion.status).toBe(400);

    expect(await operatorNonce(operator)).toBe(before);
    expect(((await (await call(`/v1/offers?host=${hostId}`)).json()) as { offers: unknown[] }).offers).toHaveLength(0);

    const signed = await signOffer(operator, { hostId, serviceId: service });
    expect((await postSigned("/v1/offers", signed, "PUT")).status).toBe(200);
    const replay = await postSigned("/v1/offers", signed, "PUT");
    expect(replay.status).toBe(409);
    // A signature over other fields does not verify.
    const tampered = await signOffer(operator, { hostId, serviceId: service });
    const forged = { ...tampered, message: { ...tampered.message, pricePerComputeUnit: "1" } };
    expect((await postSigned("/v1/offers", forged, "PUT")).status).toBe(401);
  });

  it("stores a key's standing requirements with an account key only", async () => {
    const { key, accountKey } = await createRequestor();
    const me = (await (await call("/v1/requestors/me", { headers: { authorization: `Bearer ${key}` } })).json()) as {
      keyId: string;
    };
    const put = (bearer: string, body: unknown) =>
      call(`/v1/offers/requirements/${me.keyId}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await put(key, { regions: ["eu-central"] })).status).toBe(403);
    const ok = await put(accountKey, { regions: ["eu-central"], maxPrice: 20, priority: 7 });
    expect(ok.status).toBe(200);
    const read = await call(`/v1/offers/requirements/${me.keyId}`, { headers: { authorization: `Bearer ${key}` } });
    expect(await read.json()).toEqual({ regions: ["eu-central"], maxPrice: 20, priority: 7 });
    expect((await put(accountKey, { minScore: 2 })).status).toBe(400);
    expect((await put(accountKey, { unknown: 1 })).status).toBe(400);
  });
});
