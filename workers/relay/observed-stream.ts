/**
 * Passes a host's streamed answer to the caller as it arrives, unbuffered, while hashing it for
 * the receipt. A stream that breaks, goes idle, runs past its total time (heartbeats do not
 * extend it), or (for server-sent events) ends without the final `data: [DONE]` event is errored
 * towards the caller, never closed cleanly: a truncated answer must not look like a complete
 * one. `onEnd` (the receipt) finishes before the caller sees the stream close or fail, so a
 * receipt read after the stream ends is always complete.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../../protocol/hex.js";

export interface StreamEnd {
  ok: boolean;
  responseDigest: string;
  bytes: number;
  /** Why the stream failed, when it did. */
  error?: "cut_stream" | "idle_timeout" | "too_long" | "no_final_event" | "caller_cancelled";
}

const FINAL_SSE_EVENT = "data: [DONE]";

export interface ObserveStreamOptions {
  sse: boolean;
  idleTimeoutMs: number;
  /** The whole stream must end within this many milliseconds of the call. */
  maxDurationMs: number;
  onEnd: (end: StreamEnd) => Promise<unknown>;
  /** Sees each chunk as it passes (a token-metered relay's meter). */
  onChunk?: (chunk: Uint8Array) => void;
}

/** Streams of this isolate whose `onEnd` has not finished. */
const unfinished = new Set<Promise<unknown>>();

/**
 * Settles once every stream this isolate is passing on has ended and run its `onEnd`: a
 * deterministic trigger for tests whose client stops reading after the final event (its cancel
 * reaches the stream a moment later).
 */
export async function observedStreamsEnded(): Promise<void> {
  await Promise.all([...unfinished]);
}

/** True when a `content-type` names server-sent events (media types are case-insensitive). */
export function isEventStream(contentType: string | null): boolean {
  return (contentType ?? "").split(";")[0].trim().toLowerCase() === "text/event-stream";
}

/** Returns the stream to hand the caller and a promise that settles once `onEnd` has run. */
export function observeStream(
  body: ReadableStream<Uint8Array>,
  { sse, idleTimeoutMs, maxDurationMs, onEnd, onChunk }: ObserveStreamOptions,
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
  unfinished.add(endedOnce);
  endedOnce.then(() => unfinished.delete(endedOnce));
  const finish = (ok: boolean, error?: StreamEnd["error"]) => {
    if (!ended) {
      ended = onEnd({ ok, error, bytes, responseDigest: toHex(hash.digest()) }).catch((e) => console.error("receipt failed", e));
      resolveEnded(ended);
    }
    return ended;
  };

  const deadline = Date.now() + maxDurationMs;
  /** The next chunk, or why none came: idle for `idleTimeoutMs`, or the total time spent. */
  const nextChunk = () => {
    const left = deadline - Date.now();
    const limit = Math.min(idleTimeoutMs, Math.max(0, left));
    const why = left <= idleTimeoutMs ? ("too_long" as const) : ("idle_timeout" as const);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<typeof why>((resolve) => {
      timer = setTimeout(() => resolve(why), limit);
    });
    return Promise.race([reader.read(), stalled]).finally(() => timer !== undefined && clearTimeout(timer));
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof nextChunk>>;
        try {
          chunk = await nextChunk();
        } catch {
          await finish(false, "cut_stream");
          return controller.error(new Error("host stream was cut"));
        }
        if (chunk === "idle_timeout" || chunk === "too_long") {
          reader.cancel(chunk).catch(() => {});
          await finish(false, chunk);
          return controller.error(new Error(chunk === "too_long" ? "host stream ran too long" : "host stream went idle"));
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
        onChunk?.(chunk.value);
        if (sse) tail = (tail + decoder.decode(chunk.value, { stream: true })).slice(-64);
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        // A caller that stops reading after the final event (the OpenAI SDK does) had the whole answer.
        if (sse && tail.trimEnd().endsWith(FINAL_SSE_EVENT)) finish(true);
        else finish(false, "caller_cancelled");
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, ended: endedOnce };
}
