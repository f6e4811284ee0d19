/** Hex helpers shared by digests, seeds and ids (lower-case, 0x-prefixed). */

import { bytesToHex } from "@noble/hashes/utils.js";

export type Hex = `0x${string}`;

export function toHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`;
}

/** SHA-256 of a UTF-8 string or raw bytes, as 0x-hex (protocol/sha256.ts: no allocation per call). */
export { sha256Hex } from "./sha256.js";
