/**
 * Relays that wait for work another request started resume in their own request's context.
 *
 * workerd ties I/O (a request's body, its fetches, its timers) to the request that made it. A
 * relay that awaited another request's cache load, or its lease request, used to resume in that
 * request's context: reading its own body then threw "Cannot perform I/O on behalf of a different
 * request" and it answered 500, about a dozen per 20,000 relays, at each refresh of the per-isolate
 * service and key caches. The Worker tests (vitest-pool-workers) cannot show it, since their
 * request bodies are not tied to a request; this runs the built Worker on workerd itself (as
 * `npm run bench` does), with bodies arriving over HTTP, under concurrent load across both
 * caches' refreshes (keys 5 s, services 10 s).
 */
import { type ChildProcess, execFile, execFileSync } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CORE_LOAD, CORE_SERVER, startJsonProcess, tsx } from "../../bench/relay-path.js";
import { buildDashboard } from "../../dashboard/build.js";

const CONCURRENCY = 16;
/** Twice the service cache's 10 s, so every cache is refreshed under load at least twice. */
const LOAD_SECONDS = 21;
const run = promisify(execFile);
const children: ChildProcess[] = [];
let target: { url: string; headers: Record<string, string> };

beforeAll(async () => {
  await buildDashboard(); // wrangler's build takes the dashboard's assets
  execFileSync(
    process.execPath,
    [path.join("node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", ".wrangler/bench/gateway"],
    { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  // Placed as the benchmark places them: the Worker alone on one core, its host and the load on the other.
  const upstream = await startJsonProcess(CORE_LOAD, [tsx, "bench/upstream.ts"]);
  children.push(upstream.child);
  const gateway = await startJsonProcess(CORE_SERVER, [tsx, "bench/serve-worker.ts", "gateway", upstream.info.url as string]);
  children.push(gateway.child);
  const info = gateway.info as { url: string; path: string; headers: Record<string, string> };
  target = { url: `${info.url}${info.path}`, headers: info.headers };
});

afterAll(() => {
  for (const child of children) child.kill();
});

describe("relays under load across cache refreshes, on workerd", () => {
  it("answers every relay: none resumes in another request's context", async () => {
    // autocannon in its own process: as fast as the Worker answers, so that many relays wait on each refresh.
    const args = [path.join("node_modules", "autocannon", "autocannon.js"), "--json", "-c", String(CONCURRENCY)];
    args.push("-d", String(LOAD_SECONDS), "-m", "POST", "-H", "content-type=application/json");
    for (const [name, value] of Object.entries(target.headers)) args.push("-H", `${name}=${value}`);
    args.push("-b", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }), target.url);
    const { stdout } = await run("taskset", ["-c", CORE_LOAD, process.execPath, ...args], { maxBuffer: 1e8 });
    const result = JSON.parse(stdout) as { "2xx": number; non2xx: number; errors: number; timeouts: number };
    expect({ non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts }).toEqual({
      non2xx: 0,
      errors: 0,
      timeouts: 0,
    });
    expect(result["2xx"]).toBeGreaterThan(1_000);
  }, 60_000);
});
