// Starts anvil (from the npm package @foundry-rs/anvil) as a child process and waits until it answers.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/** Path of the anvil binary shipped in the platform package of @foundry-rs/anvil. */
export function anvilBinary(): string {
  const pkg = path.dirname(require.resolve("@foundry-rs/anvil/package.json"));
  return path.join(pkg, "..", `anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}`, "bin", "anvil");
}

/** Waits until a JSON-RPC endpoint answers `eth_chainId`, or throws after `timeoutMs`. */
export async function waitForRpc(url: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }),
      });
      if (res.ok) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How to start anvil: its port, chain id (default 31337), seconds per block (default: a block per transaction). */
export interface AnvilOptions {
  port: number;
  chainId?: number;
  blockTime?: number;
  /** Aborting it during start-up stops anvil and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A running anvil: where it answers, its process, and how to stop it. */
export interface Anvil {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops anvil (SIGTERM, then SIGKILL after 5 s); resolves once the process has exited. */
  stop: () => Promise<void>;
}

/**
 * Starts anvil and waits until it answers. If it does not start, or `signal` aborts first, the
 * process is killed before the promise rejects, so a failed start leaves nothing running.
 * `stop()` resolves once the process has exited.
 *
 * @example
 * const anvil = await startAnvil({ port: await freePort(), blockTime: 1 });
 * try { ... } finally { await anvil.stop(); }
 */
export async function startAnvil({ port, chainId = 31337, blockTime, signal }: AnvilOptions): Promise<Anvil> {
  signal?.throwIfAborted();
  // A fixed genesis timestamp gives every local anvil the same genesis block, so fishermen's
  // known-answer canary (a block hash most hosts agree on) works across separate processes.
  const args = [
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--chain-id",
    String(chainId),
    "--timestamp",
    "1700000000",
    "--silent",
  ];
  if (blockTime) args.push("--block-time", String(blockTime));
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "ignore", "inherit"] });
  const gone = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const exited = gone.then((code) => {
    throw new Error(`anvil on ${port} exited with ${code}`);
  });
  const aborted = new Promise<never>((_, reject) =>
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true }),
  );
  try {
    await Promise.race([waitForRpc(url), exited, aborted]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, process: child, stop };
}
