/**
 * Relay path: the same upstream JSON-RPC host reached directly, through a bare forwarding Worker,
 * through the relay's floor (a Worker that reads both bodies whole under an attempt timer:
 * `bench/workers/buffered-proxy.ts`), through nginx (when installed) and through the gateway (auth,
 * quota, session Durable Object, receipt), each under a fixed-rate and a max-rate load from
 * autocannon in a separate process; each server's CPU per relay is read around its max-rate run.
 *
 * Cores (2 on this machine): the server under test (workerd, or nginx) is pinned to core 0; the
 * upstream host and the load generator share core 1. "Direct" has nothing on core 0.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

export const CORE_SERVER = "0";
export const CORE_LOAD = "1";
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] });

const has = (command: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const PINNING = has("taskset") && os.cpus().length >= 2;

function pinned(core: string, command: string, args: string[], options: Parameters<typeof spawn>[2] = {}): ChildProcess {
  return PINNING ? spawn("taskset", ["-c", core, command, ...args], options) : spawn(command, args, options);
}

interface JsonProcess {
  /** The first JSON line the process printed (when it was ready). */
  info: Record<string, unknown>;
  child: ChildProcess;
  /** Sends one line to the process's standard input and returns the JSON line it answers. */
  ask(line: string): Promise<unknown>;
}

/** Starts a process that prints one JSON line when ready, then answers lines on its standard input with JSON lines. */
export async function startJsonProcess(core: string, args: string[]): Promise<JsonProcess> {
  const child = pinned(core, process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on("line", (line) => {
    if (!line.startsWith("{") && !line.startsWith("null")) return;
    const next = waiting.shift();
    if (next) next(line);
    else early.push(line);
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const line = early.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      child.once("exit", () => reject(new Error(`${args.join(" ")} exited`)));
    });
  const info = JSON.parse(await nextLine());
  return {
    info,
    child,
    ask: async (line) => {
      child.stdin?.write(`${line}\n`);
      return JSON.parse(await nextLine());
    },
  };
}

export const tsx = path.join("node_modules", "tsx", "dist", "cli.mjs");

export interface LoadFigures {
  /** Requests answered 200. */
  answered: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms?: number;
  p99Ms: number;
  errors: number;
}

async function collectJson(child: ChildProcess): Promise<Record<string, unknown>> {
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  await new Promise((resolve) => child.once("exit", resolve));
  return JSON.parse(out.slice(out.indexOf("{")));
}

/** Fixed-rate load with microsecond latencies (bench/latency-load.mjs). */
export async function fixedRate(
  url: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
): Promise<LoadFigures> {
  const child = pinned(
    CORE_LOAD,
    process.execPath,
    ["bench/latency-load.mjs", url, String(rate), String(seconds), JSON.stringify(headers), BODY],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return (await collectJson(child)) as unknown as LoadFigures;
}

/** One autocannon run against `url` as fast as it goes. */
async function load(
  url: string,
  headers: Record<string, string>,
  { seconds, connections, rate }: { seconds: number; connections: number; rate?: number },
): Promise<LoadFigures> {
  const args = [
    path.join("node_modules", "autocannon", "autocannon.js"),
    "--json",
    "-c",
    String(connections),
    "-d",
    String(seconds),
    "-m",
    "POST",
    "-b",
    BODY,
    "-H",
    "content-type=application/json",
  ];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}=${v}`);
  if (rate) args.push("-R", String(rate));
  args.push(url);
  const r = (await collectJson(pinned(CORE_LOAD, process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] }))) as {
    "2xx": number;
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
    timeouts: number;
  };
  return {
    answered: r["2xx"],
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
  };
}

function startNginx(upstream: string): { url: string; pid: number | undefined; stop: () => void } | null {
  if (!has("nginx")) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-nginx-"));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const target = new URL(upstream);
  fs.writeFileSync(
    path.join(dir, "nginx.conf"),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream rpc { server ${target.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://rpc; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = pinned(CORE_SERVER, "nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "ignore" });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill("SIGTERM") };
}

export async function waitForPost(url: string, headers: Record<string, string>) {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: BODY });
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, milliseconds) of a process and its descendants, from /proc; null where
 * there is no /proc. Read around a run, it gives the server's CPU per relay: a figure that does not
 * move with how busy the load generator's core is, unlike requests per second.
 */
export function processTreeCpuMs(root: number): number | null {
  if (!fs.existsSync("/proc/self/stat")) return null;
  const stats = new Map<number, { parent: number; ticks: number }>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command's closing parenthesis: state, ppid, ... utime (12th), stime (13th).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while the list was read.
    }
  }
  let ticks = 0;
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, { parent }] of stats) {
      if (!tree.has(pid) && tree.has(parent)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of tree) ticks += stats.get(pid)?.ticks ?? 0;
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Calls the gateway's session objects served, by method, and the relays they saw (bench/serve-worker.ts). */
interface ObjectCalls {
  byMethod: Record<string, number>;
  leasedRelays: number;
  reportedRelays: number;
}

/** Session object calls per 1,000 relays answered between two readings. */
function callsPerThousand(before: ObjectCalls, after: ObjectCalls, answered: number) {
  const byMethod: Record<string, number> = {};
  for (const [method, n] of Object.entries(after.byMethod)) byMethod[method] = n - (before.byMethod[method] ?? 0);
  const calls = Object.values(byMethod).reduce((a, b) => a + b, 0);
  return { relays: answered, calls, byMethod, perThousandRelays: answered > 0 ? (calls * 1000) / answered : null };
}

type Target = { url: string; headers: Record<string, string> };

/**
 * Fixed-rate and max-rate load on each target with a fast host, then fixed-rate load on direct,
 * bare Worker and gateway while the host takes `slowHostMs` to answer each request.
 */
export async function benchRelayPath({ seconds = 10, rate = 200, connections = 32, slowHostMs = 100 } = {}) {
  execFileSync(
    process.execPath,
    [path.join("node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", ".wrangler/bench/gateway"],
    {
      stdio: "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const upstream = await startJsonProcess(CORE_LOAD, [tsx, "bench/upstream.ts"]);
  const upstreamUrl = upstream.info.url as string;
  const children: ChildProcess[] = [upstream.child];
  const targets: Record<string, Target | null> = {
    direct: { url: upstreamUrl, headers: {} },
  };
  const stops: (() => void)[] = [];
  /** The server process of each Worker target, whose process tree's CPU is read around its max-rate run. */
  const servers: Record<string, number | undefined> = {};
  try {
    const bare = await startJsonProcess(CORE_SERVER, [tsx, "bench/serve-worker.ts", "bare", upstreamUrl]);
    children.push(bare.child);
    targets.bareWorker = { url: `${bare.info.url}${bare.info.path}`, headers: bare.info.headers as Record<string, string> };
    servers.bareWorker = bare.child.pid;
    const buffered = await startJsonProcess(CORE_SERVER, [tsx, "bench/serve-worker.ts", "buffered", upstreamUrl]);
    children.push(buffered.child);
    targets.bufferedWorker = { url: `${buffered.info.url}${buffered.info.path}`, headers: {} };
    servers.bufferedWorker = buffered.child.pid;
    const gateway = await startJsonProcess(CORE_SERVER, [tsx, "bench/serve-worker.ts", "gateway", upstreamUrl]);
    children.push(gateway.child);
    targets.gateway = { url: `${gateway.info.url}${gateway.info.path}`, headers: gateway.info.headers as Record<string, string> };
    servers.gateway = gateway.child.pid;
    const nginx = startNginx(upstreamUrl);
    if (nginx) stops.push(nginx.stop);
    servers.nginx = nginx?.pid;
    targets.nginx = nginx ? { url: nginx.url, headers: {} } : null;
    const objectCalls = async () => (await gateway.ask("calls")) as ObjectCalls;

    const results: Record<string, { fixedRate: LoadFigures; maxRate: LoadFigures; cpuUsPerRelay: number | null } | null> = {};
    let sessionObject: Record<string, ReturnType<typeof callsPerThousand>> | null = null;
    for (const [name, target] of Object.entries(targets)) {
      if (!target) {
        results[name] = null;
        continue;
      }
      await waitForPost(target.url, target.headers);
      await load(target.url, target.headers, { seconds: 2, connections }); // warm up (and, for the gateway, leases grown)
      const counted = name === "gateway";
      const start = counted ? await objectCalls() : null;
      const fixed = await fixedRate(target.url, target.headers, rate, seconds);
      const middle = counted ? await objectCalls() : null;
      const server = servers[name];
      const cpuBefore = server ? processTreeCpuMs(server) : null;
      const max = await load(target.url, target.headers, { seconds, connections });
      const cpuAfter = server ? processTreeCpuMs(server) : null;
      const cpuUsPerRelay =
        cpuBefore !== null && cpuAfter !== null && max.answered > 0 ? ((cpuAfter - cpuBefore) * 1000) / max.answered : null;
      if (start && middle) {
        const end = await objectCalls();
        sessionObject = {
          fixedRate: callsPerThousand(start, middle, fixed.answered),
          maxRate: callsPerThousand(middle, end, max.answered),
        };
      }
      results[name] = { fixedRate: fixed, maxRate: max, cpuUsPerRelay };
    }

    // A slow host: the relay path should add what it adds with a fast one, and nothing queues.
    const control = (body: object) =>
      fetch(`${upstreamUrl}/__control`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await control({ mode: "slow", delayMs: slowHostMs });
    const slowHost: Record<string, LoadFigures> = {};
    try {
      for (const name of ["direct", "bareWorker", "gateway"]) {
        const target = targets[name] as Target;
        slowHost[name] = await fixedRate(target.url, target.headers, rate, seconds);
      }
    } finally {
      await control({ mode: "ok" });
    }
    // What one reported receipt costs the session's object: it bounds one session's relays per second.
    const reportCost = (await gateway.ask("reportcost")) as {
      receiptsPerReport: number;
      reports: number;
      emptyReportMs: number;
      fullReportMs: number;
      msPerReceipt: number;
    };
    return {
      pinning: PINNING
        ? `server under test (workerd or nginx) pinned to core ${CORE_SERVER}; upstream host and load generator share core ${CORE_LOAD}`
        : "not pinned (taskset missing or one core)",
      fixedRate: rate,
      seconds,
      connections,
      slowHostMs,
      nginx: targets.nginx ? "nginx 1 worker, keepalive upstream" : "skipped: nginx is not installed (apt-get install nginx)",
      results,
      sessionObject,
      slowHost,
      reportCost,
    };
  } finally {
    for (const stop of stops) stop();
    for (const child of children) child.kill("SIGTERM");
  }
}
