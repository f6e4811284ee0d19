/** What the Node-side global setup hands the workerd tests: where the real hosts are. */
export interface TestHostsEnv {
  /** Three anvil JSON-RPC nodes on one chain id. */
  anvils: string[];
  chainId: number;
  /** POST `${factory}/hosts` starts a fault-injecting host and answers `{ name, url, port }`. */
  factory: string;
}
