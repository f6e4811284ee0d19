import { keccak_256, keccakP } from "@noble/hashes/sha3.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashPairWords, keccak256Into } from "../../protocol/keccak.js";
import { keccakF1600 } from "../../protocol/keccak-f1600.js";
import { encodeWords, encodeWordsInto, sortedLeafOrder, standardLeafHash } from "../../protocol/merkle.js";

const word = fc.uint8Array({ minLength: 32, maxLength: 32 });
const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

describe("keccak256 on one reused state equals noble's keccak_256", () => {
  it("the unrolled permutation equals noble's keccakP on any state, applied repeatedly", () => {
    const lanes = fc.uint32Array({ minLength: 50, maxLength: 50 });
    fc.assert(
      fc.property(lanes, fc.integer({ min: 1, max: 3 }), (start, times) => {
        const ours = Uint32Array.from(start);
        const nobles = Uint32Array.from(start);
        for (let t = 0; t < times; t++) {
          keccakF1600(ours);
          keccakP(nobles);
        }
        expect(ours).toEqual(nobles);
      }),
      { numRuns: 500 },
    );
    // The all-zero state's first lane after one permutation is 0xF1258F7940E1DDE7 (the Keccak
    // team's known answer), stored low word first.
    const zero = new Uint32Array(50);
    keccakF1600(zero);
    expect([zero[0], zero[1]]).toEqual([0x40e1dde7, 0xf1258f79]);
  });

  it("any input length (across the 136-byte rate), offset and output offset", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(40), fc.nat(40), (bytes, skip, outAt) => {
        const offset = Math.min(skip, bytes.length);
        const out = new Uint8Array(outAt + 32);
        keccak256Into(bytes, offset, bytes.length - offset, out, outAt);
        expect(out.subarray(outAt)).toEqual(keccak_256(bytes.subarray(offset)));
      }),
      { numRuns: 500 },
    );
  });

  it("exact sizes around the rate: 0, 32, 64, 135, 136, 137, 272, 320", () => {
    for (const size of [0, 32, 64, 135, 136, 137, 272, 320]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
      const out = new Uint8Array(32);
      keccak256Into(bytes, 0, size, out, 0);
      expect(out).toEqual(keccak_256(bytes));
    }
  });

  it("the commutative pair hash is keccak256 of the sorted pair, from two buffers or one, in place", () => {
    fc.assert(
      fc.property(word, word, fc.boolean(), (a, b, equal) => {
        const right = equal ? a : b;
        const [lo, hi] = compare(a, right) <= 0 ? [a, right] : [right, a];
        const expected = keccak_256(Uint8Array.from([...lo, ...hi]));
        const x = new Uint32Array(8);
        const y = new Uint32Array(16);
        new Uint8Array(x.buffer).set(a);
        new Uint8Array(y.buffer).set(right, 32);
        const dst = new Uint32Array(8);
        hashPairWords(x, 0, y, 8, dst, 0);
        expect(new Uint8Array(dst.buffer)).toEqual(expected);
        hashPairWords(y, 8, x, 0, x, 0);
        expect(new Uint8Array(x.buffer)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("standard leaves and ABI words: keccak256(keccak256(abi.encode(...)))", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.nat(), word), { minLength: 1, maxLength: 12 }),
        (words) => {
          const encoded = encodeWords(words);
          expect(encoded.length).toBe(words.length * 32);
          const into = new Uint8Array(encoded.length + 64).fill(0xff);
          encodeWordsInto(words, into, 64);
          expect(into.subarray(64)).toEqual(encoded);
          expect(standardLeafHash(encoded)).toEqual(keccak_256(keccak_256(encoded)));
        },
      ),
    );
    expect(encodeWords([2n ** 64n + 5n])).toEqual(encodeWords([`0x${(2n ** 64n + 5n).toString(16)}`]));
    expect(encodeWords([Number.MAX_SAFE_INTEGER])).toEqual(encodeWords([BigInt(Number.MAX_SAFE_INTEGER)]));
    expect(() => encodeWords([2n ** 256n])).toThrow(/longer than 32 bytes/);
    expect(() => encodeWords([-1n])).toThrow(/negative/);
  });

  it("sorts leaves as OpenZeppelin does: by hash, equal hashes in input order, shared prefixes resolved", () => {
    // Few distinct first bytes, so many keys share their first four bytes and many hashes repeat.
    const leaf = fc.tuple(fc.constantFrom(0, 1, 255), fc.constantFrom(0, 7), fc.uint8Array({ minLength: 28, maxLength: 28 }));
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            leaf,
            leaf.map(([a, b]) => [a, b, new Uint8Array(28)] as const),
          ),
          { minLength: 1, maxLength: 80 },
        ),
        (parts) => {
          const leaves = parts.map(([a, b, rest]) => Uint8Array.from([a, 0, 0, b, ...rest]));
          const flat = new Uint8Array(leaves.length * 32);
          leaves.forEach((l, i) => {
            flat.set(l, i * 32);
          });
          const expected = leaves.map((_, i) => i).sort((i, j) => compare(leaves[i], leaves[j]) || i - j);
          expect([...sortedLeafOrder(flat, leaves.length)]).toEqual(expected);
        },
      ),
    );
  });
});
