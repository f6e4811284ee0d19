/**
 * Relay priority end to end (docs/market.md, "Priority"), through the gateway's fetch handler: a
 * session at its in-flight limit (`SESSION_MAX_IN_FLIGHT` = 3 for this file's gateway, the same
 * Worker with that one var changed) because a fault host in `hold_stream` mode holds its streams
 * open; relays of priorities 2, 5 and 8 (`X-Conductor-Priority`) wait, in that order of arrival; a
 * full queue sheds its lowest waiter for a higher newcomer and refuses a newcomer lower than every
 * waiter, including one whose header asks 9 from a key whose standing requirement caps it at 1; when the held streams are released, the freed slots go to the highest priorities first
 * (their relay indexes are given at admission). No clock: the host's hold and release knobs, and
 * the session's queue length in this isolate (`waitingRelays`) as the point each relay has joined.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../workers/index.js";
import { waitingRelays } from "../../workers/relay/session-lease.js";
import { admin, BASE, call, createRequestor, createService, PLACES, registerHost, startFaultHost } from "./helpers.js";

const LIMIT = 3;
/** The gateway under test with a small in-flight limit (its configuration is read from these vars). */
const limited = { ...env, SESSION_MAX_IN_FLIGHT: String(LIMIT) } as Env;

function chat(service: string, key: string, priority?: number) {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}/v1/${service}/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      ...(priority === undefined ? {} : { "x-conductor-priority": String(priority) }),
    },
    body: JSON.stringify({ model: "conductor-demo-1", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  const response = worker.fetch(request as Parameters<typeof worker.fetch>[0], limited, ctx);
  return { response, done: () => waitOnExecutionContext(ctx) };
}

/** Until the session's queue in this isolate holds `n` relays (each `chat` call has reached it). */
async function waiting(sessionId: string, n: number) {
  for (let i = 0; i < 5_000 && waitingRelays(sessionId) !== n; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(waitingRelays(sessionId)).toBe(n);
}

const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("relay priority under the in-flight limit, through the gateway", () => {
  it("admits waiting relays highest priority first when slots free, and a full queue sheds the lowest", async () => {
    const service = await createService({ kind: "http", model: "conductor-demo-1" });
    const host = await startFaultHost();
    await registerHost({ endpoint: `${host.url}/v1`, services: [service], ...PLACES.frankfurt });
    await host.set({ mode: "hold_stream" }); // every stream sends its first chunk, then waits for a release
    const requestor = await createRequestor();
    const { key } = requestor;
    // A second relay key of the same requestor (same session) whose standing requirements cap its priority at 1.
    const issued = (await (await admin(`/v1/requestors/${requestor.id}/keys`, {})).json()) as { id: string; key: string };
    const capped = await call(`/v1/offers/requirements/${issued.id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${requestor.accountKey}`, "content-type": "application/json" },
      body: JSON.stringify({ priority: 1 }),
    });
    expect(capped.status).toBe(200);

    // The limit: three streams held open by the host.
    const held = await Promise.all([0, 1, 2].map(() => chat(service, key).response));
    for (const res of held) expect(res.status).toBe(200);
    const sessionId = held[0].headers.get("x-conductor-session") as string;
    expect((await host.stats()).requests).toBe(LIMIT);

    // Waiters arrive lowest priority first.
    const low = chat(service, key, 2);
    await waiting(sessionId, 1);
    const mid = chat(service, key, 5);
    await waiting(sessionId, 2);
    const high = chat(service, key, 8);
    await waiting(sessionId, 3);

    // The queue is full: a priority-3 newcomer sheds the priority-2 waiter (answered 429 at once) and takes its place.
    const newcomer = chat(service, key, 3);
    const shed = await low.response;
    expect(shed.status).toBe(429);
    expect(await codeOf(shed)).toBe("session_busy");
    expect(Number(shed.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(waitingRelays(sessionId)).toBe(3);
    // A newcomer below every waiter is refused itself.
    const lowest = await chat(service, key, 1).response;
    expect(lowest.status).toBe(429);
    expect(await codeOf(lowest)).toBe("session_busy");
    // So is a header of 9 from the key capped at 1 (uncapped, it would shed the priority-3 waiter).
    const cappedRelay = await chat(service, issued.key, 9).response;
    expect(cappedRelay.status).toBe(429);
    expect(await codeOf(cappedRelay)).toBe("session_busy");
    expect(waitingRelays(sessionId)).toBe(3);
    expect((await host.stats()).requests).toBe(LIMIT); // nobody waiting reached the host

    // Slots free: the held streams finish, and each freed slot goes to the best waiter.
    await host.release();
    for (const res of held) expect(await res.text()).toContain("data: [DONE]");
    const admitted = await Promise.all([high.response, mid.response, newcomer.response]);
    for (const res of admitted) expect(res.status).toBe(200);
    const index = admitted.map((res) => Number(res.headers.get("x-conductor-relay")));
    const heldIndexes = held.map((res) => Number(res.headers.get("x-conductor-relay")));
    // Priority 8 first, then 5, then 3, though 5 arrived before 8.
    expect(index[0]).toBeLessThan(index[1]);
    expect(index[1]).toBeLessThan(index[2]);
    expect(Math.min(...index)).toBeGreaterThan(Math.max(...heldIndexes));
    expect(waitingRelays(sessionId)).toBe(0);

    await host.set({ mode: "ok" });
    await host.release();
    for (const res of admitted) expect(await res.text()).toContain("data: [DONE]");
    await Promise.all([low, mid, high, newcomer].map((c) => c.done()));
  });
});
