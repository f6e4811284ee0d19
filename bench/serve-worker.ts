// Serves one Worker on workerd (Miniflare's API, no wrangler dev proxy) for the relay benchmark,
// set up for load, and prints `{ url, path, headers }` for the load generator:
//   tsx bench/serve-worker.ts gateway <upstream-url>   the built gateway (wrangler's bundle), with
//                                                      D1, Durable Objects, a service, one host
//                                                      (the upstream) and a requestor with a key
//   tsx bench/serve-worker.ts bare <upstream-url>      a Worker that only forwards with fetch
//   tsx bench/serve-worker.ts buffered <upstream-url>  the relay's floor: reads both bodies whole,
//                                                      one attempt under an abort timer, the
//                                                      relay's answer headers (nothing else)
//   tsx bench/serve-worker.ts hedge <near> <far>       the gateway with two hosts (near: Frankfurt,
//                                                      far: Singapore) serving `eth-bench` (no
//                                                      hedging) and `eth-bench-hedged` (hedging)
// The gateway answers a line `calls` on its standard input with one JSON line: the calls its
// session objects (this epoch's and the previous one's) have served so far, by method, and the
// relays they have leased and had reported; and a line `reportcost` with the session object's cost
// per reported receipt: `report()` calls of 256 receipts against the same calls with none (the
// call's own round trip through Miniflare), in the current session, after the load.
import fs from "node:fs";
import readline from "node:readline";
import { privateKeyToAccount } from "viem/accounts";
import { gatewayClient } from "../dev/gateway-client.js";
import { DEV_KEYS } from "../dev/keys.js";
import { migrationStatements } from "../dev/libsql.js";
import { type SigningDomain, signHostMessage } from "../protocol/host-registration.js";
import { MAX_AMOUNT } from "../protocol/parameters.js";
import { sessionEpoch, sessionIdFromSeed, sessionSeed } from "../protocol/session.js";
import { bundleWorker, startWorker } from "./miniflare.js";

const [mode, upstream, farUpstream] = process.argv.slice(2);
const ADMIN = "bench-admin";

/** The `[vars]` of wrangler.toml (flat `KEY = "value"` lines). */
function wranglerVars(): Record<string, string> {
  const toml = fs.readFileSync("wrangler.toml", "utf8");
  const section = toml.slice(toml.indexOf("[vars]"));
  return Object.fromEntries([...section.matchAll(/^([A-Z_]+) = "([^"]*)"$/gm)].map((m) => [m[1], m[2]]));
}

/** The relay policy of `eth-bench-hedged` (hedge mode): hedge after the near host's p95, at least 20 ms, 10 % budget. */
const BENCH_HEDGE_POLICY = { hedge: true, hedgePercentile: 95, hedgeMinDelayMs: 20, hedgeBudgetPercent: 10 };

async function serveGateway(upstreams: string[], services: { id: string; relayPolicy?: object }[]) {
  const script = process.env.BENCH_GATEWAY_SCRIPT ?? ".wrangler/bench/gateway/index.js";
  if (!fs.existsSync(script)) throw new Error(`${script} missing: the benchmark builds it with wrangler deploy --dry-run first`);
  const { url, mf } = await startWorker({
    ...(process.env.BENCH_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) } : {}),
    scriptPath: script,
    d1Databases: { DB: "bench-db" },
    durableObjects: {
      RELAY_SESSION: { className: "RelaySession", useSQLite: true },
      FISHERMAN: { className: "Fisherman", useSQLite: true },
      BATCH_PRODUCER: { className: "BatchProducer", useSQLite: true },
    },
    bindings: {
      ...wranglerVars(),
      ADMIN_TOKEN: ADMIN,
      ALLOW_LOOPBACK_HOSTS: "true",
      DEV_MODE: "true",
      // Probes would add their own load to the host; the relay path is measured alone.
      PROBE_INTERVAL_MIN_MS: "3600000",
      PROBE_INTERVAL_MAX_MS: "3600000",
    },
  });
  const db = await mf.getD1Database("DB");
  for (const file of fs.readdirSync("schema/migrations").sort()) {
    // Split as the libSQL migrations are: at a `;` ending a line, so a trigger's body stays whole.
    for (const statement of migrationStatements(fs.readFileSync(`schema/migrations/${file}`, "utf8")))
      await db.prepare(statement).run();
  }
  const { api, asAdmin, withJson } = gatewayClient(url, { adminToken: ADMIN });
  const ok = async <R extends { ok: boolean; status: number; text(): Promise<string> }>(what: string, res: R) => {
    if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return res;
  };
  for (const service of services) {
    await ok("service", await api.v1.services.$post(undefined, asAdmin({ ...service, kind: "jsonrpc", chainId: 31337 })));
  }
  const domain = (await (await api.v1["signing-domain"].$get()).json()) as SigningDomain;
  // Frankfurt, then Singapore: a caller placed in Paris is sent to the first.
  const places = [
    [50_110_000, 8_680_000],
    [1_350_000, 103_820_000],
  ];
  for (const [i, endpoint] of upstreams.entries()) {
    const operator = privateKeyToAccount(DEV_KEYS.hostOperators[i]);
    const message = {
      operator: operator.address,
      endpoint,
      services: services.map((s) => s.id),
      latitudeE6: places[i][0],
      longitudeE6: places[i][1],
      stake: 1_000_000n,
      nonce: 0n,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    };
    await ok(
      "grant",
      await api.v1.ledger.mint.$post(undefined, asAdmin({ id: `bench-host-${i}`, holder: operator.address, amount: "1000000" })),
    );
    const body = await signHostMessage(operator, domain, "RegisterHost", message);
    await ok("register", await api.v1.hosts.$post(undefined, withJson(body)));
  }
  const created = await ok(
    "requestor",
    await api.v1.requestors.$post(undefined, asAdmin({ name: "bench", stake: (MAX_AMOUNT / 2n).toString() })),
  );
  const requestor = await created.json();
  const sessionSeconds = Number(wranglerVars().SESSION_SECONDS ?? 600);
  /** Calls served and relays seen by the requestor's session objects of this epoch and the one before. */
  const calls = async () => {
    // Miniflare's declared type for the namespace proxy collapses to a Request; the proxy is a namespace.
    const namespace = (await mf.getDurableObjectNamespace("RELAY_SESSION")) as unknown as { getByName(name: string): unknown };
    const epoch = sessionEpoch(Date.now(), sessionSeconds);
    const total = { byMethod: {} as Record<string, number>, leasedRelays: 0, reportedRelays: 0 };
    for (const e of [epoch - 1, epoch]) {
      const id = sessionIdFromSeed(sessionSeed({ requestorId: requestor.id, serviceId: "eth-bench", epoch: e }));
      const stub = namespace.getByName(id) as {
        callCounts(): Promise<Record<string, number>>;
        usage(): Promise<{ relays: number; leasedRelays: number } | null>;
      };
      const counts = await stub.callCounts();
      const usage = await stub.usage();
      for (const [method, n] of Object.entries(counts)) {
        if (method === "callCounts" || method === "usage") continue; // this reading itself
        total.byMethod[method] = (total.byMethod[method] ?? 0) + n;
      }
      total.leasedRelays += usage?.leasedRelays ?? 0;
      total.reportedRelays += usage?.relays ?? 0;
    }
    return total;
  };
  /** Milliseconds per reported receipt in the session's object (report of 256 less an empty report, per receipt). */
  const reportCost = async () => {
    const namespace = (await mf.getDurableObjectNamespace("RELAY_SESSION")) as unknown as { getByName(name: string): unknown };
    const epoch = sessionEpoch(Date.now(), sessionSeconds);
    const coordinates = { requestorId: requestor.id, serviceId: "eth-bench", epoch };
    const stub = namespace.getByName(sessionIdFromSeed(sessionSeed(coordinates))) as {
      lease(request: unknown): Promise<{ ok: boolean; lease: { first: number; end: number } }>;
      report(report: unknown, now: number): Promise<{ accepted: number }>;
    };
    const digest = `0x${"ab".repeat(32)}`;
    const empty = { receipts: [], observations: [], returned: [] };
    const perReport = 256;
    const timings = { empty: [] as number[], full: [] as number[] };
    for (let round = 0; round < 4; round++) {
      const granted = await stub.lease({
        coordinates,
        requestorStake: MAX_AMOUNT / 2n,
        relays: 8192,
        computeUnits: 8192,
        minimumComputeUnits: 1,
        now: Date.now(),
      });
      if (!granted.ok) throw new Error("reportcost: no lease");
      for (let first = granted.lease.first; first + perReport <= granted.lease.end; first += perReport) {
        const now = Date.now();
        const receipts = Array.from({ length: perReport }, (_, i) => ({
          relayIndex: first + i,
          hostId: "bench-host",
          requestDigest: digest,
          responseDigest: digest,
          status: 200,
          outcome: "ok",
          latencyMs: 1,
          computeUnits: 1,
          attempts: 1,
          createdAt: now,
          completedAt: now,
        }));
        let started = performance.now();
        await stub.report(empty, now);
        const emptyMs = performance.now() - started;
        started = performance.now();
        const { accepted } = await stub.report({ receipts, observations: [], returned: [] }, now);
        if (accepted !== perReport) throw new Error(`reportcost: ${accepted} of ${perReport} receipts accepted`);
        if (round > 0) {
          timings.empty.push(emptyMs); // round 0 warms up
          timings.full.push(performance.now() - started);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {
      receiptsPerReport: perReport,
      reports: timings.full.length,
      emptyReportMs: median(timings.empty),
      fullReportMs: median(timings.full),
      msPerReceipt: (median(timings.full) - median(timings.empty)) / perReport,
    };
  };
  return { url, mf, path: "/v1/eth-bench", headers: { authorization: `Bearer ${requestor.apiKey.key}` }, calls, reportCost };
}

async function serveBare(entry: "bare-proxy" | "buffered-proxy") {
  const script = await bundleWorker(`bench/workers/${entry}.ts`, `.wrangler/bench/${entry}.js`);
  const { url, mf } = await startWorker({
    ...(process.env.BENCH_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) } : {}),
    scriptPath: script,
    bindings: { UPSTREAM: upstream },
  });
  return { url, mf, path: "/", headers: {}, calls: null, reportCost: null };
}

const served =
  mode === "gateway"
    ? await serveGateway([upstream], [{ id: "eth-bench" }])
    : mode === "hedge"
      ? await serveGateway(
          [upstream, farUpstream],
          [{ id: "eth-bench" }, { id: "eth-bench-hedged", relayPolicy: BENCH_HEDGE_POLICY }],
        )
      : await serveBare(mode === "buffered" ? "buffered-proxy" : "bare-proxy");
console.log(JSON.stringify({ url: served.url, path: served.path, headers: served.headers }));
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim() === "calls") console.log(JSON.stringify(served.calls ? await served.calls() : null));
  if (line.trim() === "reportcost") console.log(JSON.stringify(served.reportCost ? await served.reportCost() : null));
}
process.on("SIGTERM", () => served.mf.dispose().then(() => process.exit(0)));
