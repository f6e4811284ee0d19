/**
 * Passes a host's streamed answer to the caller as it arrives, unbuffered, while hashing it for
 * the receipt. A stream that breaks, goes idle, or (for server-sent events) ends without the
 * final `data: [DONE]` event is errored towards the caller, never closed cleanly: a truncated
 * answer must not look like a complete one.
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

export function observeStream(
  body: ReadableStream<Uint8Array>,
  { sse, idleTimeoutMs }: { sse: boolean; idleTimeoutMs: number },
): { stream: ReadableStream<Uint8Array>; ended: Promise<StreamEnd> } {
  const hash = sha256.create();
  const decoder = new TextDecoder();
  let tail = "";
  let bytes = 0;
  let settle!: (end: StreamEnd) => void;
  const ended = new Promise<StreamEnd>((resolve) => {
    settle = resolve;
  });
  let settled = false;
  const finish = (ok: boolean, error?: StreamEnd["error"]) => {
    if (settled) return;
    settled = true;
    settle({ ok, error, bytes, responseDigest: toHex(hash.digest()) });
  };

  const reader = body.getReader();
  let idle: ReturnType<typeof setTimeout> | undefined = undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      idle = setTimeout(() => {
        finish(false, "idle_timeout");
        controller.error(new Error("host stream went idle"));
        reader.cancel("idle timeout").catch(() => {});
      }, idleTimeoutMs);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        if (idle !== undefined) clearTimeout(idle);
        finish(false, "cut_stream");
        controller.error(new Error("host stream was cut"));
        return;
      }
      if (idle !== undefined) clearTimeout(idle);
      if (settled) return;
      if (chunk.done) {
        if (sse && !tail.trimEnd().endsWith(FINAL_SSE_EVENT)) {
          finish(false, "no_final_event");
          controller.error(new Error("host stream ended without its final event"));
          return;
        }
        finish(true);
        controller.close();
        return;
      }
      hash.update(chunk.value);
      bytes += chunk.value.byteLength;
      if (sse) tail = (tail + decoder.decode(chunk.value, { stream: true })).slice(-64);
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      if (idle !== undefined) clearTimeout(idle);
      finish(false, "caller_cancelled");
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { stream, ended };
}
