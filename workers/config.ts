/**
 * The gateway's configuration: the protocol parameters (protocol/parameters.ts) plus the vars and
 * secrets of this deployment, each described once below. `npm run docs` writes
 * docs/configuration.md from these tables; wrangler.toml sets only what differs from them.
 */
import { isAddress, zeroAddress } from "viem";
import type { SigningDomain } from "../protocol/host-registration.js";
import { PARAMETERS, type ProtocolParameters, readParameters } from "../protocol/parameters.js";
import { flag, oneOf, positiveInteger, readVar, type VarKind, type VarRecord, varSpec } from "../protocol/vars.js";

/** A contract address, or empty for none. */
const addressOrEmpty: VarKind<string> = {
  label: "20-byte hex address, or empty",
  parse(raw, name) {
    if (!isAddress(raw, { strict: false })) throw new Error(`${name} must be a 20-byte hex address`);
    return raw;
  },
  format: String,
};

/** The gateway's own vars (not protocol parameters), keyed by what the code calls them. */
export const GATEWAY_VARS = {
  registryChainId: varSpec({
    name: "REGISTRY_CHAIN_ID",
    kind: positiveInteger,
    default: 31337,
    group: "chain",
    description:
      "Chain id in the EIP-712 domain of every signed message (with `PROOF_REGISTRY_ADDRESS`): the chain ProofRegistry is on.",
  }),
  proofRegistryAddress: varSpec({
    name: "PROOF_REGISTRY_ADDRESS",
    kind: addressOrEmpty,
    default: "",
    group: "chain",
    description:
      "This deployment's ProofRegistry: where batches are committed and the EIP-712 verifying contract. Empty keeps the chain off (batches wait as pending; signatures name the zero address).",
  }),
  storageDriver: varSpec({
    name: "STORAGE_DRIVER",
    kind: oneOf("d1", "libsql"),
    default: "d1",
    group: "storage",
    description: 'Where the tables live: "d1" (the `DB` binding) or "libsql" (the `LIBSQL_URL` and `LIBSQL_AUTH_TOKEN` secrets).',
  }),
  allowLoopbackHosts: varSpec({
    name: "ALLOW_LOOPBACK_HOSTS",
    kind: flag,
    default: false,
    group: "dev",
    description: "Accept `127.0.0.1`/`localhost` host endpoints so local demo hosts can register (private ranges never are).",
  }),
  devMode: varSpec({
    name: "DEV_MODE",
    kind: flag,
    default: false,
    group: "dev",
    description: "Honour the `X-Conductor-Dev-Location` caller-location header and activate new hosts in the current epoch.",
  }),
  wsMaxFrameBytes: varSpec({
    name: "WS_MAX_FRAME_BYTES",
    kind: positiveInteger,
    default: 512 * 1024,
    unit: "bytes",
    group: "relays",
    description:
      "Largest WebSocket frame a client may send; a larger one is answered with a `frame_too_large` error (below the platform's 1 MiB message limit, so the caller gets an answer rather than a dropped connection).",
  }),
  wsMaxSubscriptions: varSpec({
    name: "WS_MAX_SUBSCRIPTIONS",
    kind: positiveInteger,
    default: 32,
    group: "relays",
    description: "Most `eth_subscribe` subscriptions open at once on one WebSocket connection.",
  }),
  wsLagCheckMs: varSpec({
    name: "WS_LAG_CHECK_MS",
    kind: positiveInteger,
    default: 5_000,
    unit: "ms",
    group: "relays",
    description:
      "While a WebSocket connection has subscriptions: how often the head of the host serving them is compared with the session's other hosts.",
  }),
  wsMaxLagBlocks: varSpec({
    name: "WS_MAX_LAG_BLOCKS",
    kind: positiveInteger,
    default: 2,
    group: "relays",
    description:
      "Blocks a subscription's host may fall behind another host of the session before its subscriptions move to the host that is ahead.",
  }),
  wsMaxBackfillBlocks: varSpec({
    name: "WS_MAX_BACKFILL_BLOCKS",
    kind: positiveInteger,
    default: 128,
    group: "relays",
    description:
      "Most blocks fetched (`eth_getBlockByNumber`, by hash when the host reorged meanwhile) to fill a gap or follow a reorg in `newHeads` when a subscription moves to another host.",
  }),
};

/** A secret: set with `wrangler secret put NAME` (or `.dev.vars` locally); never in wrangler.toml. */
export interface SecretSpec {
  readonly name: string;
  readonly description: string;
}

/** Every secret the gateway reads (the `Env` members of workers/secrets.d.ts). */
export const GATEWAY_SECRETS: readonly SecretSpec[] = [
  {
    name: "ADMIN_TOKEN",
    description: "Bearer token for the admin routes (requestors, keys, services); unset, the admin routes answer 503.",
  },
  {
    name: "CHAIN_RPC_URL",
    description:
      "JSON-RPC URL of the chain holding ProofRegistry (a secret because it may carry an API key); the chain is on only with it, `CHAIN_PRIVATE_KEY` and `PROOF_REGISTRY_ADDRESS`.",
  },
  {
    name: "CHAIN_PRIVATE_KEY",
    description: "Private key of the account that submits `commitBatch`; ProofRegistry must list it as a submitter.",
  },
  {
    name: "LIBSQL_URL",
    description: 'With `STORAGE_DRIVER` "libsql": the libSQL/Turso database URL (`libsql://...` or `https://...`).',
  },
  {
    name: "LIBSQL_AUTH_TOKEN",
    description: 'With `STORAGE_DRIVER` "libsql": the database\'s auth token (Turso).',
  },
];

/** Every var with a default, protocol parameters first: what docs/configuration.md lists and wrangler.toml may set. */
export const CONFIGURATION_VARS = [...Object.values(PARAMETERS), ...Object.values(GATEWAY_VARS)];

/** What the code reads: the protocol parameters and the gateway vars (meanings in `PARAMETERS` and `GATEWAY_VARS`). */
export interface GatewayConfig extends ProtocolParameters {
  registryChainId: number;
  /** The EIP-712 domain every signed message must name: chain id and this deployment's ProofRegistry. */
  signingDomain: SigningDomain;
  allowLoopbackHosts: boolean;
  devMode: boolean;
}

const cache = new WeakMap<object, GatewayConfig>();

/** This deployment's `ProofRegistry` address, or null when the chain is off. */
export function registryAddress(config: GatewayConfig): string | null {
  return config.signingDomain.verifyingContract === zeroAddress ? null : config.signingDomain.verifyingContract;
}

/** Reads (once per `env` object) and validates the configuration. */
export function gatewayConfig(env: Env): GatewayConfig {
  let config = cache.get(env);
  if (!config) {
    const vars = env as unknown as VarRecord;
    const chainId = readVar(vars, GATEWAY_VARS.registryChainId);
    const registry = readVar(vars, GATEWAY_VARS.proofRegistryAddress) || zeroAddress;
    config = {
      ...readParameters(vars),
      registryChainId: chainId,
      signingDomain: { chainId, verifyingContract: registry.toLowerCase() as SigningDomain["verifyingContract"] },
      allowLoopbackHosts: readVar(vars, GATEWAY_VARS.allowLoopbackHosts),
      devMode: readVar(vars, GATEWAY_VARS.devMode),
    };
    cache.set(env, config);
  }
  return config;
}
