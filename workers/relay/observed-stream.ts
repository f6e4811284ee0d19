/**
 * Passes a host's streamed answer to the caller as it arrives, unbuffered, while hashing it for
 * the receipt. A stream that breaks, goes idle, or (for server-sent events) ends without the
 * final `data: [DONE]` event is errored towards the caller, never closed cleanly: a truncated
 * answer must not look like a complete one. `onEnd` (the receipt) finishes before the caller
 * sees the stream close or fail, so a receipt read after the stream ends is always complete.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../../protocol/hex.js";

export interface StreamEnd {
  ok: boolean;
  responseDigest: string;
  bytes: number;
  /** Why the stream failed, when it did. */
  error?: "cut_stream" | "idle_timeout" | "no_final_event" | "caller_cancelled";
}

const FINAL_SSE_EVENT = "data: [DONE]";

export interface ObserveStreamOptions {
  sse: boolean;
  idleTimeoutMs: number;
  onEnd: (end: StreamEnd) => Promise<unknown>;
}

/** Returns the stream to hand the caller and a promise that settles once `onEnd` has run. */
export function observeStream(
  body: ReadableStream<Uint8Array>,
  { sse, idleTimeoutMs, onEnd }: ObserveStreamOptions,
): { stream: ReadableStream<Uint8Array>; ended: Promise<unknown> } {
  const hash = sha256.create();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let tail = "";
  let bytes = 0;
  let ended: Promise<unknown> | null = null;
  let resolveEnded!: (value: unknown) => void;
  const endedOnce = new Promise((resolve) => {
    resolveEnded = resolve;
  });
  const finish = (ok: boolean, error?: StreamEnd["error"]) => {
    if (!ended) {
      ended = onEnd({ ok, error, bytes, responseDigest: toHex(hash.digest()) }).catch((e) => console.error("receipt failed", e));
      resolveEnded(ended);
    }
    return ended;
  };

  const readWithin = (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<"idle">((resolve) => {
      timer = setTimeout(() => resolve("idle"), ms);
    });
    return Promise.race([reader.read(), idle]).finally(() => timer !== undefined && clearTimeout(timer));
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof readWithin>>;
        try {
          chunk = await readWithin(idleTimeoutMs);
        } catch {
          await finish(false, "cut_stream");
          return controller.error(new Error("host stream was cut"));
        }
        if (chunk === "idle") {
          reader.cancel("idle timeout").catch(() => {});
          await finish(false, "idle_timeout");
          return controller.error(new Error("host stream went idle"));
        }
        if (chunk.done) {
          if (sse && !tail.trimEnd().endsWith(FINAL_SSE_EVENT)) {
            await finish(false, "no_final_event");
            return controller.error(new Error("host stream ended without its final event"));
          }
          await finish(true);
          return controller.close();
        }
        hash.update(chunk.value);
        bytes += chunk.value.byteLength;
        if (sse) tail = (tail + decoder.decode(chunk.value, { stream: true })).slice(-64);
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        finish(false, "caller_cancelled");
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, ended: endedOnce };
}
