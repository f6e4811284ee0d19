/**
 * SHA-256 without an allocation per call, for the relay path's digests (docs/performance.md):
 * noble's `sha256()` builds a hasher object, its buffers and a view per call, and with the UTF-8
 * copy of a string input that was a tenth of everything a relay allocated. Here the message
 * schedule, the state and the padding block are reused, a string is encoded into a reused
 * scratch buffer, and the digest goes straight to hex. The same digests as noble's `sha256`,
 * checked by property tests (test/node/sha256.test.ts); `sha256Hex` in protocol/hex.ts is this.
 *
 * Not reentrant, and it does not need to be: JavaScript runs this synchronous function one call
 * at a time.
 */
/** 0x-prefixed lower-case hex (the `Hex` of protocol/hex.ts, which re-exports this module). */
type Hex = `0x${string}`;

// biome-ignore format: the 64 round constants, eight per row
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const H = new Int32Array(8);
const tail = new Uint8Array(128);
const encoder = new TextEncoder();
/** Strings are encoded into this (grown on demand, never past `MAX_KEPT_SCRATCH`). */
let scratch = new Uint8Array(4096);
const MAX_KEPT_SCRATCH = 1 << 20;
/** The digest's hex as ASCII, decoded into one string at the end (building it by concatenation allocated forty pieces). */
const hexBytes = new Uint8Array(66);
hexBytes[0] = 0x30; // 0
hexBytes[1] = 0x78; // x
const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");
const decoder = new TextDecoder();

function compress(b: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++, o += 4) W[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (s1 + W[i - 7] + s0 + W[i - 16]) | 0;
  }
  let a = H[0];
  let bb = H[1];
  let c = H[2];
  let d = H[3];
  let e = H[4];
  let f = H[5];
  let g = H[6];
  let h = H[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + bb) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}

/** SHA-256 of `bytes[0 .. length)`, as 0x-hex. */
function digest(bytes: Uint8Array, length: number): Hex {
  H.set(IV);
  const full = length - (length % 64);
  for (let o = 0; o < full; o += 64) compress(bytes, o);
  const rest = length - full;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = bytes[full + i];
  tail[rest] = 0x80;
  const blocks = rest < 56 ? 1 : 2;
  const end = blocks * 64;
  // The message length in bits, big-endian, in the last 8 bytes (lengths past 2^32 bits included).
  const high = Math.floor(length / 0x20000000);
  const low = (length * 8) >>> 0;
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = low >>> 24;
  tail[end - 3] = low >>> 16;
  tail[end - 2] = low >>> 8;
  tail[end - 1] = low;
  compress(tail, 0);
  if (blocks === 2) compress(tail, 64);
  for (let i = 0, at = 2; i < 8; i++) {
    const w = H[i];
    for (let shift = 28; shift >= 0; shift -= 4) hexBytes[at++] = HEX_DIGITS[(w >>> shift) & 15];
  }
  return decoder.decode(hexBytes) as Hex;
}

/** SHA-256 of a UTF-8 string or raw bytes, as 0x-hex. */
export function sha256Hex(input: string | Uint8Array): Hex {
  if (typeof input !== "string") return digest(input, input.length);
  // At most three bytes per UTF-16 unit (a surrogate pair is two units and four bytes).
  const room = input.length * 3;
  if (room > scratch.length) {
    if (room > MAX_KEPT_SCRATCH) {
      const bytes = encoder.encode(input);
      return digest(bytes, bytes.length);
    }
    scratch = new Uint8Array(room);
  }
  return digest(scratch, encoder.encodeInto(input, scratch).written);
}
