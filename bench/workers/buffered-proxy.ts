/**
 * The floor of a relay: what the gateway must do to every JSON-RPC relay whatever else it does, and
 * the bare Worker (`bare-proxy.ts`) does not. The request is read whole (its digest goes in the
 * receipt, its calls are checked), the host gets one attempt under an abort timer (a slow host is
 * failed over from), the answer is read whole (it is checked and digested before it is returned),
 * and the answer carries the relay's headers. Nothing is hashed, metered or recorded: the gateway
 * over this Worker is the cost of the relay's own logic (bench/README.md).
 */
const ATTEMPT_TIMEOUT_MS = 5000;

export default {
  async fetch(request: Request, env: { UPSTREAM: string }): Promise<Response> {
    const body = await request.arrayBuffer();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ATTEMPT_TIMEOUT_MS);
    try {
      const answer = await fetch(env.UPSTREAM, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        redirect: "manual",
        signal: controller.signal,
      });
      const text = await answer.text();
      return new Response(text, {
        status: answer.status,
        headers: {
          "x-conductor-session": "0x5f3c1a7e9b2d4c6e8f0a1b3d5e7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f",
          "x-conductor-relay": "1048576",
          "x-conductor-host": "bench-host-0",
          "x-conductor-attempts": "1",
          "x-conductor-failovers": "0",
          "access-control-allow-origin": "*",
          "access-control-expose-headers": "*",
          "content-type": "application/json",
        },
      });
    } finally {
      clearTimeout(timer);
    }
  },
};
