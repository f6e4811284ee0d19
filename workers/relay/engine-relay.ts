/**
 * The engine's entry points for relays (docs/protocol.md, "The relay engine"): a request and its
 * service's policy in, the engine's result out. The HTTP relay route calls these; so can any
 * other relay path with a request and one answer (a WebSocket connection's JSON-RPC request):
 * `relayJsonRpc(config, serviceId, policy, candidates, started, request)`.
 */

import { httpHedgeable, jsonRpcHedgeable, quorumApplies, type RelayPolicy } from "../../protocol/relay-policy.js";
import type { GatewayConfig } from "../config.js";
import type { SessionHost } from "../sessions/plan-session.js";
import type { AttemptBudget } from "./attempts.js";
import { type EngineResult, type HedgePlan, hedgeBucketFor } from "./engine.js";
import { forwardHttp } from "./http-forward.js";
import {
  forwardJsonRpc,
  type JsonRpcAnswer,
  type JsonRpcForward,
  jsonRpcAnswerAccusable,
  jsonRpcAnswerKey,
} from "./jsonrpc-forward.js";

/** A relay's attempts and deadline: the service's overrides, else the gateway's configuration. */
export function policyBudget(
  config: GatewayConfig,
  policy: RelayPolicy,
  candidates: readonly SessionHost[],
  started: number,
): AttemptBudget {
  return {
    candidates,
    maxAttempts: policy.maxAttempts ?? config.maxAttempts,
    attemptTimeoutMs: policy.attemptTimeoutMs ?? config.attemptTimeoutMs,
    deadline: started + config.relayDeadlineMs,
  };
}

function hedgePlan(serviceId: string, policy: RelayPolicy, eligible: boolean): HedgePlan | null {
  if (!policy.hedge || !eligible) return null;
  return {
    bucket: hedgeBucketFor(serviceId, policy.hedgeBudgetPercent),
    percentile: policy.hedgePercentile,
    minDelayMs: policy.hedgeMinDelayMs,
  };
}

/**
 * A JSON-RPC request (single or batch) through the engine: a quorum when the policy names its
 * method (and it is pinned to a block), else hedged when every call is a read and the policy
 * hedges, else plain failover.
 */
export function relayJsonRpc(
  config: GatewayConfig,
  serviceId: string,
  policy: RelayPolicy,
  candidates: readonly SessionHost[],
  started: number,
  request: JsonRpcForward,
): Promise<EngineResult<JsonRpcAnswer>> {
  const budget = policyBudget(config, policy, candidates, started);
  if (quorumApplies(policy, request.calls, request.batch)) {
    return forwardJsonRpc(budget, request, {
      quorum: { size: policy.quorumSize, key: jsonRpcAnswerKey, accusable: jsonRpcAnswerAccusable },
    });
  }
  return forwardJsonRpc(budget, request, { hedge: hedgePlan(serviceId, policy, jsonRpcHedgeable(request.calls)) });
}

/** An HTTP (inference) request through the engine: hedged when the policy hedges and the method is GET, HEAD or POST. */
export function relayHttp(
  config: GatewayConfig,
  serviceId: string,
  policy: RelayPolicy,
  candidates: readonly SessionHost[],
  started: number,
  request: Parameters<typeof forwardHttp>[1],
): Promise<EngineResult<Response>> {
  const budget = policyBudget(config, policy, candidates, started);
  return forwardHttp(budget, request, { hedge: hedgePlan(serviceId, policy, httpHedgeable(request.method)) });
}
