/** Forwarding an HTTP (inference) relay: fail over until a host answers with headers, then stream. */
import { type AttemptBudget, type AttemptsResult, statusFailure, tryHosts } from "./attempts.js";

/** Request headers passed to hosts; the caller's credentials and cookies never are. */
const FORWARDED_HEADERS = ["content-type", "accept", "accept-encoding", "openai-beta"];

export function forwardHttp(
  budget: AttemptBudget,
  request: { method: string; subpath: string; search: string; headers: Headers; body: Uint8Array | null },
): Promise<AttemptsResult<Response>> {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  return tryHosts(budget, async (host, signal) => {
    const response = await fetch(`${host.endpoint}${request.subpath}${request.search}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      signal,
    });
    const failure = statusFailure(host.id, response.status);
    if (failure) {
      await response.body?.cancel();
      return { ok: false, failure };
    }
    return { ok: true, value: response };
  });
}
