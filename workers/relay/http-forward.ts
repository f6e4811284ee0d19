/** Forwarding an HTTP (inference) relay: through the engine until a host answers with headers, then stream (a hedge races the headers). */
import { type AttemptBudget, fetchFromHost } from "./attempts.js";
import { type EnginePlan, type EngineResult, runEngine } from "./engine.js";

/** Request headers passed to hosts; the caller's credentials and cookies never are. */
const FORWARDED_HEADERS = ["content-type", "accept", "accept-encoding", "openai-beta"];

export function forwardHttp(
  budget: AttemptBudget,
  request: { method: string; subpath: string; search: string; headers: Headers; body: Uint8Array<ArrayBuffer> | null },
  plan: EnginePlan<Response> = {},
): Promise<EngineResult<Response>> {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  return runEngine(
    budget,
    (host, signal) =>
      fetchFromHost(
        host.id,
        `${host.endpoint}${request.subpath}${request.search}`,
        { method: request.method, headers, body: request.body },
        signal,
      ),
    // An answer that lost a hedge: its body is never read.
    { discard: (response) => void response.body?.cancel().catch(() => undefined), ...plan },
  );
}
