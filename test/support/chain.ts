/**
 * The commitment chain for tests: an anvil process, `ProofRegistry` deployed on it, and a proxy
 * in front whose outage switch (`POST {control}` with `{ "down": true }`) makes the chain
 * unreachable for the gateway while the test itself can still reach anvil directly.
 */
import http from "node:http";
import { startAnvil } from "../../dev/anvil.js";
import { ANVIL_KEYS, DEV_KEYS } from "../../dev/keys.js";
import { deployProofRegistry } from "../../dev/proof-registry.js";

export { ANVIL_KEYS, deployProofRegistry };

import { freePort } from "../../dev/free-port.js";
import type { TestChain } from "./test-hosts.js";

export type { TestChain };

export async function startTestChain() {
  const anvil = await startAnvil({ port: await freePort(), chainId: 31337 });
  const challengeDelay = 2;
  const proofWindow = 5;
  const contract = await deployProofRegistry(anvil.url, DEV_KEYS.submitter, challengeDelay, proofWindow);
  let down = false;
  const proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.url === "/__chain") {
      down = JSON.parse(body.toString() || "{}").down === true;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ down }));
      return;
    }
    if (down) {
      req.socket.destroy();
      return;
    }
    const upstream = await fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  const chain: TestChain = {
    rpc: `http://127.0.0.1:${port}`,
    direct: anvil.url,
    control: `http://127.0.0.1:${port}/__chain`,
    contract,
    challengeDelay,
    proofWindow,
    submitterKey: DEV_KEYS.submitter,
    validatorKey: DEV_KEYS.validator,
    // Neither the submitter nor the validator: an outsider to this chain's contract.
    strangerKey: ANVIL_KEYS[2],
  };
  return {
    chain,
    stop: async () => {
      anvil.stop();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
