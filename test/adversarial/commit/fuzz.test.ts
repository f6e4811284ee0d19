/**
 * Property-based fuzzing (fast-check) of the relay and registry endpoints: whatever a caller
 * sends, the gateway answers without a 5xx, a refused request changes nothing, an admitted relay
 * adds exactly one receipt, and afterwards the pipeline still closes, batches and commits.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import type { LocalAccount } from "viem";
import { describe, expect, it } from "vitest";
import { signEconomyMessage } from "../../../protocol/economy-messages.js";
import { epochStartMs, sessionEpoch } from "../../../protocol/session.js";
import { gatewayConfig } from "../../../workers/config.js";
import { closeMarginMs } from "../../../workers/sessions/session-messages.js";
import { batchProducerStub, relaySessionStub } from "../../../workers/sessions/session-stub.js";
import {
  ADMIN_TOKEN,
  call,
  createRequestor,
  createService,
  inAnHour,
  newOperator,
  PLACES,
  registerHost,
  reportReceipts,
  signRegistration,
  startFaultHost,
} from "../../worker/helpers.js";

const config = () => gatewayConfig(env);

/** The requestor's sessions (one per epoch it relayed in: a fuzz run may cross an epoch's end). */
async function sessionsOf(requestorId: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT id FROM sessions WHERE requestor_id = ? ORDER BY epoch").bind(requestorId).all();
  return rows.results.map((r) => r.id as string);
}

/** Everything a request could change, read straight from storage. */
async function fingerprint(requestorId: string): Promise<string> {
  let relays = 0;
  let used = 0;
  for (const id of await sessionsOf(requestorId)) {
    const usage = await relaySessionStub(env, id).usage();
    relays += usage?.relays ?? 0;
    used += usage?.usedComputeUnits ?? 0;
  }
  const counts = await env.DB.prepare(
    `SELECT (SELECT COUNT(*) FROM transfers) AS transfers, (SELECT COUNT(*) FROM operations) AS operations,
            (SELECT COUNT(*) FROM hosts) AS hosts, (SELECT COUNT(*) FROM host_services) AS hostServices,
            (SELECT COUNT(*) FROM services) AS services, (SELECT COUNT(*) FROM sessions) AS sessions,
            (SELECT COUNT(*) FROM api_keys) AS keys, (SELECT COUNT(*) FROM requestors) AS requestors,
            (SELECT COALESCE(SUM(next_nonce), 0) FROM operators) AS nonces,
            (SELECT COALESCE(SUM(credits_posted + debits_posted + credits_pending + debits_pending), 0) FROM accounts) AS volume,
            (SELECT group_concat(id || ':' || endpoint || ':' || status, ',') FROM hosts) AS hostRows,
            (SELECT group_concat(id || ':' || allowed_methods || ':' || method_compute_units, ',') FROM services) AS serviceRows`,
  ).first();
  return JSON.stringify({ relays, used, counts });
}

const methods = fc.oneof(
  fc.constantFrom(
    "eth_chainId",
    "eth_blockNumber",
    "eth_getBalance",
    "constructor",
    "__proto__",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "anvil_setBalance",
    "anvil_setChainId",
    "debug_traceTransaction",
    "eth_sendTransaction",
    "admin_peers",
  ),
  fc.string({ maxLength: 40 }),
);
const ids = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 12 }),
  fc.constant(null),
  fc.constant(undefined),
  fc.double(),
  fc.constant(2 ** 60),
  fc.jsonValue(),
);
/** A JSON-RPC 2.0 call with any method, id and params. */
const validCall = fc.record(
  { jsonrpc: fc.constant("2.0"), method: methods, params: fc.array(fc.jsonValue(), { maxLength: 3 }), id: ids },
  { requiredKeys: ["jsonrpc", "method"] },
);
/** Anything shaped roughly like a call. */
const oddCall = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant("2.0"), fc.constant("1.0"), fc.constant(2)),
    method: fc.oneof(methods, fc.jsonValue()),
    params: fc.jsonValue(),
    id: ids,
  },
  { requiredKeys: [] },
);
const bodies = fc.oneof(
  { arbitrary: validCall.map((c) => JSON.stringify(c)), weight: 6 },
  { arbitrary: fc.array(validCall, { minLength: 1, maxLength: 6 }).map((b) => JSON.stringify(b)), weight: 3 },
  { arbitrary: fc.array(oddCall, { maxLength: 4 }).map((b) => JSON.stringify(b)), weight: 1 },
  { arbitrary: oddCall.map((c) => JSON.stringify(c)), weight: 1 },
  { arbitrary: fc.string({ maxLength: 80 }), weight: 1 },
  { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 1 },
);
const relays = fc.record({
  body: bodies,
  key: fc.oneof(
    { arbitrary: fc.constant("bearer"), weight: 6 },
    { arbitrary: fc.constant("url"), weight: 2 },
    { arbitrary: fc.constantFrom("none", "wrong"), weight: 1 },
  ),
  method: fc.oneof({ arbitrary: fc.constant("POST"), weight: 8 }, { arbitrary: fc.constantFrom("GET", "PUT"), weight: 1 }),
  sessionHeader: fc.option(fc.string({ maxLength: 40 }), { nil: undefined, freq: 3 }),
  subpath: fc.oneof({ arbitrary: fc.constant(""), weight: 8 }, { arbitrary: fc.constantFrom("/", "/x"), weight: 1 }),
});

describe("fuzzing the relay and registry endpoints", () => {
  it("answers every request without a 5xx, changes nothing when it refuses, and the pipeline still commits", async () => {
    const service = await createService({
      kind: "jsonrpc",
      chainId: 31337,
      computeUnits: { default: 1, methods: { eth_call: 3 } },
    });
    const host = await startFaultHost();
    const hostOperator = newOperator();
    const hostId = await registerHost({ endpoint: host.url, services: [service], ...PLACES.frankfurt }, hostOperator);
    const { id: requestorId, key } = await createRequestor(100_000_000n);
    let admitted = 0;

    await fc.assert(
      fc.asyncProperty(relays, async (r) => {
        await reportReceipts();
        const before = await fingerprint(requestorId);
        const path = r.key === "url" ? `/k/${key}/v1/${service}${r.subpath}` : `/v1/${service}${r.subpath}`;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (r.key === "bearer") headers.authorization = `Bearer ${key}`;
        if (r.key === "wrong") headers.authorization = "Bearer cr_not-a-key";
        if (r.sessionHeader !== undefined) headers["x-conductor-session"] = r.sessionHeader;
        const res = await call(path, {
          method: r.method,
          headers,
          body: r.method === "GET" ? undefined : r.body,
          cf: { latitude: String(PLACES.paris.latitude), longitude: String(PLACES.paris.longitude) },
        } as RequestInit);
        await res.arrayBuffer();
        expect(res.status).toBeLessThan(500);
        await reportReceipts();
        const after = await fingerprint(requestorId);
        if (res.status >= 400) expect(after).toBe(before);
        else {
          admitted += 1;
          expect(JSON.parse(after).relays).toBe(JSON.parse(before).relays + 1);
        }
      }),
      { numRuns: 150 },
    );

    const operator: LocalAccount = newOperator();
    const valid = await signRegistration(operator, { endpoint: host.url, services: [service], ...PLACES.virginia });
    const fields = Object.keys(valid.message);
    const registry = fc.oneof(
      // A signed registration with one field changed to anything else.
      fc
        .record({ field: fc.constantFrom(...fields), value: fc.jsonValue() })
        .filter(({ field, value }) => JSON.stringify(value) !== JSON.stringify(valid.message[field]))
        .map(({ field, value }) => ({
          path: "/v1/hosts",
          method: "POST",
          body: JSON.stringify({ ...valid, message: { ...valid.message, [field]: value } }),
          admin: false,
        })),
      // Any JSON to any registry or economy route, with and without the admin token.
      fc.record({
        path: fc.constantFrom(
          "/v1/hosts",
          `/v1/hosts/${hostId}`,
          `/v1/hosts/${hostId}/leave`,
          "/v1/services",
          `/v1/services/${service}`,
          "/v1/requestors",
          "/v1/ledger/transfers",
          "/v1/stakes",
          "/v1/stakes/unstake",
          "/v1/validators",
          "/v1/requestors/me/unstake",
        ),
        method: fc.constantFrom("POST", "PATCH"),
        body: fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 60 }),
        ),
        admin: fc.boolean(),
      }),
      // A signed economy message for a stake it cannot pay for.
      fc
        .record({ amount: fc.bigInt({ min: 1n, max: 2n ** 80n }), id: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/) })
        .map(({ amount, id }) => ({ path: "/v1/stakes", method: "POST", amount, id, admin: false, body: "" })),
    );

    await fc.assert(
      fc.asyncProperty(registry, async (r) => {
        let body = r.body;
        if ("amount" in r) {
          const signed = await signEconomyMessage(operator, config().signingDomain, "Stake", {
            holder: operator.address,
            pool: `host:${hostId}`,
            amount: r.amount,
            id: r.id,
            deadline: inAnHour(),
          });
          body = JSON.stringify(signed);
        }
        const before = await fingerprint(requestorId);
        const res = await call(r.path, {
          method: r.method,
          headers: { "content-type": "application/json", ...(r.admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) },
          body,
        });
        await res.arrayBuffer();
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await fingerprint(requestorId)).toBe(before);
      }),
      { numRuns: 150 },
    );

    // The session full of odd relays still closes, is batched and goes to the chain.
    expect(admitted).toBeGreaterThan(0);
    const epoch = sessionEpoch(Date.now(), config().sessionSeconds);
    const now =
      epochStartMs(epoch + 1, config().sessionSeconds) + config().rolloverGraceSeconds * 1000 + closeMarginMs(config()) + 1;
    await reportReceipts();
    const report = await batchProducerStub(env).tick(now);
    expect(report.failedSteps).toEqual([]);
    let served = 0;
    for (const id of await sessionsOf(requestorId)) {
      const session = (await (await call(`/v1/sessions/${id}`)).json()) as {
        batchId: string | null;
        pipeline: unknown;
        usage: { relays: number };
      };
      expect(session.pipeline).toBeNull();
      expect(session.batchId).toBeTruthy();
      served += session.usage.relays;
      const batch = (await (await call(`/v1/batches/${session.batchId}`)).json()) as { state: string };
      expect(["submitted", "committed"]).toContain(batch.state);
    }
    expect(served).toBe(admitted);
  }, 180_000);
});
