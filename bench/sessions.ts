/**
 * selectSessionHosts choosing 24 of 100, 1,000 and 10,000 hosts: median and p90 time per call.
 * Each timed call does what `planSession` does per session open, on a registry it has just read:
 * eligibility, weight and a hash of the id of every eligible host; nothing is precomputed or
 * cached between calls. Built once per size and not timed: the host array and each session's seed.
 */
import { selectSessionHosts, sessionSeed } from "../protocol/session.js";

export function benchSessions(sizes = [100, 1_000, 10_000]) {
  return sizes.map((n) => {
    const hosts = Array.from({ length: n }, (_, i) => ({
      id: `host_${i.toString(16).padStart(24, "0")}`,
      stake: BigInt(1_000_000 * (1 + (i % 9))),
      activeSince: 0,
      leftAt: null,
      reputation: 0.3 + (i % 7) / 10,
    }));
    const runs = n >= 10_000 ? 30 : 200;
    const times: number[] = [];
    for (let r = 0; r < runs + 5; r++) {
      const seed = sessionSeed({ requestorId: `req_${r}`, serviceId: "eth", epoch: 1 });
      const t = performance.now();
      selectSessionHosts({ seed, hosts, epochStart: 1, count: 24 });
      if (r >= 5) times.push(performance.now() - t); // the first runs warm the JIT
    }
    times.sort((a, b) => a - b);
    return { hosts: n, medianMs: times[Math.floor(times.length / 2)], p90Ms: times[Math.floor(times.length * 0.9)] };
  });
}
