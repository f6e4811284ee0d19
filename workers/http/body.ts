/** Request bodies read with a size cap, so an oversized body is refused before it is buffered whole. */
import { apiError, payloadTooLarge } from "../errors.js";

/**
 * Reads the body as bytes; 413 when `Content-Length` or the bytes read exceed `limit`. A body
 * with a `Content-Length` within the limit is read in one native call (HTTP framing holds it to
 * that length); one without (chunked) is counted chunk by chunk and cancelled past the limit.
 */
export async function readBodyCapped(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const length = request.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > limit) throw payloadTooLarge(limit);
  // `request.body` is not touched on this path: reading it makes the runtime build a stream object.
  if (length !== null && Number.isSafeInteger(declared)) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > limit) throw payloadTooLarge(limit);
    return body;
  }
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Reads a JSON object body; 400 `malformed_json` when it is not one. */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  return parseJsonObject(await readBodyCapped(request, limit));
}

/** As `readJsonObject`, but an empty body is an empty object (for requests whose fields are all optional). */
export async function readOptionalJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBodyCapped(request, limit);
  return bytes.byteLength === 0 ? {} : parseJsonObject(bytes);
}

/** Decodes whole bodies only (no `stream` option), so one decoder serves every request and relay. */
export const UTF8 = new TextDecoder();

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch {
    throw apiError("malformed_json", "The request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw apiError("malformed_json", "The request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
