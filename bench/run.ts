// `npm run bench`: every benchmark with its baseline from the same run; prints a table and writes
// bench/results.json. Not part of `npm test`. See bench/README.md for the method.
import fs from "node:fs";
import os from "node:os";
import { buildDashboard } from "../dashboard/build.js";
import { benchBundle } from "./bundle.js";
import { measureGas } from "./chain-gas.js";
import { benchDurableObjects } from "./durable-objects.js";
import { benchHedging, hedgingLines } from "./hedging.js";
import { merkleSection } from "./merkle.js";
import { benchRelayPath } from "./relay-path.js";
import { benchSessions } from "./sessions.js";

const started = Date.now();
const f = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? "n/a" : n.toFixed(digits));
const log = (s = "") => console.log(s);

log(
  `Conductor Relay benchmarks, ${new Date().toISOString()} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);

log("\n== Relay path (built Worker on workerd via Miniflare; load from a separate process) ==");
// wrangler's dry run needs the `[assets]` directory the dashboard is built into.
await buildDashboard();
const relay = await benchRelayPath();
log(relay.pinning);
const r = relay.results;
log("target          fixed-rate rps   p50 ms   p99 ms   max-rate rps   p50 ms   p99 ms   server CPU us/relay");
for (const [name, v] of Object.entries(r)) {
  if (!v) {
    log(`${name.padEnd(14)}  ${relay.nginx}`);
    continue;
  }
  log(
    `${name.padEnd(14)}  ${f(v.fixedRate.requestsPerSecond, 0).padStart(14)}  ${f(v.fixedRate.p50Ms, 3).padStart(7)}  ${f(v.fixedRate.p99Ms, 3).padStart(7)}  ${f(v.maxRate.requestsPerSecond, 0).padStart(13)}  ${f(v.maxRate.p50Ms, 0).padStart(7)}  ${f(v.maxRate.p99Ms, 0).padStart(7)}  ${f(v.cpuUsPerRelay, 0).padStart(19)}`,
  );
}
const gw = r.gateway;
const bare = r.bareWorker;
const floor = r.bufferedWorker;
const slow = relay.slowHost;
/** `a`'s CPU per relay as a throughput ratio against `b` (b's CPU / a's CPU), when both were read. */
const cpuRatio = (a?: number | null, b?: number | null) => (a && b ? b / a : null);
const ratios = gw &&
  bare && {
    gatewayOverBareWorker: gw.maxRate.requestsPerSecond / bare.maxRate.requestsPerSecond,
    gatewayOverNginx: r.nginx ? gw.maxRate.requestsPerSecond / r.nginx.maxRate.requestsPerSecond : null,
    gatewayOverBareWorkerByCpu: cpuRatio(gw.cpuUsPerRelay, bare.cpuUsPerRelay),
    floorOverBareWorker: floor ? floor.maxRate.requestsPerSecond / bare.maxRate.requestsPerSecond : null,
    floorOverBareWorkerByCpu: cpuRatio(floor?.cpuUsPerRelay, bare.cpuUsPerRelay),
    gatewayOverFloor: floor ? gw.maxRate.requestsPerSecond / floor.maxRate.requestsPerSecond : null,
    gatewayOverFloorByCpu: cpuRatio(gw.cpuUsPerRelay, floor?.cpuUsPerRelay),
    gatewayAddedCpuUsPerRelayOverFloor: gw.cpuUsPerRelay && floor?.cpuUsPerRelay ? gw.cpuUsPerRelay - floor.cpuUsPerRelay : null,
    addedP50MsOverBareWorker: gw.fixedRate.p50Ms - bare.fixedRate.p50Ms,
    p99OverBareWorker: gw.fixedRate.p99Ms / bare.fixedRate.p99Ms,
    addedP50MsOverDirect: gw.fixedRate.p50Ms - (r.direct?.fixedRate.p50Ms ?? Number.NaN),
    addedP99MsOverDirect: gw.fixedRate.p99Ms - (r.direct?.fixedRate.p99Ms ?? Number.NaN),
    objectCallsPerThousandRelays: relay.sessionObject?.maxRate.perThousandRelays ?? null,
    objectCallsPerThousandRelaysAtFixedRate: relay.sessionObject?.fixedRate.perThousandRelays ?? null,
    slowHostAddedP50MsOverDirect: slow.gateway.p50Ms - slow.direct.p50Ms,
    slowHostAddedP50MsOverBareWorker: slow.gateway.p50Ms - slow.bareWorker.p50Ms,
    slowHostP99OverBareWorker: slow.gateway.p99Ms / slow.bareWorker.p99Ms,
  };
if (ratios) {
  log(
    `throughput gateway / bare worker: ${f(ratios.gatewayOverBareWorker)}x (target >= 0.8x); by server CPU per relay: ${f(ratios.gatewayOverBareWorkerByCpu)}x`,
  );
  log(
    `the relay's floor (both bodies read whole, an attempt timer, the relay's headers) / bare worker: ${f(ratios.floorOverBareWorker)}x; by CPU: ${f(ratios.floorOverBareWorkerByCpu)}x`,
  );
  log(
    `gateway / floor: ${f(ratios.gatewayOverFloor)}x; by CPU: ${f(ratios.gatewayOverFloorByCpu)}x (the relay's own work: +${f(ratios.gatewayAddedCpuUsPerRelayOverFloor, 0)} us CPU per relay)`,
  );
  log(
    `throughput gateway / nginx: ${ratios.gatewayOverNginx === null ? "n/a (nginx not installed)" : `${f(ratios.gatewayOverNginx)}x`}`,
  );
  log(
    `at ${relay.fixedRate} rps against the bare worker: p50 +${f(ratios.addedP50MsOverBareWorker, 3)} ms (target <= +0.5), p99 ${f(ratios.p99OverBareWorker)}x (target <= 1.25x)`,
  );
  log(
    `added latency over direct at ${relay.fixedRate} rps: p50 +${f(ratios.addedP50MsOverDirect, 3)} ms, p99 +${f(ratios.addedP99MsOverDirect, 3)} ms`,
  );
  const calls = relay.sessionObject;
  if (calls)
    log(
      `session object calls per 1,000 relays: ${f(calls.maxRate.perThousandRelays, 1)} at max rate (${calls.maxRate.calls} calls, ${calls.maxRate.relays} relays: ${JSON.stringify(calls.maxRate.byMethod)}), ${f(calls.fixedRate.perThousandRelays, 1)} at ${relay.fixedRate} rps (target <= 20)`,
    );
  log(`slow host (each answer after ${relay.slowHostMs} ms), ${relay.fixedRate} rps:`);
  for (const [name, v] of Object.entries(slow))
    log(`  ${name.padEnd(11)} p50 ${f(v.p50Ms, 3)} ms  p99 ${f(v.p99Ms, 3)} ms  errors ${v.errors}`);
  log(
    `  gateway adds p50 +${f(ratios.slowHostAddedP50MsOverDirect, 3)} ms over direct (fast host: +${f(ratios.addedP50MsOverDirect, 3)}), +${f(ratios.slowHostAddedP50MsOverBareWorker, 3)} ms over the bare worker; p99 ${f(ratios.slowHostP99OverBareWorker)}x the bare worker`,
  );
}
const cost = relay.reportCost;
log(
  `session object per reported receipt: ${f(cost.msPerReceipt * 1000, 1)} us (report of ${cost.receiptsPerReport}: ${f(cost.fullReportMs, 3)} ms, empty report ${f(cost.emptyReportMs, 3)} ms, median of ${cost.reports}); one object takes about ${f(1000 / cost.msPerReceipt, 0)} relays/s on this core`,
);

log("\n== Hedged requests, one slow host (same gateway build, baseline in the same run) ==");
const hedging = await benchHedging({ build: false });
for (const line of hedgingLines(hedging)) log(line);

log("\n== Durable Object call cost (admit + complete per relay: the design before leases), same object two ways ==");
const dob = await benchDurableObjects();
log(
  `native RPC + SQLite: ${f(dob.nativeMsPerRelay, 3)} ms   itty-durable: ${f(dob.ittyMsPerRelay, 3)} ms   ratio itty/native: ${f(dob.ittyMsPerRelay / dob.nativeMsPerRelay)}x  (${dob.relays} relays in a row)`,
);

const merkle = merkleSection(log);

log("\n== Session selection (selectSessionHosts, 24 of N) ==");
const sessions = benchSessions();
for (const s of sessions)
  log(`${String(s.hosts).padStart(6)} hosts: median ${f(s.medianMs, 3)} ms, p90 ${f(s.p90Ms, 3)} ms (target at 10,000: <= 1 ms)`);

log("\n== Chain gas (ProofRegistry on anvil) ==");
const gas = await measureGas();
log("relays   sessions  commitBatch  proveBatch  gas/relay");
for (const g of gas)
  log(
    `${String(g.relays).padStart(7)}  ${String(g.sessions).padStart(8)}  ${String(g.commitGas).padStart(11)}  ${String(g.proveGas).padStart(10)}  ${f(g.gasPerRelay).padStart(9)}`,
  );

log("\n== Bundle ==");
const bundle = benchBundle();
log(
  `Worker bundle ${f(bundle.rawKiB, 1)} KiB raw, ${f(bundle.gzipKiB, 1)} KiB gzip (target <= 300 KB gzip); startup (local CPU profile, active) ${f(bundle.startupActiveMs, 1)} ms`,
);

const results = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: os.totalmem() / 2 ** 30, node: process.version },
  relay: { ...relay, ratios },
  hedging,
  durableObjects: dob,
  merkle,
  sessions,
  gas,
  bundle,
  seconds: (Date.now() - started) / 1000,
};
fs.writeFileSync("bench/results.json", `${JSON.stringify(results, null, 2)}\n`);
log(`\nwrote bench/results.json in ${f(results.seconds, 0)} s`);
