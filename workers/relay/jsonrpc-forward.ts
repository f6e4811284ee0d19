/** Forwarding a JSON-RPC relay: the answer is read whole (up to a cap) and checked before it is returned. */
import { checkAnswer, type JsonRpcCall } from "../../protocol/jsonrpc.js";
import { type AttemptBudget, fetchFromHost } from "./attempts.js";
import { canonicalJson, type EnginePlan, type EngineResult, runEngine } from "./engine.js";
import { AnswerTooLarge, readTextCapped } from "./read-capped.js";

export interface JsonRpcAnswer {
  status: number;
  body: string;
}

export interface JsonRpcForward {
  body: Uint8Array<ArrayBuffer>;
  calls: readonly JsonRpcCall[];
  batch: boolean;
  /** Largest answer read, in bytes; a larger one counts as a host failure. */
  maxResponseBytes: number;
  /** With it, an `eth_chainId` or `net_version` answer naming another chain is a wrong answer. */
  expectedChainId?: number | null;
}

/**
 * Sends the body to each candidate in turn. An answer that is not a well-formed JSON-RPC answer
 * to this very request (garbage, HTML, a cut body, missing or foreign ids), that carries a
 * host-trouble error code, or that is larger than the cap counts as a host failure and fails
 * over; so does an `eth_chainId`/`net_version` answer naming another chain (the per-request check).
 */
export function forwardJsonRpc(
  budget: AttemptBudget,
  request: JsonRpcForward,
  plan: EnginePlan<JsonRpcAnswer> = {},
): Promise<EngineResult<JsonRpcAnswer>> {
  const { body, calls, batch, maxResponseBytes, expectedChainId } = request;
  return runEngine(
    budget,
    async (host, signal) => {
      const headers = { "content-type": "application/json", accept: "application/json" };
      const fetched = await fetchFromHost(host.id, host.endpoint, { method: "POST", headers, body }, signal);
      if (!fetched.ok) return fetched;
      const response = fetched.value;
      let text: string;
      try {
        text = await readTextCapped(response, maxResponseBytes);
      } catch (error) {
        if (error instanceof AnswerTooLarge) {
          return { ok: false, failure: { hostId: host.id, reason: "too_large", status: response.status } };
        }
        throw error;
      }
      const checked = checkAnswer(text, calls, batch);
      if (!checked.ok) return { ok: false, failure: { hostId: host.id, reason: checked.reason, status: response.status } };
      if (expectedChainId && !batch && namesAnotherChain(calls[0].method, text, expectedChainId)) {
        return { ok: false, failure: { hostId: host.id, reason: "wrong_answer", status: response.status } };
      }
      return { ok: true, value: { status: response.status, body: checked.body } };
    },
    plan,
  );
}

/**
 * The canonical form of a checked single answer, for quorum comparison: its `result`, or its
 * error's code and data (messages differ between node clients), with object keys sorted.
 */
export function jsonRpcAnswerKey(answer: JsonRpcAnswer): string {
  const parsed = JSON.parse(answer.body) as { result?: unknown; error?: { code?: unknown; data?: unknown } };
  if (parsed.error) return `error:${canonicalJson({ code: parsed.error.code, data: parsed.error.data })}`;
  return `result:${canonicalJson(parsed.result ?? null)}`;
}

function namesAnotherChain(method: string, text: string, chainId: number): boolean {
  if (method !== "eth_chainId" && method !== "net_version") return false;
  const result = (JSON.parse(text) as { result?: unknown }).result;
  if (typeof result !== "string") return false;
  const named = method === "eth_chainId" ? Number.parseInt(result, 16) : Number(result);
  return named !== chainId;
}

/** Whether a differing quorum answer is a wrong answer (a result) rather than "I do not know" (null, or an error). */
export function jsonRpcAnswerAccusable(answer: JsonRpcAnswer): boolean {
  const key = jsonRpcAnswerKey(answer);
  return key !== "result:null" && !key.startsWith("error:");
}
