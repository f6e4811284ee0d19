/**
 * Quorum reads feed the report cards (docs/protocol.md, "The relay engine"): a host whose answer
 * differed from the majority's gets a correctness sample against it in its session's fisherman
 * (`Fisherman.recordRelaySamples`), probe `quorum:<method>`, check `quorum` = 0. It is not part of
 * a probe round: the validator accounts for it apart from the committed plan.
 */
import type { JsonRpcCall } from "../../protocol/jsonrpc.js";
import type { ProbeSample } from "../../protocol/quality.js";
import { QUORUM_PROBE_PREFIX } from "../../protocol/relay-policy.js";
import { fishermanStub } from "../sessions/session-stub.js";
import type { EngineResult } from "./engine.js";

/** Sends the minority's samples to the session's fisherman; null when there is none (the common case). */
export function recordQuorumMinority(
  env: Env,
  sessionId: string,
  call: JsonRpcCall | undefined,
  result: EngineResult<unknown>,
  now: number,
): Promise<void> | null {
  const minority = result.engine.quorum?.minority ?? [];
  if (!call || minority.length === 0) return null;
  const request = JSON.stringify({ method: call.method, params: call.params ?? [] }).slice(0, 1024);
  const samples: ProbeSample[] = minority.map((m) => ({
    hostId: m.hostId,
    at: now,
    probe: `${QUORUM_PROBE_PREFIX}${call.method}`,
    ok: true,
    latencyMs: m.latencyMs,
    checks: { quorum: 0 },
    request,
  }));
  return fishermanStub(env, sessionId)
    .recordRelaySamples(samples)
    .then(
      () => undefined,
      (error: unknown) => console.error("quorum minority sample not recorded", sessionId, String(error)),
    );
}
