/**
 * The headers an HTTP (inference) relay answers with. A host's answer is served from the
 * gateway's own origin, so nothing in it may act there: its media type passes only when it is a
 * type an inference API answers with (anything else, HTML and SVG included, goes out as
 * `application/octet-stream`), the browser is told not to sniff and to sandbox the answer, and
 * the host's caching instructions never reach shared caches (answers are per key).
 */
import type { EngineReport } from "./engine.js";

const PASSED_MEDIA_TYPES = [
  "application/json",
  "application/x-ndjson",
  "application/octet-stream",
  "text/event-stream",
  "text/plain",
  "text/markdown",
  "text/csv",
  "audio/mpeg",
  "audio/wav",
  "audio/ogg",
  "audio/flac",
  "audio/aac",
  "audio/opus",
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/gif",
];

/** The media type of a `content-type`, lower-cased, when it is one a relay passes; else octet-stream. */
export function passedContentType(contentType: string | null): string {
  if (!contentType) return "application/octet-stream";
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  return PASSED_MEDIA_TYPES.includes(mediaType) ? contentType : "application/octet-stream";
}

export function relayedResponseHeaders(upstream: Headers, conductor: Record<string, string>): Headers {
  const headers = new Headers(conductor);
  headers.set("content-type", passedContentType(upstream.get("content-type")));
  const encoding = upstream.get("content-encoding");
  if (encoding) headers.set("content-encoding", encoding);
  headers.set("x-content-type-options", "nosniff");
  headers.set("content-security-policy", "default-src 'none'; sandbox");
  headers.set("cache-control", "no-store");
  return headers;
}

/**
 * What the relay engine did, as response headers (docs/protocol.md, "The relay engine"):
 * `X-Conductor-Failovers` (failed attempts before the answer), `X-Conductor-Hedged` (`first` or
 * `hedge`: whose answer this is, when a hedge was sent) and `X-Conductor-Quorum` (`agreed/asked`,
 * for a quorum read).
 */
export function engineHeaders(report: EngineReport): Record<string, string> {
  const headers: Record<string, string> = { "x-conductor-failovers": String(report.failovers) };
  if (report.hedged) headers["x-conductor-hedged"] = report.hedgeWon ? "hedge" : "first";
  if (report.quorum) headers["x-conductor-quorum"] = `${report.quorum.agreed}/${report.quorum.asked}`;
  return headers;
}
