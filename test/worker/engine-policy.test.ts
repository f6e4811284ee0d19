import { describe, expect, it } from "vitest";
import { DEFAULT_RELAY_POLICY } from "../../protocol/relay-policy.js";
import { admin, call, createService, unique } from "./helpers.js";

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe("a service's relay policy", () => {
  it("takes the defaults when none is given and shows them", async () => {
    const id = await createService({ kind: "jsonrpc", chainId: 31337 });
    const service = (await (await call(`/v1/services/${id}`)).json()) as { relayPolicy: unknown };
    expect(service.relayPolicy).toEqual(DEFAULT_RELAY_POLICY);
  });

  it("is validated when the service is created: bad fields are 400 invalid_field and nothing is created", async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ quorumMethods: ["eth_sendRawTransaction"] }, "quorumMethods"],
      [{ quorumMethods: "eth_call" }, "quorumMethods"],
      [{ quorumSize: 1 }, "quorumSize"],
      [{ hedgeBudgetPercent: 101 }, "hedgeBudgetPercent"],
      [{ hedgeMinDelayMs: 1.5 }, "hedgeMinDelayMs"],
      [{ hedge: "yes" }, "hedge"],
      [{ maxAttempts: 0 }, "maxAttempts"],
      [{ surprise: true }, "surprise"],
    ];
    for (const [relayPolicy, field] of bad) {
      const id = unique("svc");
      const res = await admin("/v1/services", { id, kind: "jsonrpc", chainId: 31337, relayPolicy });
      expect(res.status, JSON.stringify(relayPolicy)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("invalid_field");
      expect(error.message).toContain(field);
      expect((await call(`/v1/services/${id}`)).status).toBe(404);
    }
    const inference = unique("svc");
    const res = await admin("/v1/services", {
      id: inference,
      kind: "http",
      model: "m",
      relayPolicy: { quorumMethods: ["eth_call"] },
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain("quorum reads are for JSON-RPC services");
    expect((await call(`/v1/services/${inference}`)).status).toBe(404);
  });

  it("is replaced whole by PATCH, which leaves the allow list alone unless it names it", async () => {
    const id = await createService({ kind: "jsonrpc", chainId: 31337, allowedMethods: ["debug_*"] });
    const res = await admin(`/v1/services/${id}`, { relayPolicy: { hedge: true, quorumMethods: ["eth_call"] } }, "PATCH");
    expect(res.status).toBe(200);
    const changed = (await res.json()) as { allowedMethods: string[]; relayPolicy: typeof DEFAULT_RELAY_POLICY };
    expect(changed.allowedMethods).toEqual(["debug_*"]);
    expect(changed.relayPolicy).toEqual({ ...DEFAULT_RELAY_POLICY, hedge: true, quorumMethods: ["eth_call"] });
    const refused = await admin(`/v1/services/${id}`, { relayPolicy: { quorumSize: 99 } }, "PATCH");
    expect(refused.status).toBe(400);
    const kept = (await (await call(`/v1/services/${id}`)).json()) as { relayPolicy: typeof DEFAULT_RELAY_POLICY };
    expect(kept.relayPolicy.hedge).toBe(true);
    // A body naming neither clears the allow list, as before relay policies.
    const cleared = (await (await admin(`/v1/services/${id}`, {}, "PATCH")).json()) as {
      allowedMethods: string[];
      relayPolicy: typeof DEFAULT_RELAY_POLICY;
    };
    expect(cleared.allowedMethods).toEqual([]);
    expect(cleared.relayPolicy.hedge).toBe(true);
  });
});
