import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  chargedComputeUnits,
  MAX_COMPLETION_TOKENS,
  meteredTokens,
  TokenMeter,
  tokenReservation,
  tokensToComputeUnits,
} from "../../protocol/token-metering.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const chatBody = (extra: Record<string, unknown> = {}) =>
  bytes(JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra }));

const sseChunk = (content: string) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const usageChunk = (prompt: number, completion: number) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion } })}\n\n`;

function meter(streamed: boolean, text: string, cuts: number[] = []) {
  const m = new TokenMeter(streamed);
  const raw = bytes(text);
  let at = 0;
  for (const cut of [...cuts, raw.length]) {
    m.push(raw.subarray(at, cut));
    at = cut;
  }
  return m.finish();
}

describe("token reservation", () => {
  it("bounds the prompt by the body's bytes and the completion by max_tokens, converted with ceil", () => {
    const body = chatBody({ max_tokens: 100 });
    const r = tokenReservation(body, 10, 4096);
    expect(r).toEqual({
      ok: true,
      bound: { promptTokens: body.byteLength, completionTokens: 100 },
      computeUnits: Math.ceil((body.byteLength + 100) / 10),
    });
  });

  it("prefers max_completion_tokens, and takes the default when neither is given or the body is not JSON", () => {
    expect(tokenReservation(chatBody({ max_completion_tokens: 7, max_tokens: 100 }), 1, 4096)).toMatchObject({
      bound: { completionTokens: 7 },
    });
    expect(tokenReservation(chatBody(), 1, 4096)).toMatchObject({ bound: { completionTokens: 4096 } });
    expect(tokenReservation(chatBody({ max_tokens: null }), 1, 4096)).toMatchObject({ bound: { completionTokens: 4096 } });
    expect(tokenReservation(bytes("not json"), 1, 50)).toMatchObject({ bound: { promptTokens: 8, completionTokens: 50 } });
    expect(tokenReservation(new Uint8Array(), 1000, 50)).toMatchObject({ computeUnits: 1 });
  });

  it.each([0, -1, 1.5, "100", MAX_COMPLETION_TOKENS + 1, true])("refuses max_tokens %s", (value) => {
    expect(tokenReservation(chatBody({ max_tokens: value }), 1, 4096)).toEqual({ ok: false, field: "max_tokens" });
  });

  it("converts tokens to compute units with ceil, at least 1", () => {
    expect(tokensToComputeUnits(0, 10)).toBe(1);
    expect(tokensToComputeUnits(10, 10)).toBe(1);
    expect(tokensToComputeUnits(11, 10)).toBe(2);
  });
});

describe("TokenMeter and meteredTokens", () => {
  const bound = { promptTokens: 200, completionTokens: 50 };

  it("takes a whole answer's usage, clamped to the bounds and the text's bytes", () => {
    const answer = JSON.stringify({
      choices: [{ message: { role: "assistant", content: "Hello there" } }],
      usage: { prompt_tokens: 12, completion_tokens: 3 },
    });
    expect(meteredTokens(meter(false, answer, [5, 17]), bound)).toEqual({
      promptTokens: 12,
      completionTokens: 3,
      source: "usage",
    });
    const inflated = JSON.stringify({
      choices: [{ message: { content: "Hello there" } }],
      usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 },
    });
    // Prompt at most its bound; completion at most the 11 bytes of text generated.
    expect(meteredTokens(meter(false, inflated), bound)).toEqual({ promptTokens: 200, completionTokens: 11, source: "usage" });
  });

  it("takes a stream's final usage chunk, and counts the chunks that carried text without one", () => {
    const words = ["Cön", "ductor", " relays", "."];
    const stream = `${words.map(sseChunk).join("")}${usageChunk(9, 4)}data: [DONE]\n\n`;
    // Cut at every byte (across lines and inside "ö"): the meter reads the same.
    const everyByte = Array.from({ length: bytes(stream).length - 1 }, (_, i) => i + 1);
    expect(meteredTokens(meter(true, stream, everyByte), bound)).toEqual({
      promptTokens: 9,
      completionTokens: 4,
      source: "usage",
    });
    const counted = `${words.map(sseChunk).join("")}${sseChunk("")}data: [DONE]\n\n`;
    expect(meteredTokens(meter(true, counted, [7]), bound)).toEqual({
      promptTokens: Math.ceil(200 / 4),
      completionTokens: 4,
      source: "counted",
    });
  });

  it("clamps a stream's completion to max_tokens and to its text's bytes", () => {
    const many = `${Array.from({ length: 80 }, () => sseChunk("ab")).join("")}data: [DONE]\n\n`;
    expect(meteredTokens(meter(true, many), bound).completionTokens).toBe(50);
    const split = `${["é", "a"].map(sseChunk).join("")}${usageChunk(1, 40)}data: [DONE]\n\n`;
    expect(meteredTokens(meter(true, split), bound).completionTokens).toBe(3); // "é" is 2 bytes, "a" 1
  });

  it("counts tool-call arguments and refusals as generated text, and ignores junk", () => {
    const tool = JSON.stringify({
      choices: [{ message: { content: null, tool_calls: [{ function: { name: "f", arguments: '{"a":1}' } }] } }],
    });
    expect(meter(false, tool).textBytes).toBe(8);
    expect(meter(false, "<html>oops</html>")).toMatchObject({ usage: null, textBytes: 0 });
    expect(meter(true, "data: {not json\n\n: comment\n\ndata: [DONE]\n\n")).toMatchObject({ usage: null, textChunks: 0 });
  });

  it("never charges more than was reserved, whatever the host says (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.array(fc.string(), { maxLength: 20 }),
        fc.option(fc.tuple(fc.nat(), fc.nat())),
        fc.boolean(),
        (bodyBytes, maxTokens, rate, texts, usage, streamed) => {
          const bound = { promptTokens: bodyBytes, completionTokens: maxTokens };
          const reserved = tokensToComputeUnits(bodyBytes + maxTokens, rate);
          const answer = streamed
            ? `${texts.map(sseChunk).join("")}${usage ? usageChunk(usage[0], usage[1]) : ""}data: [DONE]\n\n`
            : JSON.stringify({
                choices: [{ message: { content: texts.join("") } }],
                ...(usage ? { usage: { prompt_tokens: usage[0], completion_tokens: usage[1] } } : {}),
              });
          const tokens = meteredTokens(meter(streamed, answer), bound);
          const textBytes = bytes(texts.join("")).byteLength;
          expect(tokens.promptTokens).toBeLessThanOrEqual(bodyBytes);
          expect(tokens.completionTokens).toBeLessThanOrEqual(Math.min(maxTokens, textBytes));
          const charged = chargedComputeUnits(tokens, rate, reserved);
          expect(charged).toBeGreaterThanOrEqual(1);
          expect(charged).toBeLessThanOrEqual(reserved);
        },
      ),
    );
  });
});
