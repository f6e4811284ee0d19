// `npm run dev`: starts the whole local network with one command and prints how to use it.
// Ctrl-C stops every process it started. Options: GATEWAY_PORT (default 8787), CONDUCTOR_DEV_DIR
// (default .conductor), DEV_QUIET=1 to hide wrangler's and the validator's output,
// DEV_CRON_INTERVAL_MS (default 5000); SESSION_SECONDS, ROLLOVER_GRACE_SECONDS and the probe
// intervals pass through to the gateway for a quicker cycle.
//
// Nothing it starts may outlive it: the port is checked before anything starts (a gateway left
// there by an earlier run would answer in place of the new one), and the signal handlers are
// installed first, so Ctrl-C, SIGTERM, SIGHUP, the parent going away or a failure at any point
// of start-up stops everything started so far.
import { constants } from "node:os";
import path from "node:path";
import { portIsFree } from "../dev/free-port.js";
import { type DevNetwork, startNetwork } from "../dev/network.js";

const port = Number(process.env.GATEWAY_PORT ?? 8787);
const dir = path.resolve(process.env.CONDUCTOR_DEV_DIR ?? ".conductor");
const cronIntervalMs = Number(process.env.DEV_CRON_INTERVAL_MS ?? 5000);

if (!(await portIsFree(port))) {
  console.error(
    `npm run dev: port ${port} is already in use (a dev network still running?); stop what listens there, or pick another port: GATEWAY_PORT=${port + 1} npm run dev`,
  );
  process.exit(1);
}

const interruption = new AbortController();
let network: DevNetwork | undefined;
let stoppedBy: NodeJS.Signals | "parent" | undefined;
const shutdown = async (reason: NodeJS.Signals | "parent") => {
  if (stoppedBy) return; // npm passes Ctrl-C on as well, so the same signal can arrive twice
  stoppedBy = reason;
  console.log("stopping the dev network...");
  if (!network) {
    interruption.abort(new Error(`start-up interrupted (${reason})`)); // start-up stops what it started, then throws
    return;
  }
  await network.stop();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
// If whatever started us is gone (npm killed with SIGKILL, a shell that does not pass signals
// on), nobody is left to press Ctrl-C: stop as if it had been pressed.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown("parent");
}, 1000).unref();

try {
  network = await startNetwork({
    port,
    dir,
    quiet: process.env.DEV_QUIET === "1",
    cronIntervalMs,
    signal: interruption.signal,
  });
} catch (error) {
  if (interruption.signal.aborted) {
    console.log("the dev network was stopped before it was up; nothing it started is left running.");
    process.exit(stoppedBy && stoppedBy !== "parent" ? 128 + constants.signals[stoppedBy] : 1);
  }
  console.error(`npm run dev: start-up failed: ${error instanceof Error ? error.message : error}`);
  console.error("npm run dev: every process it had started has been stopped.");
  process.exit(1);
}

const { info } = network;
const eth = info.services["eth-local"];
const llm = info.services["llm-local"];
console.log(`
Conductor Relay dev network is up.

  gateway        ${info.gateway}
  dashboard      ${info.dashboard}
  admin token    ${info.adminToken}
  demo API key   ${info.requestor.apiKey}   (requestor ${info.requestor.id}, stake ${info.requestor.stake})

  JSON-RPC       curl -s ${eth.url} -H 'authorization: Bearer ${info.requestor.apiKey}' \\
                   -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'
  key in URL     ${eth.urlWithKey}
  OpenAI base    ${llm.openAiBaseUrl}   (model ${llm.model})

  hosts          ${info.hosts.map((h) => `${h.name} ${h.id} -> ${h.endpoint}`).join("\n                 ")}

  chain          ${info.chain.url} (chain id ${info.chain.chainId}), ProofRegistry ${info.chain.contract}
  validator      ${info.validator}; cron runs every ${cronIntervalMs / 1000} s; batches: ${info.gateway}/v1/batches

Written to ${path.join(dir, "dev.json")}. Ctrl-C stops everything.
`);
