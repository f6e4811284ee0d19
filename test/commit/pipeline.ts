/**
 * What the commit-pipeline tests share: the anvil chain they run against, the first moment every
 * session of this epoch can close, a cron run, mining, and a validator's dependencies.
 */
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import type { ValidatorDeps } from "../../validator/verify-batch.js";
import { gatewayConfig } from "../../workers/config.js";
import { closeMarginMs } from "../../workers/sessions/session-messages.js";
import { batchProducerStub } from "../../workers/sessions/session-stub.js";
import type { TestChain } from "../support/test-hosts.js";
import { reportReceipts } from "../worker/helpers.js";

export const chain = (): TestChain => JSON.parse(env.TEST_CHAIN);
const config = () => gatewayConfig(env);

/** The first moment at which every session of the current epoch can be closed. */
export const afterThisEpoch = () =>
  epochStartMs(sessionEpoch(Date.now(), config().sessionSeconds) + 1, config().sessionSeconds) +
  config().rolloverGraceSeconds * 1000 +
  closeMarginMs(config()) +
  1;

/** A cron run at `now`, after this isolate has reported its relays' receipts (as its report interval would have). */
export const tick = async (now: number) => {
  await reportReceipts();
  return batchProducerStub(env).tick(now);
};

/** A JSON-RPC call to the test chain's anvil; its `result`. */
export async function anvil(method: string, params: unknown[] = []) {
  const res = await fetch(chain().direct, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return ((await res.json()) as { result: unknown }).result;
}

export const mine = (blocks: number) => anvil("anvil_mine", [`0x${blocks.toString(16)}`]);

/** The validator's dependencies: the gateway through `SELF`, the chain with the validator's key. */
export function validator(): ValidatorDeps {
  const account = privateKeyToAccount(chain().validatorKey);
  const transport = http(chain().direct);
  return {
    gateway: (path) => SELF.fetch(`http://gateway.test${path}`),
    publicClient: createPublicClient({ transport }),
    walletClient: createWalletClient({ account, transport }),
    contract: chain().contract,
  };
}
