/** What the Node-side global setup hands the workerd tests: where the real hosts are. */
export interface TestHostsEnv {
  /** Three anvil JSON-RPC nodes on one chain id. */
  anvils: string[];
  chainId: number;
  /** POST `${factory}/hosts` starts a fault-injecting host and answers `{ name, url, port }`. */
  factory: string;
}

/** The commitment chain for tests (test/support/chain.ts). */
export interface TestChain {
  /** The proxy: what the gateway uses. */
  rpc: string;
  /** anvil itself: what tests use to mine blocks and read state during an outage. */
  direct: string;
  /** POST `{ "down": boolean }` here to cut or restore the proxy. */
  control: string;
  contract: `0x${string}`;
  challengeDelay: number;
  proofWindow: number;
  submitterKey: `0x${string}`;
  validatorKey: `0x${string}`;
  strangerKey: `0x${string}`;
}
