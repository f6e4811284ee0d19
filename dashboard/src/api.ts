/**
 * The gateway's public read routes the dashboard shows, through the typed client of the whole
 * API (`hc<AppType>` from `hono/client`): a route the dashboard reads that changes shape fails
 * `npm run typecheck`. Same origin: the Worker serves the dashboard beside the API.
 */
import { hc } from "hono/client";
import type { AppType } from "../../workers/app.js";

const gateway = hc<AppType>(location.origin);

/** The answer's JSON when the route answered 2xx; otherwise an error naming the route and the answer. */
async function read<T>(
  what: string,
  request: Promise<{ ok: boolean; status: number; json(): Promise<T>; text(): Promise<string> }>,
) {
  const res = await request;
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res.json();
}

export const api = {
  hosts: () => read("hosts", gateway.v1.hosts.$get({ query: { limit: "200" } })),
  reputation: (id: string) => read("reputation", gateway.v1.hosts[":id"].reputation.$get({ param: { id }, query: {} })),
  reportCards: (host: string) => read("report cards", gateway.v1["report-cards"].$get({ query: { host, limit: "200" } })),
  relayMetrics: () => read("relay metrics", gateway.v1.metrics.relays.$get({ query: {} })),
  batches: () => read("batches", gateway.v1.batches.$get({ query: { limit: "25" } })),
  batch: (id: string) => read("batch", gateway.v1.batches[":id"].$get({ param: { id } })),
  supply: () => read("supply", gateway.v1.ledger.supply.$get()),
  settlements: () => read("settlements", gateway.v1.settlements.$get({ query: { limit: "25" } })),
};

export type HostJson = Awaited<ReturnType<typeof api.hosts>>["hosts"][number];
export type BatchJson = Awaited<ReturnType<typeof api.batches>>["batches"][number];
export type BatchDetailJson = Awaited<ReturnType<typeof api.batch>>;
export type BatchState = BatchJson["state"];

/** The public inclusion proof of a session's receipt (the session's first receipt is index 0). */
export const proofPath = (sessionId: string, index = 0) =>
  `/v1/sessions/${encodeURIComponent(sessionId)}/receipts/${index}/proof`;
