/**
 * WebSocket relays end to end against `npm run dev`: viem's `webSocket()` transport and ethers'
 * `WebSocketProvider` unchanged, subscriptions through the gateway, and a host killed
 * mid-subscription. The three demo anvils are made to produce the very same chain (automine off,
 * the same signed transactions, blocks mined at the same timestamps), so a subscription that moves
 * from one to another must show every block exactly once, with the hashes every host agrees on.
 */
import { WebSocketProvider } from "ethers";
import { createPublicClient, getContractAddress, type Hex, keccak256, parseAbiItem, toBytes, webSocket } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevNetworkInfo } from "../../dev/network.js";
import { pollFor, type SpawnedDevNetwork, spawnDevNetwork } from "../support/dev-network.js";

let dev: SpawnedDevNetwork;
let info: DevNetworkInfo;

/** anvil's first default account (a well-known test key with a balance on every demo anvil). */
const FUNDED = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const PING = parseAbiItem("event Ping(uint256 n)");
const PING_TOPIC = keccak256(toBytes("Ping(uint256)"));
/** A contract whose every call emits `Ping(n)` with the call data as `n` (hand-assembled: 12 bytes of init code, 44 of runtime). */
const EMITTER_INIT = `0x602c600c600039602c6000f3366000600037${`7f${PING_TOPIC.slice(2)}`}366000a100` as Hex;

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

let anvils: string[] = [];
let nonce = 0;
let timestamp = 1_700_000_000;

/** One transaction sent to every live anvil, then one block mined on each at the same timestamp. */
async function step(data: Hex, to: Hex | null): Promise<void> {
  const signed = await FUNDED.signTransaction({
    chainId: 31337,
    nonce: nonce++,
    gas: 200_000n,
    gasPrice: 10_000_000_000n,
    to,
    data,
    type: "legacy",
  });
  timestamp += 12;
  for (const url of anvils) await rpc(url, "eth_sendRawTransaction", [signed]);
  for (const url of anvils) await rpc(url, "evm_mine", [timestamp]);
}

const word = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

beforeAll(async () => {
  dev = await spawnDevNetwork();
  info = dev.info;
  anvils = info.hosts.filter((h) => h.service === "eth-local").map((h) => h.endpoint);
  for (const url of anvils) await rpc(url, "evm_setAutomine", [false]);
});

afterAll(async () => {
  await dev?.stop();
});

describe("WebSocket relays against npm run dev", () => {
  it("serves viem's webSocket transport and ethers' WebSocketProvider; a host killed mid-subscription goes unnoticed", async () => {
    const wsUrl = info.services["eth-local"].urlWithKey.replace(/^http/, "ws");
    const client = createPublicClient({ transport: webSocket(wsUrl) });
    const provider = new WebSocketProvider(wsUrl);
    try {
      expect(await client.getChainId()).toBe(31337);
      await step(EMITTER_INIT, null);
      const emitter = getContractAddress({ from: FUNDED.address, nonce: 0n });
      expect(await client.getBlockNumber()).toBe(1n);
      expect(await provider.getBlockNumber()).toBe(1);
      expect(await client.getBytecode({ address: emitter })).toMatch(/^0x36/);

      const viemBlocks: { number: bigint; hash: Hex }[] = [];
      const viemPings: bigint[] = [];
      const ethersBlocks: number[] = [];
      const unwatchBlocks = client.watchBlocks({
        onBlock: (block) => viemBlocks.push({ number: block.number, hash: block.hash }),
      });
      const unwatchEvents = client.watchContractEvent({
        address: emitter,
        abi: [PING],
        eventName: "Ping",
        onLogs: (logs) => viemPings.push(...logs.map((l) => l.args.n as bigint)),
      });
      await provider.on("block", (n: number) => ethersBlocks.push(n));
      // The clients subscribe in the background: ping until all three subscriptions have seen a block.
      await pollFor(
        async () => {
          if (viemBlocks.length && ethersBlocks.length && viemPings.includes(0n)) return true;
          await step(word(0), emitter);
          return undefined;
        },
        "the subscriptions to be in place",
        60_000,
        500,
      );
      const base = Number(await client.getBlockNumber({ cacheTime: 0 }));
      for (let n = 1; n <= 3; n++) await step(word(n), emitter);
      await pollFor(
        async () => (viemPings.includes(3n) && ethersBlocks.includes(base + 3) ? true : undefined),
        "the first pings",
        30_000,
        100,
      );

      // Kill the host the gateway routes this caller to first (where the subscriptions are).
      const probe = await fetch(info.services["eth-local"].urlWithKey, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }),
      });
      const first = info.hosts.find((h) => h.id === probe.headers.get("x-conductor-host"));
      expect(first?.pid).toBeGreaterThan(0);
      process.kill(first?.pid as number, "SIGKILL");
      anvils = anvils.filter((url) => url !== first?.endpoint);
      await pollFor(
        async () => {
          try {
            await rpc(first?.endpoint as string, "eth_chainId");
            return undefined;
          } catch {
            return true; // refused: it is gone
          }
        },
        "the host to be gone",
        10_000,
        50,
      );
      for (let n = 4; n <= 7; n++) await step(word(n), emitter);
      const last = base + 7;
      await pollFor(
        async () =>
          viemPings.includes(7n) && ethersBlocks.includes(last) && viemBlocks.some((b) => b.number === BigInt(last))
            ? true
            : undefined,
        "pings and blocks after the kill",
        60_000,
        100,
      );

      expect(viemPings.filter((n) => n > 0n)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
      // viem fetches each notified head with getBlock, so its callbacks may come in any order.
      const numbers = viemBlocks.map((b) => Number(b.number)).sort((a, b) => a - b);
      expect(new Set(numbers).size).toBe(numbers.length); // no duplicate
      const from = numbers[0];
      expect(numbers).toEqual(Array.from({ length: last - from + 1 }, (_, i) => from + i)); // no gap
      for (const block of viemBlocks) {
        const onChain = (await rpc(anvils[0], "eth_getBlockByNumber", [`0x${block.number.toString(16)}`, false])) as {
          hash: Hex;
        };
        expect(block.hash).toBe(onChain.hash);
      }
      // ethers emits the notified numbers in the order they came: the gateway's order.
      expect(ethersBlocks.filter((n) => n > base)).toEqual(Array.from({ length: 7 }, (_, i) => base + 1 + i));
      unwatchBlocks();
      unwatchEvents();
    } finally {
      await provider.destroy();
    }
  }, 180_000);
});
