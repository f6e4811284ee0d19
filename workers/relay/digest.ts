/**
 * SHA-256 on the relay path (request and response digests, API key hashes), by the runtime's own
 * implementation (`node:crypto`, BoringSSL in workerd): the same digests as `sha256Hex` in
 * protocol/hex.ts, which stays pure JavaScript because the SDK and browsers import it, at a
 * fraction of its CPU (three digests per relay; see docs/performance.md).
 */
import { createHash } from "node:crypto";
import type { Hex } from "../../protocol/hex.js";

/** SHA-256 of a UTF-8 string or raw bytes, as 0x-hex. */
export function sha256Hex(input: string | Uint8Array): Hex {
  return `0x${createHash("sha256").update(input).digest("hex")}`;
}
