/** Forwarding an HTTP (inference) relay: fail over until a host answers with headers, then stream. */
import { type AttemptBudget, type AttemptsResult, fetchFromHost, tryHosts } from "./attempts.js";

/** Request headers passed to hosts; the caller's credentials and cookies never are. */
const FORWARDED_HEADERS = ["content-type", "accept", "accept-encoding", "openai-beta"];

export function forwardHttp(
  budget: AttemptBudget,
  request: { method: string; subpath: string; search: string; headers: Headers; body: Uint8Array<ArrayBuffer> | null },
): Promise<AttemptsResult<Response>> {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  return tryHosts(budget, (host, signal) =>
    fetchFromHost(
      host.id,
      `${host.endpoint}${request.subpath}${request.search}`,
      { method: request.method, headers, body: request.body },
      signal,
    ),
  );
}
