// `npm run dev`: starts the whole local network with one command and prints how to use it.
// Ctrl-C stops every process it started. Options: GATEWAY_PORT (default 8787), CONDUCTOR_DEV_DIR
// (default .conductor), DEV_QUIET=1 to hide wrangler's own output.
import path from "node:path";
import { startNetwork } from "../dev/network.mjs";

const port = Number(process.env.GATEWAY_PORT ?? 8787);
const dir = path.resolve(process.env.CONDUCTOR_DEV_DIR ?? ".conductor");

const { info, stop } = await startNetwork({ port, dir, quiet: process.env.DEV_QUIET === "1" });
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
