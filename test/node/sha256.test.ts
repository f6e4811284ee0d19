import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../protocol/sha256.js";

const noble = (bytes: Uint8Array) => `0x${bytesToHex(sha256(bytes))}`;

describe("SHA-256 on reused buffers equals noble's sha256", () => {
  it("the standard vectors", () => {
    expect(sha256Hex("")).toBe("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "0x248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("every length across the padding's edges (0 to 200 bytes) and around block multiples", () => {
    for (const size of [...Array.from({ length: 201 }, (_, i) => i), 511, 512, 513, 4095, 4096, 4097, 100_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
      expect(sha256Hex(bytes)).toBe(noble(bytes));
    }
  });

  it("any bytes, including a view into a larger buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(20), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(sha256Hex(view)).toBe(noble(view));
      }),
      { numRuns: 500 },
    );
  });

  it("any string as its UTF-8 bytes: astral characters and lone surrogates (as U+FFFD) included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(noble(utf8ToBytes(text)));
      }),
      { numRuns: 500 },
    );
    for (const text of ["\ud800", "a\udc00b", "𝄞".repeat(1000), "größe ✓"])
      expect(sha256Hex(text)).toBe(noble(utf8ToBytes(text)));
  });

  it("strings longer than the kept scratch buffer, then short ones again", () => {
    const long = "x".repeat(400_000) + "é".repeat(10);
    expect(sha256Hex(long)).toBe(noble(utf8ToBytes(long)));
    const huge = "✓".repeat(400_000); // 1.2 MB of UTF-8: encoded on its own, not into the scratch buffer
    expect(sha256Hex(huge)).toBe(noble(utf8ToBytes(huge)));
    expect(sha256Hex("abc")).toBe(noble(utf8ToBytes("abc")));
  });
});
