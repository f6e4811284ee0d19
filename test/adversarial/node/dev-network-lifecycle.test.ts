/**
 * Finding #4: `npm run dev` must not leave processes behind. It is spawned exactly as a person
 * runs it (as `test/node/dev-network.test.ts` does), with its own temporary `CONDUCTOR_DEV_DIR`.
 * Every process it starts inherits that variable, so "what it started" is read from the system
 * (`/proc`), independently of the dev script: a process whose environment or command line names
 * the temporary directory was started by this run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../../dev/free-port.js";

interface DevRun {
  child: ChildProcess;
  dir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const runs: DevRun[] = [];

function startDev(port: number, env: Record<string, string> = {}): DevRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-dev-lifecycle-"));
  const child = spawn("npm", ["run", "dev"], {
    cwd: path.resolve(__dirname, "../../.."),
    env: { ...process.env, GATEWAY_PORT: String(port), CONDUCTOR_DEV_DIR: dir, DEV_QUIET: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const run = { child, dir, output: () => output, exited };
  runs.push(run);
  return run;
}

/** Resolves when the run prints `text`; fails if it exits first or `timeoutMs` passes. */
function logLine(run: DevRun, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no "${text}" within ${timeoutMs} ms; output:\n${run.output()}`)), timeoutMs);
    const check = () => {
      if (run.output().includes(text)) finish();
    };
    const onExit = () => finish(new Error(`npm run dev exited before "${text}"; output:\n${run.output()}`));
    function finish(error?: Error) {
      clearTimeout(timer);
      run.child.stdout?.off("data", check);
      run.child.stderr?.off("data", check);
      run.child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    }
    run.child.stdout?.on("data", check);
    run.child.stderr?.on("data", check);
    run.child.once("exit", onExit);
    check();
  });
}

/** The run's exit, or a failure naming how long it kept running. */
async function exitOf(run: DevRun, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`npm run dev still running after ${timeoutMs} ms; output:\n${run.output()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every live process (zombies aside) whose environment or command line names `dir`. */
function processesOf(dir: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "")[0];
      if (state === "Z") continue;
      if (environ.includes(`CONDUCTOR_DEV_DIR=${dir}`) || command.includes(dir)) found.push({ pid, command });
    } catch {
      // The process ended while we read it, or is not ours to read.
    }
  }
  return found;
}

/** Waits until `probe` holds, checking every 100 ms (the system offers no event for it). */
async function until(probe: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A gateway left running by an earlier `npm run dev`: healthy, but it knows no admin token. */
async function staleGateway(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === "/health" ? 200 : 401, { "content-type": "application/json" });
    res.end(req.url === "/health" ? '{"ok":true}' : '{"error":{"code":"unauthorized"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

afterEach(() => {
  // Whatever a failing run left behind is ended here, by pid, so it cannot disturb other tests.
  for (const run of runs.splice(0)) {
    try {
      process.kill(-(run.child.pid as number), "SIGKILL");
    } catch {}
    for (const { pid } of processesOf(run.dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    fs.rmSync(run.dir, { recursive: true, force: true });
  }
});

describe("npm run dev lifecycle", () => {
  it("#4 refuses at once, naming the port, and starts nothing when the gateway port is taken", async () => {
    const stale = await staleGateway();
    try {
      const run = startDev(stale.port);
      const exit = await exitOf(run, 20_000);
      expect(exit.code).not.toBe(0);
      const line =
        run
          .output()
          .split("\n")
          .find((l) => l.includes(`port ${stale.port}`)) ?? "";
      expect(line, run.output()).toMatch(/in use/);
      expect(line).toContain("GATEWAY_PORT");
      expect(run.output()).not.toContain("starting anvil");
      expect(processesOf(run.dir)).toEqual([]);
    } finally {
      await stale.close();
    }
  }, 60_000);

  it("#4 Ctrl-C while the gateway is starting stops every process started so far", async () => {
    const run = startDev(await freePort());
    await logLine(run, "starting the gateway", 240_000);
    // The line is printed just before wrangler is spawned; wait for the process itself.
    const isWranglerDev = (c: string) => c.includes("wrangler") && c.includes(" dev ");
    await until(() => processesOf(run.dir).some((p) => isWranglerDev(p.command)), "wrangler dev to start", 60_000);
    const before = processesOf(run.dir).map((p) => p.command);
    expect(before.filter((c) => c.includes("/anvil "))).toHaveLength(4); // three hosts and the commitment chain

    process.kill(-(run.child.pid as number), "SIGINT"); // what Ctrl-C sends to the terminal's process group
    const exit = await exitOf(run, 90_000);
    expect(exit.code === 0 && exit.signal === null).toBe(false);
    expect(run.output()).not.toContain("dev network is up");
    expect(processesOf(run.dir)).toEqual([]);
  }, 360_000);

  it("#4 SIGTERM to npm alone, while the demo data is being registered, stops every process including workerd", async () => {
    const run = startDev(await freePort());
    await logLine(run, "registering services", 240_000);
    const before = processesOf(run.dir).map((p) => p.command);
    expect(before.some((c) => c.includes("workerd"))).toBe(true);

    process.kill(run.child.pid as number, "SIGTERM"); // a supervisor stopping npm, not the whole group
    await exitOf(run, 90_000);
    expect(processesOf(run.dir)).toEqual([]);
  }, 360_000);

  it("#4 a start-up failure after the gateway is up stops every process it started", async () => {
    // An invalid parameter makes the gateway answer 500 to the first registration.
    const run = startDev(await freePort(), { HOSTS_PER_SESSION: "0" });
    const exit = await exitOf(run, 300_000);
    expect(exit.code).not.toBe(0);
    expect(run.output()).not.toContain("dev network is up");
    expect(processesOf(run.dir)).toEqual([]);
  }, 360_000);
});
