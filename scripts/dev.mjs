// `npm run dev`: starts the whole local network with one command and prints how to use it.
// Ctrl-C stops every process it started. Options: GATEWAY_PORT (default 8787), CONDUCTOR_DEV_DIR
// (default .conductor), DEV_QUIET=1 to hide wrangler's and the validator's output,
// DEV_CRON_INTERVAL_MS (default 5000); SESSION_SECONDS, ROLLOVER_GRACE_SECONDS and the probe
// intervals pass through to the gateway for a quicker cycle.
import path from "node:path";
import { startNetwork } from "../dev/network.mjs";

const port = Number(process.env.GATEWAY_PORT ?? 8787);
const dir = path.resolve(process.env.CONDUCTOR_DEV_DIR ?? ".conductor");

const cronIntervalMs = Number(process.env.DEV_CRON_INTERVAL_MS ?? 5000);
const { info, stop } = await startNetwork({ port, dir, quiet: process.env.DEV_QUIET === "1", cronIntervalMs });
const eth = info.services["eth-local"];
const llm = info.services["llm-local"];
console.log(`
Conductor Relay dev network is up.

  gateway        ${info.gateway}
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

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("stopping the dev network...");
  await stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
