/**
 * Reading a host's answer whole, with a cap on its size: the bytes are counted as they arrive
 * (after the runtime's decompression, so a gzip bomb is stopped at the cap, not inflated first)
 * and the read is cancelled as soon as the cap is passed.
 */

/** The answer did not finish by the deadline; the read was cancelled. */
export class AnswerTooSlow extends Error {
  constructor() {
    super("the answer did not finish in time");
    this.name = "AnswerTooSlow";
  }
}

/** The answer was larger than the cap; the read was cancelled. */
export class AnswerTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.name = "AnswerTooLarge";
  }
}

/**
 * Reads `response`'s body as UTF-8 text of at most `limit` bytes; throws `AnswerTooLarge` past
 * it, and `AnswerTooSlow` when a `deadline` (Unix milliseconds) passes first. Without a deadline
 * the caller bounds the time (a relay attempt's abort signal covers its body).
 */
export async function readTextCapped(response: Response, limit: number, deadline?: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  const encoded = response.headers.has("content-encoding");
  if (declared > limit && !encoded) {
    await response.body?.cancel();
    throw new AnswerTooLarge(limit);
  }
  if (deadline === undefined && declared > 0 && declared <= limit && !encoded) {
    // Framed by its Content-Length and not inflated by the runtime: one native read of at most
    // `declared` bytes (so at most that many characters). `response.body` is not touched: reading
    // it makes the runtime build a stream object.
    return response.text();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = deadline === undefined ? await reader.read() : await readBy(reader, deadline);
    if (done) break;
    bytes += value.byteLength;
    if (bytes > limit) {
      await reader.cancel("answer too large").catch(() => {});
      throw new AnswerTooLarge(limit);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

async function readBy(reader: ReadableStreamDefaultReader<Uint8Array>, deadline: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
  });
  const next = await Promise.race([reader.read(), late]).finally(() => clearTimeout(timer));
  if (next === "late") {
    await reader.cancel("answer too slow").catch(() => {});
    throw new AnswerTooSlow();
  }
  return next;
}
