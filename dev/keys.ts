/**
 * The keys of the local network (dev network, tests, benchmarks): anvil's well-known development
 * keys, public and for local use only, and which one plays which role.
 */
import type { Hex } from "viem";

/**
 * anvil's development keys #0 to #5 (mnemonic "test test ... junk"), in anvil's order; every
 * account starts with 10,000 ETH on a fresh anvil chain.
 */
export const ANVIL_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
] as const satisfies readonly Hex[];

/**
 * Which anvil key plays which role in the dev network. No key plays two roles, so an address in
 * `.conductor/dev.json`, in the gateway's ledger or on the commitment chain names one actor.
 *
 * @example
 * const validator = privateKeyToAccount(DEV_KEYS.validator);
 */
export const DEV_KEYS = {
  /** #0: deploys ProofRegistry and submits the gateway's commitments (its `CHAIN_PRIVATE_KEY`). */
  submitter: ANVIL_KEYS[0],
  /** #1: proves committed batches (`validator/cli.ts`'s `VALIDATOR_PRIVATE_KEY`). */
  validator: ANVIL_KEYS[1],
  /** #2 to #5: operators of the demo hosts, one each (three anvil hosts, then the inference host). */
  hostOperators: [ANVIL_KEYS[2], ANVIL_KEYS[3], ANVIL_KEYS[4], ANVIL_KEYS[5]],
} as const;
