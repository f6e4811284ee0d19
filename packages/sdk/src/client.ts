/**
 * A typed client of a gateway's public and signed API. Requests go through `hc<AppType>`
 * (`hono/client`), so paths and parameters are checked against the Worker's own routes and every
 * answer has the type its route's zod schema declares: the SDK cannot drift from the API. At
 * run time it needs only `fetch` (Node 20+, browsers, Workers); `AppType` is imported as a type.
 */
import { hc } from "hono/client";
import type { AppType } from "../../../workers/app.js";
import { answerOf } from "./errors.js";
import { economyWrites, hostWrites } from "./writes.js";

/** `createConductorClient`'s parameters. */
export interface ConductorClientConfig {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8787`. */
  gateway: string;
  /** An API key, for the reads that need one (`getCurrentSession`); public reads need none. */
  apiKey?: string;
  /** Another `fetch` (a test's, a Worker's service binding). */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

type BatchState = "pending" | "submitted" | "committed" | "verified" | "expired" | "failed";

/**
 * A client of one gateway: typed reads of the registry, sessions, receipts, report cards,
 * batches, proofs and the economy, and signed writes (host registration, staking, licences)
 * for an account that can sign EIP-712 typed data (a viem local account).
 * Every method throws `ConductorApiError` (status and error code) when the gateway refuses.
 *
 * @example
 * import { createConductorClient, verifyReceiptProof } from "@conductor-relay/sdk";
 *
 * const client = createConductorClient({ gateway: "http://127.0.0.1:8787" });
 * const session = await client.getSession(sessionId);
 * const proof = await client.getReceiptProof(sessionId, 0);
 * const batch = await client.getBatch(proof.batchId);
 * verifyReceiptProof(proof, { batchRoot: batch.root }); // { valid: true }
 */
export function createConductorClient({ gateway, apiKey, fetch }: ConductorClientConfig) {
  const base = gateway.replace(/\/+$/, "");
  const api = hc<AppType>(base, {
    ...(fetch && { fetch }),
    ...(apiKey && { headers: { authorization: `Bearer ${apiKey}` } }),
  });
  const reads = {
    gateway: base,
    /** The typed `hc<AppType>` client underneath, for routes the SDK has no method for. */
    api,
    /** The EIP-712 domain every signed message must name (chain id and the deployment's `ProofRegistry`). */
    getSigningDomain: async () => answerOf(await api.v1["signing-domain"].$get()),
    /** The nonce the operator's next host message must carry, as a bigint. */
    getOperatorNonce: async (address: string) =>
      BigInt((await answerOf(await api.v1.operators[":address"].nonce.$get({ param: { address } }))).nonce),
    getServices: async () => answerOf(await api.v1.services.$get()),
    getHost: async (id: string) => answerOf(await api.v1.hosts[":id"].$get({ param: { id } })),
    getHosts: async (query: { service?: string; cursor?: string; limit?: number } = {}) =>
      answerOf(await api.v1.hosts.$get({ query: { ...query, limit: query.limit?.toString() } })),
    /** A host's reputation as of an epoch (default: now), whether it is jailed, and its jail terms. */
    getHostReputation: async (id: string, { epoch }: { epoch?: number } = {}) =>
      answerOf(await api.v1.hosts[":id"].reputation.$get({ param: { id }, query: { epoch: epoch?.toString() } })),
    /** The caller's session of a service (needs `apiKey`). */
    getCurrentSession: async (service: string) => answerOf(await api.v1.sessions.current.$get({ query: { service } })),
    /** A session's public record, usage and `pipeline` (why cron has not closed or batched it yet). */
    getSession: async (id: string) => answerOf(await api.v1.sessions[":id"].$get({ param: { id } })),
    /** A session's receipts in relay order; `next` is the `after` of the next page. */
    getReceipts: async (id: string, query: { after?: number; limit?: number } = {}) =>
      answerOf(
        await api.v1.sessions[":id"].receipts.$get({
          param: { id },
          query: { after: query.after?.toString(), limit: query.limit?.toString() },
        }),
      ),
    /** A receipt's proof to its session root and the session's proof to the batch root (`not_committed` before cron batched it). */
    getReceiptProof: async (id: string, index: number) =>
      answerOf(await api.v1.sessions[":id"].receipts[":index"].proof.$get({ param: { id, index: String(index) } })),
    /** The fishermen's report cards, by host or session. */
    getReportCards: async (query: { host?: string; session?: string; cursor?: string; limit?: number } = {}) =>
      answerOf(await api.v1["report-cards"].$get({ query: { ...query, limit: query.limit?.toString() } })),
    /** Batches, newest first. */
    getBatches: async (query: { state?: BatchState; cursor?: string; limit?: number } = {}) =>
      answerOf(await api.v1.batches.$get({ query: { ...query, limit: query.limit?.toString() } })),
    /** One batch with its contract and member sessions. */
    getBatch: async (id: string) => answerOf(await api.v1.batches[":id"].$get({ param: { id } })),
    getSettlement: async (id: string) => answerOf(await api.v1.batches[":id"].settlement.$get({ param: { id } })),
    /** A ledger holder's balance (balance, available, pending) and accounts. */
    getLedgerHolder: async (holder: string) => answerOf(await api.v1.ledger.holders[":holder"].$get({ param: { holder } })),
    /** A stake pool (`host:<id>`, `validator:<address>`, `requestor:<id>`): bonded, unbonding, positions, unbonding entries. */
    getStakePool: async (pool: string) => answerOf(await api.v1.stakes.pools[":id"].$get({ param: { id: pool } })),
    /** A holder's stake positions and unbonding entries. */
    getStakeHolder: async (holder: string) => answerOf(await api.v1.stakes.holders[":holder"].$get({ param: { holder } })),
    getValidators: async () => answerOf(await api.v1.validators.$get()),
    getLicence: async (id: string) => answerOf(await api.v1.licences[":id"].$get({ param: { id } })),
    getLicences: async (query: { holder?: string; boundTo?: string; cursor?: string; limit?: number } = {}) =>
      answerOf(await api.v1.licences.$get({ query: { ...query, limit: query.limit?.toString() } })),
  };
  return { ...reads, ...hostWrites(api, reads), ...economyWrites(api, reads) };
}

/** A client made by `createConductorClient`. */
export type ConductorClient = ReturnType<typeof createConductorClient>;
/** The client's reads, which the signed writes build on. */
export type ConductorReads = Pick<ConductorClient, "getSigningDomain" | "getOperatorNonce">;

/** A session's public record, as `GET /v1/sessions/{id}` answers it. */
export type Session = Awaited<ReturnType<ConductorClient["getSession"]>>;
/** A page of receipts. */
export type ReceiptPage = Awaited<ReturnType<ConductorClient["getReceipts"]>>;
/** A page of report cards. */
export type ReportCardPage = Awaited<ReturnType<ConductorClient["getReportCards"]>>;
/** One batch with its members. */
export type Batch = Awaited<ReturnType<ConductorClient["getBatch"]>>;
/** A receipt's inclusion proof, as `GET /v1/sessions/{id}/receipts/{index}/proof` answers it. */
export type ReceiptProof = Awaited<ReturnType<ConductorClient["getReceiptProof"]>>;
/** A registered host. */
export type Host = Awaited<ReturnType<ConductorClient["getHost"]>>;
