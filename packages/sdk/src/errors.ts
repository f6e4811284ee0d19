/**
 * What a refusal from the gateway looks like to SDK callers: every error the API answers is
 * `{"error":{"code","message"}}` with an HTTP status (docs/errors.md), and becomes one
 * `ConductorApiError` carrying both, so callers branch on `code`, never on the message.
 */

/**
 * The gateway refused a request: `status` is the HTTP status, `code` the error code of
 * docs/errors.md (`nonce_mismatch`, `insufficient_balance`, ...), `message` what to do about it.
 *
 * @example
 * try {
 *   await client.getSession("sess_missing");
 * } catch (error) {
 *   if (error instanceof ConductorApiError && error.code === "unknown_session") console.log("no such session");
 * }
 */
export class ConductorApiError extends Error {
  override name = "ConductorApiError";
  constructor(
    /** The HTTP status of the answer. */
    readonly status: number,
    /** The gateway's error code (docs/errors.md); `http_<status>` when the body carried none. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What any refused call of the SDK may throw: the gateway's refusal, or the network's failure (`TypeError` from `fetch`). */
export type ConductorErrorType = ConductorApiError | TypeError;

interface AnyResponse {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * The JSON body of a successful answer, typed as the route declares it; a refusal is thrown as
 * `ConductorApiError`.
 *
 * @example
 * const session = await answerOf(await api.v1.sessions[":id"].$get({ param: { id } }));
 */
export async function answerOf<R extends AnyResponse>(response: R): Promise<Awaited<ReturnType<R["json"]>>> {
  if (response.ok) return (await response.json()) as Awaited<ReturnType<R["json"]>>;
  const text = await response.text();
  let code = `http_${response.status}`;
  let message = text.slice(0, 500) || `HTTP ${response.status}`;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // Not JSON (a proxy's page, say): the status and the text are all there is.
  }
  throw new ConductorApiError(response.status, code, message);
}
