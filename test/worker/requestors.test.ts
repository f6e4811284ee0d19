import { describe, expect, it } from "vitest";
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

describe("requestors and API keys", () => {
  it("needs the admin token to create requestors", async () => {
    const res = await call("/v1/requestors", {
      method: "POST",
      body: JSON.stringify({ name: "x", stake: "1" }),
      headers: { authorization: "Bearer wrong" },
    });
    expect(res.status).toBe(401);
  });

  it.each([
    ["negative stake", { name: "dapp", stake: "-5" }],
    ["huge stake", { name: "dapp", stake: "1".repeat(25) }],
    ["fractional stake", { name: "dapp", stake: 1.5 }],
    ["missing name", { stake: "100" }],
  ])("refuses a requestor with %s", async (_label, body) => {
    const res = await admin("/v1/requestors", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_field");
  });

  it("shows a key once, stores only its hash, and stops honouring it when revoked", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris });
    const requestor = await createRequestor(3_000_000n);
    const second = (await (await admin(`/v1/requestors/${requestor.id}/keys`)).json()) as { id: string; key: string };
    expect(second.key).toMatch(/^cr_/);

    const listed = (await (await admin(`/v1/requestors/${requestor.id}/keys`, undefined, "GET")).json()) as {
      keys: Record<string, unknown>[];
    };
    // Its relay key, its account key, and the second (relay) key.
    expect(listed.keys).toHaveLength(3);
    expect(JSON.stringify(listed)).not.toContain(second.key);
    expect(JSON.stringify(listed)).not.toContain(requestor.key);
    expect(JSON.stringify(listed)).not.toContain(requestor.accountKey);

    expect((await rpc(service, second.key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    await reportReceipts();
    const me = (await (await call("/v1/requestors/me", { headers: { authorization: `Bearer ${second.key}` } })).json()) as {
      id: string;
      stake: string;
      quotaPerSession: number;
      sessions: { service: string; usedComputeUnits: number; relays: number }[];
    };
    expect(me).toMatchObject({ id: requestor.id, stake: "3000000", quotaPerSession: 3000 });
    expect(me.sessions.find((s) => s.service === service)).toMatchObject({ relays: 1, usedComputeUnits: 1 });

    expect((await admin(`/v1/requestors/${requestor.id}/keys/${second.id}`, undefined, "DELETE")).status).toBe(200);
    expect((await rpc(service, second.key, eth("eth_chainId"), PLACES.paris)).status).toBe(401);
    expect((await call("/v1/requestors/me", { headers: { authorization: `Bearer ${second.key}` } })).status).toBe(401);
    expect((await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    expect((await admin(`/v1/requestors/${requestor.id}/keys/${second.id}`, undefined, "DELETE")).status).toBe(404);
  });
});
