/**
 * Hedged requests with one slow host (docs/performance.md): two hosts, the near one (Frankfurt,
 * where the callers are sent first) slow on one request in `slowEvery` (`slowMs` late, a tail),
 * the far one (Singapore) always quick. The same fixed-rate load goes to a service that does not
 * hedge (`eth-bench`, the baseline) and to one that does (`eth-bench-hedged`: after the near
 * host's p95, at least 20 ms, at most 10 % of relays), in the same run; the far host's request
 * count gives the extra traffic.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { buildDashboard } from "../dashboard/build.js";
import { CORE_LOAD, CORE_SERVER, fixedRate, type LoadFigures, startJsonProcess, tsx, waitForPost } from "./relay-path.js";

/** A caller in Paris (the gateway runs with DEV_MODE, which takes the location from this header). */
const PARIS = { "x-conductor-dev-location": "48.86,2.35" };

type Run = LoadFigures & { farRequests: number; extraTraffic: number };

export interface HedgingFigures {
  rate: number;
  seconds: number;
  slowEvery: number;
  slowMs: number;
  policy: string;
  rounds: number;
  /** Without hedging (the baseline) and with it, the round with the median p99 of each: latency, and requests the far host received per relay. */
  withoutHedging: Run;
  withHedging: Run;
  p99Ratio: number;
  /** Every round, alternating without and with, so a change in the machine's load hits both. */
  all: { withoutHedging: Run; withHedging: Run }[];
}

export async function benchHedging({
  seconds = 10,
  rate = 100,
  slowEvery = 20,
  slowMs = 200,
  rounds = 3,
  build = true,
} = {}): Promise<HedgingFigures> {
  if (build) {
    await buildDashboard(); // wrangler's dry run needs the `[assets]` directory the dashboard is built into
    execFileSync(
      process.execPath,
      [path.join("node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", ".wrangler/bench/gateway"],
      { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
    );
  }
  const near = await startJsonProcess(CORE_LOAD, [tsx, "bench/upstream.ts"]);
  const far = await startJsonProcess(CORE_LOAD, [tsx, "bench/upstream.ts"]);
  const children = [near.child, far.child];
  const hostUrl = (p: { info: Record<string, unknown> }) => p.info.url as string;
  const control = (url: string, body: object) =>
    fetch(`${url}/__control`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.text());
  const farRequests = async () =>
    ((await (await fetch(`${hostUrl(far)}/__control/stats`)).json()) as { requests: number }).requests;
  try {
    const gateway = await startJsonProcess(CORE_SERVER, [tsx, "bench/serve-worker.ts", "hedge", hostUrl(near), hostUrl(far)]);
    children.push(gateway.child);
    const headers = { ...(gateway.info.headers as Record<string, string>), ...PARIS };
    const base = `${gateway.info.url}/v1/`;
    await control(hostUrl(near), { mode: "slow_some", every: slowEvery, delayMs: slowMs });
    for (const service of ["eth-bench", "eth-bench-hedged"]) {
      await waitForPost(`${base}${service}`, headers);
      await fixedRate(`${base}${service}`, headers, rate, 2); // warm up: leases, and the near host's latency window
    }
    const run = async (service: string): Promise<Run> => {
      const before = await farRequests();
      const figures = await fixedRate(`${base}${service}`, headers, rate, seconds);
      const sent = (await farRequests()) - before;
      return { ...figures, farRequests: sent, extraTraffic: figures.answered > 0 ? sent / figures.answered : 0 };
    };
    const all: { withoutHedging: Run; withHedging: Run }[] = [];
    for (let i = 0; i < rounds; i++)
      all.push({ withoutHedging: await run("eth-bench"), withHedging: await run("eth-bench-hedged") });
    const median = (runs: Run[]) => [...runs].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(runs.length / 2)];
    const withoutHedging = median(all.map((r) => r.withoutHedging));
    const withHedging = median(all.map((r) => r.withHedging));
    return {
      rate,
      seconds,
      slowEvery,
      slowMs,
      rounds,
      policy: "hedge after the near host's p95 latency in the isolate, at least 20 ms; at most 10 % of relays",
      withoutHedging,
      withHedging,
      p99Ratio: withHedging.p99Ms / withoutHedging.p99Ms,
      all,
    };
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}

/** The figures as lines for the bench's output. */
export function hedgingLines(h: HedgingFigures): string[] {
  const row = (name: string, v: HedgingFigures["withHedging"]) =>
    `  ${name.padEnd(20)} p50 ${v.p50Ms.toFixed(3)} ms  p90 ${(v.p90Ms ?? Number.NaN).toFixed(3)} ms  p99 ${v.p99Ms.toFixed(3)} ms  errors ${v.errors}  far host: ${v.farRequests} requests (${(100 * v.extraTraffic).toFixed(1)} % of ${v.answered} relays)`;
  return [
    `one slow host (one answer in ${h.slowEvery} after ${h.slowMs} ms), ${h.rate} rps for ${h.seconds} s, ${h.rounds} rounds alternating; ${h.policy}:`,
    ...h.all.flatMap((r, i) => [row(`round ${i + 1} without`, r.withoutHedging), row(`round ${i + 1} with`, r.withHedging)]),
    "median p99 of the rounds:",
    row("without hedging", h.withoutHedging),
    row("with hedging", h.withHedging),
    `  p99 with hedging / without: ${h.p99Ratio.toFixed(2)}x; extra traffic ${(100 * h.withHedging.extraTraffic).toFixed(1)} % of relays`,
  ];
}
