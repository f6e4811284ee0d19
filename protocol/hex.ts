/** Hex helpers shared by digests, seeds and ids (lower-case, 0x-prefixed). */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

export type Hex = `0x${string}`;

export function toHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`;
}

/** SHA-256 of a UTF-8 string or raw bytes, as 0x-hex. */
export function sha256Hex(input: string | Uint8Array): Hex {
  return toHex(sha256(typeof input === "string" ? utf8ToBytes(input) : input));
}
