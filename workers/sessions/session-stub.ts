/** Finding a session's Durable Object and the session a request belongs to. */

import { type SessionCoordinates, sessionEpoch } from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import { sessionIdFor } from "./plan-session.js";

/** The `RelaySession` object of a session id (typed through the binding, so nothing here imports the object). */
export function relaySessionStub(env: Env, sessionId: string) {
  return env.RELAY_SESSION.getByName(sessionId);
}

/**
 * The session a request belongs to: the current epoch's, or, during the rollover grace window,
 * the previous epoch's when the caller names it in `X-Conductor-Session` (so a client can finish
 * a conversation with the hosts it had). `requirements` (canonical, docs/market.md) make it the
 * session of those requirements.
 */
export function sessionForRequest(
  config: GatewayConfig,
  requestorId: string,
  serviceId: string,
  now: number,
  requestedSessionId: string | undefined,
  requirements = "",
): SessionCoordinates & { sessionId: string } {
  const epoch = sessionEpoch(now, config.sessionSeconds);
  const extra = requirements ? { requirements } : {};
  if (requestedSessionId) {
    const previous = { requestorId, serviceId, epoch: epoch - 1, ...extra };
    const withinGrace = now - epoch * config.sessionSeconds * 1000 < config.rolloverGraceSeconds * 1000;
    const previousId = sessionIdFor(previous);
    if (withinGrace && requestedSessionId === previousId) return { ...previous, sessionId: previousId };
  }
  const current = { requestorId, serviceId, epoch, ...extra };
  return { ...current, sessionId: sessionIdFor(current) };
}

/** The `Fisherman` object of a session id. */
export function fishermanStub(env: Env, sessionId: string) {
  return env.FISHERMAN.getByName(sessionId);
}

/** The commit pipeline's single writer (one instance, named "main"). */
export function batchProducerStub(env: Env) {
  return env.BATCH_PRODUCER.getByName("main");
}
