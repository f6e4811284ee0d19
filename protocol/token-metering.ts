/**
 * Token metering for inference relays (docs/market.md, "Token metering"): a service with
 * `tokensPerComputeUnit > 0` charges by tokens, not per request. Pure functions, no platform.
 *
 * 1. Before the relay, `tokenReservation` bounds its tokens from what the gateway can see: the
 *    prompt by the request body's bytes (a token of a byte-level tokenizer covers at least one
 *    byte, and a chat template's tokens are fewer than the JSON around each message), the
 *    completion by `max_tokens` / `max_completion_tokens` (or `INFERENCE_DEFAULT_MAX_TOKENS`).
 *    The reservation is `ceil((prompt bound + completion bound) / rate)` compute units.
 * 2. While the answer passes, a `TokenMeter` reads it: the host's `usage` (`prompt_tokens`,
 *    `completion_tokens`; in a stream, the final chunk OpenAI sends with
 *    `stream_options.include_usage`), the generated text's bytes, and the chunks that carried
 *    text.
 * 3. After it, `meteredTokens` decides what is charged. A hostile host inflates `usage` to be
 *    paid more, so every count is clamped to bounds the gateway checks itself: prompt <= the
 *    prompt bound; completion <= the completion bound and <= the generated text's UTF-8 bytes.
 *    Without `usage`, the completion is the number of chunks that carried text (one token each,
 *    as OpenAI streams), or a quarter of the text's bytes for an answer in one piece, and the
 *    prompt a quarter of the body's bytes; the same clamps apply.
 *    `chargedComputeUnits` converts at the rate (ceil), at least 1 and never above the reservation.
 */

/** What a relay's tokens are bounded by before it runs. */
export interface TokenBound {
  promptTokens: number;
  completionTokens: number;
}

/** Token counts as a receipt records them. */
export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
}

/** Largest `max_tokens` accepted: a receipt's token counts are uint32 in the leaf. */
export const MAX_COMPLETION_TOKENS = 2 ** 31 - 1;

export type ReservationResult =
  | { ok: true; bound: TokenBound; computeUnits: number }
  | { ok: false; field: "max_tokens" | "max_completion_tokens" };

/** Compute units for `tokens` at `tokensPerComputeUnit` (ceil), at least 1: a relay always costs something. */
export function tokensToComputeUnits(tokens: number, tokensPerComputeUnit: number): number {
  return Math.max(1, Math.ceil(tokens / tokensPerComputeUnit));
}

/**
 * The tokens a request may use at most, and the compute units reserved for them. `body` is the
 * request as sent; a body that is not a JSON object reserves the default completion bound. A
 * `max_tokens` or `max_completion_tokens` that is there but not a positive integer is refused
 * (`field` names it), so no request slips past its bound.
 *
 * @example
 * tokenReservation(body, 100, 4096) // { ok: true, bound: { promptTokens: body.length, completionTokens: 4096 }, computeUnits }
 */
export function tokenReservation(body: Uint8Array, tokensPerComputeUnit: number, defaultMaxTokens: number): ReservationResult {
  let completionTokens = defaultMaxTokens;
  const request = parseObject(body);
  if (request) {
    for (const field of ["max_completion_tokens", "max_tokens"] as const) {
      const value = request[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > MAX_COMPLETION_TOKENS) {
        return { ok: false, field };
      }
      completionTokens = value;
      break;
    }
  }
  const bound = { promptTokens: body.byteLength, completionTokens };
  return {
    ok: true,
    bound,
    computeUnits: tokensToComputeUnits(bound.promptTokens + bound.completionTokens, tokensPerComputeUnit),
  };
}

function parseObject(body: Uint8Array): Record<string, unknown> | null {
  if (body.byteLength === 0 || body[0] !== 0x7b /* { */) return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(body));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** Longest SSE line or whole JSON answer a meter reads; longer ones are skipped (their text is not counted). */
const MAX_METERED_TEXT = 4 * 1024 * 1024;

/** What a meter saw in an answer. */
export interface MeterReading {
  /** The host's `usage`, as it sent it (unchecked), when it sent one. */
  usage: { promptTokens: number; completionTokens: number } | null;
  /** UTF-8 bytes of the generated text (content, refusals, tool-call names and arguments, reasoning). */
  textBytes: number;
  /** Stream chunks that carried generated text. */
  textChunks: number;
  /** Whether the answer was a stream. */
  streamed: boolean;
}

/**
 * Reads an inference answer as it passes (OpenAI chat completions and completions, streamed as
 * server-sent events or whole as JSON), remembering what `meteredTokens` needs and nothing else.
 */
export class TokenMeter {
  private readonly decoder = new TextDecoder();
  private pending = "";
  private skipping = false;
  private readonly reading: MeterReading;

  constructor(readonly streamed: boolean) {
    this.reading = { usage: null, textBytes: 0, textChunks: 0, streamed };
  }

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    if (!this.streamed) {
      if (!this.skipping) this.pending += text;
      if (this.pending.length > MAX_METERED_TEXT) {
        this.skipping = true;
        this.pending = "";
      }
      return;
    }
    const lines = (this.pending + text).split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) {
      if (this.skipping) this.skipping = false;
      else this.line(line);
    }
    if (this.pending.length > MAX_METERED_TEXT) {
      this.skipping = true;
      this.pending = "";
    }
  }

  /** What the answer showed, once it has ended. */
  finish(): MeterReading {
    this.pending += this.decoder.decode();
    if (this.streamed) {
      if (!this.skipping && this.pending) this.line(this.pending);
    } else if (!this.skipping) {
      this.event(this.pending, false);
    }
    this.pending = "";
    return this.reading;
  }

  private line(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (!line.startsWith("data:")) return;
    const data = line.slice(5).trimStart();
    if (data === "[DONE]" || data === "") return;
    this.event(data, true);
  }

  private event(json: string, chunk: boolean): void {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const { usage, choices } = value as { usage?: unknown; choices?: unknown };
    const reported = usageOf(usage);
    if (reported) this.reading.usage = reported;
    if (!Array.isArray(choices)) return;
    let bytes = 0;
    for (const choice of choices) {
      if (typeof choice !== "object" || choice === null) continue;
      const c = choice as { delta?: unknown; message?: unknown; text?: unknown };
      bytes += textBytes(c.text) + messageBytes(chunk ? c.delta : c.message);
    }
    this.reading.textBytes += bytes;
    if (chunk && bytes > 0) this.reading.textChunks += 1;
  }
}

function usageOf(usage: unknown): MeterReading["usage"] {
  if (typeof usage !== "object" || usage === null) return null;
  const { prompt_tokens: prompt, completion_tokens: completion } = usage as Record<string, unknown>;
  const count = (n: unknown) => (typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.floor(n) : null);
  const promptTokens = count(prompt);
  const completionTokens = count(completion);
  if (promptTokens === null || completionTokens === null) return null;
  return { promptTokens, completionTokens };
}

const encoder = new TextEncoder();
const textBytes = (value: unknown): number => (typeof value === "string" ? encoder.encode(value).byteLength : 0);

/** Generated text in a message or a delta: content, refusal, reasoning, tool calls' names and arguments. */
function messageBytes(message: unknown): number {
  if (typeof message !== "object" || message === null) return 0;
  const m = message as Record<string, unknown>;
  let bytes = textBytes(m.content) + textBytes(m.refusal) + textBytes(m.reasoning_content) + textBytes(m.reasoning);
  if (Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls) {
      const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
      if (fn) bytes += textBytes(fn.name) + textBytes(fn.arguments);
    }
  }
  return bytes;
}

/** Which numbers a receipt's tokens came from. */
export type TokenSource = "usage" | "counted";

/**
 * The tokens charged for an answer: the host's `usage` clamped to the gateway's bounds, or the
 * gateway's own count when the host sent none (rules at the top of this file).
 */
export function meteredTokens(reading: MeterReading, bound: TokenBound): TokenCounts & { source: TokenSource } {
  const completionCap = Math.min(bound.completionTokens, reading.textBytes);
  if (reading.usage) {
    return {
      promptTokens: Math.min(reading.usage.promptTokens, bound.promptTokens),
      completionTokens: Math.min(reading.usage.completionTokens, completionCap),
      source: "usage",
    };
  }
  const counted = reading.streamed ? reading.textChunks : Math.ceil(reading.textBytes / 4);
  return {
    promptTokens: Math.ceil(bound.promptTokens / 4),
    completionTokens: Math.min(counted, completionCap),
    source: "counted",
  };
}

/** Compute units charged for `tokens`: at the rate (ceil), at least 1, never above what was reserved. */
export function chargedComputeUnits(tokens: TokenCounts, tokensPerComputeUnit: number, reserved: number): number {
  return Math.min(reserved, tokensToComputeUnits(tokens.promptTokens + tokens.completionTokens, tokensPerComputeUnit));
}
