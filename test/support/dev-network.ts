/**
 * Spawns `npm run dev` as a person would run it (its own process group, a temporary state
 * directory, a free port) and reads the `dev.json` it writes; `stop()` sends what Ctrl-C sends.
 * Node tests that need the whole local network (the SDK and CLI tests) share this.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../dev/free-port.js";
import type { DevNetworkInfo } from "../../dev/network.js";

export const REPOSITORY_ROOT = path.resolve(import.meta.dirname, "../..");

export interface SpawnedDevNetwork {
  info: DevNetworkInfo;
  process: ChildProcess;
  /** Ctrl-C to the process group, then waits for `npm run dev` to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `npm run dev` with `env` on top of the test's environment and waits (up to `timeoutMs`,
 * generous for a loaded 2-core machine) for it to say the network is up.
 *
 * @example
 * const dev = await spawnDevNetwork({ SESSION_SECONDS: "8" });
 * try { ... dev.info.gateway ... } finally { await dev.stop(); }
 */
export async function spawnDevNetwork(env: Record<string, string> = {}, timeoutMs = 180_000): Promise<SpawnedDevNetwork> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-dev-"));
  const port = await freePort();
  const child = spawn("npm", ["run", "dev"], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, GATEWAY_PORT: String(port), CONDUCTOR_DEV_DIR: dir, DEV_QUIET: "1", ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-(child.pid as number), "SIGINT");
    await exited;
  };
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  const until = Date.now() + timeoutMs;
  try {
    while (!output.includes("dev network is up")) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm run dev exited with ${child.exitCode}`);
      if (Date.now() > until) throw new Error("timed out waiting for the dev network");
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const info: DevNetworkInfo = JSON.parse(fs.readFileSync(path.join(dir, "dev.json"), "utf8"));
  return { info, process: child, stop };
}

/**
 * Polls `probe` until it returns something other than `undefined`, or throws after `timeoutMs`
 * naming `what` (and the last error the probe threw, if any).
 *
 * @example
 * const batch = await pollFor(async () => { const b = await client.getBatch(id); return b.state === "verified" ? b : undefined; }, "a verified batch");
 */
export async function pollFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 120_000,
  everyMs = 500,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
