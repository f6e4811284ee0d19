/** Per-relay Durable Object cost: native RPC + SQLite against itty-durable, side by side. */
import { bundleWorker, startWorker } from "./miniflare.js";

export async function benchDurableObjects(relays = 1_000, rounds = 3) {
  const script = await bundleWorker("bench/workers/do-bench.ts", ".wrangler/bench/do-bench.js");
  const { url, mf } = await startWorker({
    scriptPath: script,
    durableObjects: {
      NATIVE: { className: "NativeSession", useSQLite: true },
      ITTY: { className: "IttySession", useSQLite: true },
    },
  });
  try {
    const results: Record<string, number[]> = { native: [], itty: [] };
    for (let round = 0; round < rounds + 1; round++) {
      for (const impl of ["native", "itty"]) {
        const res = await fetch(`${url}/?impl=${impl}&n=${relays}`);
        const { ms } = (await res.json()) as { ms: number };
        if (round > 0) results[impl].push(ms / relays); // round 0 warms up
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { relays, nativeMsPerRelay: median(results.native), ittyMsPerRelay: median(results.itty) };
  } finally {
    await mf.dispose();
  }
}
