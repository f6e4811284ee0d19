/**
 * The commitment chain for tests: an anvil process, `ProofRegistry` deployed on it, and a proxy
 * in front whose outage switch (`POST {control}` with `{ "down": true }`) makes the chain
 * unreachable for the gateway while the test itself can still reach anvil directly.
 */
import http from "node:http";
import { createPublicClient, createWalletClient, http as httpTransport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { proofRegistryAbi, proofRegistryBytecode } from "../../contracts-abi/ProofRegistry.js";
import { startAnvil } from "../../dev/anvil.mjs";
import { freePort } from "./free-port.js";
import type { TestChain } from "./test-hosts.js";

export type { TestChain };

/** anvil's well-known development keys (public; local use only). */
export const ANVIL_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
] as const;

export async function deployProofRegistry(rpc: string, key: `0x${string}`, challengeDelay: number, proofWindow: number) {
  const account = privateKeyToAccount(key);
  const transport = httpTransport(rpc);
  const wallet = createWalletClient({ account, transport });
  const client = createPublicClient({ transport });
  const hash = await wallet.deployContract({
    abi: proofRegistryAbi,
    bytecode: proofRegistryBytecode,
    args: [BigInt(challengeDelay), BigInt(proofWindow)],
    chain: null,
  });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("ProofRegistry deployment produced no address");
  return receipt.contractAddress;
}

export async function startTestChain() {
  const anvil = await startAnvil({ port: await freePort(), chainId: 31337 });
  const challengeDelay = 2;
  const proofWindow = 5;
  const contract = await deployProofRegistry(anvil.url, ANVIL_KEYS[0], challengeDelay, proofWindow);
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
    submitterKey: ANVIL_KEYS[0],
    validatorKey: ANVIL_KEYS[1],
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
