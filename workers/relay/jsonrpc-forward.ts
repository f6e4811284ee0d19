/** Forwarding a JSON-RPC relay: the answer is read whole and checked before it is returned. */
import { isJsonRpcResponse, type JsonRpcCall } from "../../protocol/jsonrpc.js";
import { type AttemptBudget, type AttemptsResult, fetchFromHost, tryHosts } from "./attempts.js";

export interface JsonRpcAnswer {
  status: number;
  body: string;
}

/**
 * Sends the body to each candidate in turn; an answer that is not well-formed JSON-RPC
 * (garbage, HTML, a cut body) counts as a host failure and fails over. With `expectedChainId`,
 * an `eth_chainId` or `net_version` answer naming another chain is a wrong answer and fails
 * over too (the check that can be made per request).
 */
export function forwardJsonRpc(
  budget: AttemptBudget,
  body: Uint8Array,
  calls: readonly JsonRpcCall[],
  batch: boolean,
  expectedChainId?: number | null,
): Promise<AttemptsResult<JsonRpcAnswer>> {
  return tryHosts(budget, async (host, signal) => {
    const headers = { "content-type": "application/json", accept: "application/json" };
    const fetched = await fetchFromHost(host.id, host.endpoint, { method: "POST", headers, body }, signal);
    if (!fetched.ok) return fetched;
    const response = fetched.value;
    const text = await response.text();
    if (!isJsonRpcResponse(text, batch)) {
      return { ok: false, failure: { hostId: host.id, reason: "bad_response", status: response.status } };
    }
    if (expectedChainId && !batch && namesAnotherChain(calls[0].method, text, expectedChainId)) {
      return { ok: false, failure: { hostId: host.id, reason: "wrong_answer", status: response.status } };
    }
    return { ok: true, value: { status: response.status, body: batch ? inRequestOrder(text, calls) : text } };
  });
}

/**
 * JSON-RPC lets a server answer a batch in any order; callers are promised request order, so the
 * answers are sorted by id when every id is distinct and answered.
 */
function inRequestOrder(text: string, calls: readonly JsonRpcCall[]): string {
  const answers = JSON.parse(text) as { id?: unknown }[];
  const byId = new Map(answers.map((a) => [JSON.stringify(a.id ?? null), a]));
  if (byId.size !== answers.length || answers.length !== calls.length) return text;
  const ordered = calls.map((call) => byId.get(JSON.stringify(call.id ?? null)));
  if (ordered.some((a) => a === undefined)) return text;
  const alreadyOrdered = ordered.every((a, i) => a === answers[i]);
  return alreadyOrdered ? text : JSON.stringify(ordered);
}

function namesAnotherChain(method: string, text: string, chainId: number): boolean {
  if (method !== "eth_chainId" && method !== "net_version") return false;
  const result = (JSON.parse(text) as { result?: unknown }).result;
  if (typeof result !== "string") return false;
  const named = method === "eth_chainId" ? Number.parseInt(result, 16) : Number(result);
  return named !== chainId;
}
