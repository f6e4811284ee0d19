// The local Conductor network behind `npm run dev`: anvil hosts, an inference host, the gateway
// under `wrangler dev` with local D1 and Durable Objects, and the demo data registered through
// the gateway's own API. `scripts/dev.ts` runs it from the command line; the end-to-end test
// starts it the same way.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { buildDashboard } from "../dashboard/build.js";
import { type SigningDomain, signHostMessage, toMicrodegrees } from "../protocol/host-registration.js";
import { DEFAULT_PARAMETERS } from "../protocol/parameters.js";
import { startAnvil } from "./anvil.js";
import { freePort, portIsFree } from "./free-port.js";
import { gatewayClient } from "./gateway-client.js";
import { type FaultHostServer, startFaultHost } from "./hosts/fault-host.js";
import { DEV_KEYS } from "./keys.js";
import { deployProofRegistry } from "./proof-registry.js";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const CHAIN_ID = 31337;
const REGISTRY_CHAIN_ID = 31337;

/** Where a demo host claims to be (the gateway routes callers to the nearest host). */
interface DemoPlace {
  name: string;
  latitude: number;
  longitude: number;
}

/** A demo anvil host: its place, where it answers (HTTP and WebSocket on one port) and its process. */
interface DemoAnvil extends DemoPlace {
  url: string;
  pid?: number;
}

const DEMO_HOSTS: DemoPlace[] = [
  { name: "anvil-frankfurt", latitude: 50.11, longitude: 8.68 },
  { name: "anvil-virginia", latitude: 38.95, longitude: -77.45 },
  { name: "anvil-singapore", latitude: 1.35, longitude: 103.82 },
];

async function waitForHealth(url: string, child: ChildProcess, signal: AbortSignal | undefined, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    signal?.throwIfAborted();
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the gateway did not answer ${url}/health within ${timeoutMs} ms`);
}

function runWrangler(args: string[], { env, stdio = "inherit" }: { env: NodeJS.ProcessEnv; stdio?: StdioOptions }): ChildProcess {
  const bin = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
  return spawn(process.execPath, [bin, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio,
    detached: process.platform !== "win32",
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler exited with ${code}`))));
  });
}

/** Protocol parameters a developer may shorten for a quick local cycle (passed to the gateway as vars). */
const PASSED_VARS = [
  "SESSION_SECONDS",
  "ROLLOVER_GRACE_SECONDS",
  "PROBE_INTERVAL_MIN_MS",
  "PROBE_INTERVAL_MAX_MS",
  "HOSTS_PER_SESSION",
];

/** Governance periods of the dev network (seconds; each var overrides its own). */
const GOVERNANCE_DEV_VARS = [
  ["GOVERNANCE_REVIEW_SECONDS", "4"],
  ["GOVERNANCE_VOTING_SECONDS", "8"],
  ["GOVERNANCE_TIMELOCK_SECONDS", "4"],
  ["GOVERNANCE_GRACE_SECONDS", "600"],
] as const;

function spawnNode(args: string[], env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio,
    detached: process.platform !== "win32",
  });
}

/** Resolves after `ms`, or at once when `done` resolves first; says whether `done` won. */
async function within(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const won = await Promise.race([done.then(() => true), timeout]);
  clearTimeout(timer);
  return won;
}

/**
 * Whether any process of the group `pgid` is still running. On Linux, zombies do not count: a
 * member whose parent died waits for init to reap it, which can take seconds, yet it is gone.
 */
function groupAlive(pgid: number): boolean {
  if (process.platform === "linux") {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // Fields after the command name: state, parent, process group.
        const [state, , group] = (fs.readFileSync(`/proc/${entry}/stat`, "utf8").split(") ").pop() ?? "").split(" ");
        if (Number(group) === pgid && state !== "Z") return true;
      } catch {} // ended while we read it
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Stops a detached child and everything in its process group (wrangler's workerd, esbuild) and
 * resolves only when none of it is left: SIGTERM, then SIGKILL after `graceMs`.
 */
async function stopProcessGroup(child: ChildProcess, graceMs = 10_000): Promise<void> {
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => child.once("exit", () => r()));
  if (process.platform === "win32") {
    child.kill("SIGTERM");
    await exited;
    return;
  }
  const pgid = child.pid;
  if (pgid === undefined) return; // it never started
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pgid, signal);
    } catch {} // nothing left in it
  };
  if (!groupAlive(pgid)) return;
  signalGroup("SIGTERM");
  if ((await within(exited, graceMs)) && (await groupGone(pgid, 2000))) return;
  signalGroup("SIGKILL");
  await exited;
  await groupGone(pgid, 5000);
}

/** How to stop one thing start-up started; what it returns is awaited and otherwise ignored. */
type StopIt = () => unknown;

/**
 * What start-up has started, so that a failure or an interruption at any point stops all of it.
 * `add` takes how to stop a thing right after it starts; once stopping has begun, it stops the
 * thing at once, and `stop` waits for those late ones too.
 */
function startedProcesses(): { add(stopIt: StopIt): void; stop(): Promise<void> } {
  const running: StopIt[] = [];
  const stopping: Promise<unknown>[] = [];
  let stopped = false;
  const begin = (stopIt: StopIt) => stopping.push(Promise.resolve().then(stopIt)); // a throwing stop cannot skip the others
  return {
    add(stopIt) {
      if (stopped) begin(stopIt);
      else running.push(stopIt);
    },
    async stop() {
      stopped = true;
      for (const stopIt of running.splice(0).reverse()) begin(stopIt);
      while (stopping.length) await Promise.allSettled(stopping.splice(0));
    },
  };
}

/** A demo host as `dev.json` lists it. */
export interface DemoHost {
  id: string;
  name: string;
  service: string;
  endpoint: string;
  latitude: number;
  longitude: number;
  /** The address of the operator that signed its registration (one of `DEV_KEYS.hostOperators`). */
  operator: Address;
  /** The host's process, for anvil hosts (a test kills one to show subscriptions moving). */
  pid?: number;
}

/** What `POST /v1/requestors` answers, as far as the dev network reads it. */
interface CreatedRequestor {
  id: string;
  stake: string;
  apiKey: { key: string };
  accountKey: { key: string };
}

/** Registers the demo services, hosts (signed, as an operator would) and requestor through the gateway's API. */
async function registerDemoData({
  gateway,
  adminToken,
  anvils,
  inference,
}: {
  gateway: string;
  adminToken: string;
  anvils: DemoAnvil[];
  inference: FaultHostServer;
}): Promise<{ hosts: DemoHost[]; requestor: CreatedRequestor }> {
  const { api, asAdmin, withJson } = gatewayClient(gateway, { adminToken });
  const ok = async <R extends { ok: boolean; status: number; text(): Promise<string> }>(what: string, res: R): Promise<R> => {
    if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return res;
  };

  await ok(
    "eth-local",
    await api.v1.services.$post(
      undefined,
      asAdmin({ id: "eth-local", kind: "jsonrpc", chainId: CHAIN_ID, computeUnits: { default: 1, methods: { eth_getLogs: 5 } } }),
    ),
  );
  await ok(
    "llm-local",
    await api.v1.services.$post(
      undefined,
      asAdmin({ id: "llm-local", kind: "http", model: "conductor-demo-1", computeUnits: { default: 10, methods: {} } }),
    ),
  );

  // Signatures are bound to this deployment: sign against the domain the gateway publishes.
  const signingDomain = (await (await api.v1["signing-domain"].$get()).json()) as SigningDomain;
  const register = async (operatorKey: Hex, endpoint: string, services: string[], latitude: number, longitude: number) => {
    const operator = privateKeyToAccount(operatorKey);
    // Hosts stake from their ledger balance; the dev admin grants it (v0's only way in).
    await ok(
      "grant",
      await api.v1.ledger.mint.$post(
        undefined,
        asAdmin({ id: `dev-host-grant-${operator.address.slice(2, 10)}`, holder: operator.address, amount: "10000000" }),
      ),
    );
    const { nonce } = await (await api.v1.operators[":address"].nonce.$get({ param: { address: operator.address } })).json();
    const message = {
      operator: operator.address,
      endpoint,
      services,
      latitudeE6: toMicrodegrees(latitude),
      longitudeE6: toMicrodegrees(longitude),
      stake: 10_000_000n,
      nonce: BigInt(nonce),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    };
    const body = await signHostMessage(operator, signingDomain, "RegisterHost", message);
    const res = await api.v1.hosts.$post(undefined, withJson(body));
    if (res.status !== 201) throw new Error(`register ${endpoint}: ${res.status} ${await res.text()}`);
    return { ...((await res.json()) as { id: string }), operatorAddress: operator.address };
  };
  const hosts: DemoHost[] = [];
  for (const [i, anvil] of anvils.entries()) {
    const host = await register(DEV_KEYS.hostOperators[i], anvil.url, ["eth-local"], anvil.latitude, anvil.longitude);
    hosts.push({
      id: host.id,
      name: anvil.name,
      service: "eth-local",
      endpoint: anvil.url,
      latitude: anvil.latitude,
      longitude: anvil.longitude,
      operator: host.operatorAddress,
      pid: anvil.pid,
    });
  }
  const llm = await register(DEV_KEYS.hostOperators[3], `${inference.url}/v1`, ["llm-local"], 48.86, 2.35);
  hosts.push({
    id: llm.id,
    name: "inference-paris",
    service: "llm-local",
    endpoint: `${inference.url}/v1`,
    latitude: 48.86,
    longitude: 2.35,
    operator: llm.operatorAddress,
  });

  const created = await ok(
    "demo requestor",
    await api.v1.requestors.$post(undefined, asAdmin({ name: "demo-dapp", stake: "10000000", balance: "100000000" })),
  );
  const requestor: CreatedRequestor = await created.json();
  return { hosts, requestor };
}

/** What `startNetwork` writes to `dev.json`: where everything is, the demo keys' addresses, the demo data. */
export interface DevNetworkInfo {
  gateway: string;
  /** The dashboard the gateway serves (static assets). */
  dashboard: string;
  adminToken: string;
  /** The chain the demo anvil hosts serve. */
  chainId: number;
  /** The chain id signed messages name. */
  registryChainId: number;
  signingDomain: SigningDomain;
  services: {
    "eth-local": { kind: "jsonrpc"; chainId: number; url: string; urlWithKey: string };
    "llm-local": { kind: "http"; model: string; openAiBaseUrl: string };
  };
  hosts: DemoHost[];
  requestor: { id: string; apiKey: string; accountKey: string; stake: string };
  sessionSeconds: number;
  /** The commitment chain: ProofRegistry and the address that deployed it and submits commitments. */
  chain: { url: string; chainId: number; contract: Address; challengeDelay: number; proofWindow: number; submitter: Address };
  /** The validator's address. */
  validator: Address;
  stateDir: string;
}

/** Options of `startNetwork`. */
export interface NetworkOptions {
  /** The gateway's port (default 8787). */
  port?: number;
  /** Where the local state and `dev.json` go (default `.conductor`). */
  dir?: string;
  /** Keeps wrangler's and the validator's output off the console. */
  quiet?: boolean;
  /** Where progress lines go (default `console.log`). */
  log?: (line: string) => void;
  /** Between cron runs (default 5000). */
  cronIntervalMs?: number;
  /** Interrupts start-up. */
  signal?: AbortSignal;
}

/** A running dev network: what `dev.json` holds, and how to stop every process of it. */
export interface DevNetwork {
  info: DevNetworkInfo;
  stop: () => Promise<void>;
}

/**
 * Starts the network. A failure or an interruption (through `signal`) at any point stops
 * everything started so far before the promise rejects; once up, `stop()` stops everything.
 *
 * @example
 * const network = await startNetwork({ port: await freePort(), dir, quiet: true });
 * try { await fetch(`${network.info.gateway}/health`); } finally { await network.stop(); }
 */
export async function startNetwork({
  port = 8787,
  dir = path.join(ROOT, ".conductor"),
  quiet = false,
  log = console.log,
  cronIntervalMs = 5000,
  signal,
}: NetworkOptions = {}): Promise<DevNetwork> {
  signal?.throwIfAborted();
  const stateDir = path.join(dir, "state");
  fs.rmSync(stateDir, { recursive: true, force: true }); // the demo network is new each time, like its anvil chains
  fs.mkdirSync(stateDir, { recursive: true });
  const started = startedProcesses();
  const interrupted = new Promise<never>((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  interrupted.catch(() => {});
  /** One start-up step, abandoned as soon as start-up is interrupted. */
  const step = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, interrupted]);
  try {
    log("starting anvil hosts...");
    const anvils: DemoAnvil[] = [];
    for (const host of DEMO_HOSTS) {
      const anvil = await startAnvil({ port: await freePort(), chainId: CHAIN_ID, signal });
      started.add(anvil.stop);
      anvils.push({ ...host, url: anvil.url, pid: anvil.process.pid });
    }
    const inference = await startFaultHost({ name: "inference-paris", model: "conductor-demo-1" });
    started.add(() => inference.close());

    log("starting the commitment chain and deploying ProofRegistry...");
    const chainAnvil = await startAnvil({ port: await freePort(), chainId: CHAIN_ID, blockTime: 1, signal });
    started.add(chainAnvil.stop);
    const challengeDelay = 2;
    const proofWindow = 100;
    const contract = await step(deployProofRegistry(chainAnvil.url, DEV_KEYS.submitter, challengeDelay, proofWindow));

    const adminToken = `dev-admin-${randomBytes(12).toString("hex")}`;
    const wranglerEnv = { WRANGLER_SEND_METRICS: "false", NO_D1_WARNING: "true" };
    const stdio = quiet ? "ignore" : "inherit";
    log("applying D1 migrations to the local database...");
    const migrations = runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
      env: { ...wranglerEnv, CI: "true" },
      stdio,
    });
    started.add(() => stopProcessGroup(migrations));
    await step(waitForExit(migrations));

    log("building the dashboard...");
    await step(buildDashboard());

    // The port was free when `npm run dev` began; a gateway answering there now is not ours.
    if (!(await portIsFree(port))) throw new Error(`port ${port} was taken while the dev network was starting`);
    log("starting the gateway (wrangler dev)...");
    const gatewayProcess = runWrangler(
      [
        "dev",
        "--port",
        String(port),
        "--ip",
        "127.0.0.1",
        "--persist-to",
        stateDir,
        "--show-interactive-dev-session=false",
        "--var",
        `ADMIN_TOKEN:${adminToken}`,
        "--var",
        "DEV_MODE:true",
        "--var",
        "ALLOW_LOOPBACK_HOSTS:true",
        "--var",
        `REGISTRY_CHAIN_ID:${REGISTRY_CHAIN_ID}`,
        "--var",
        `CHAIN_RPC_URL:${chainAnvil.url}`,
        "--var",
        `CHAIN_PRIVATE_KEY:${DEV_KEYS.submitter}`,
        "--var",
        `PROOF_REGISTRY_ADDRESS:${contract}`,
        // Unbonding is 21 days in production; 2 minutes locally (UNBONDING_SECONDS overrides).
        "--var",
        `UNBONDING_SECONDS:${process.env.UNBONDING_SECONDS ?? 120}`,
        // Revenue-sharing payouts are locked 7 days in production; 1 minute locally.
        "--var",
        `REVENUE_LOCK_SECONDS:${process.env.REVENUE_LOCK_SECONDS ?? 60}`,
        // Governance periods are days in production; seconds locally (npm run demo -- governance).
        ...GOVERNANCE_DEV_VARS.flatMap(([name, dev]) => ["--var", `${name}:${process.env[name] ?? dev}`]),
        // A batch's REP validation pool is open an hour in production; 30 s locally, releases 2 minutes.
        "--var",
        `REP_POOL_SECONDS:${process.env.REP_POOL_SECONDS ?? 30}`,
        "--var",
        `REP_RELEASE_SECONDS:${process.env.REP_RELEASE_SECONDS ?? 120}`,
        "--test-scheduled",
        ...PASSED_VARS.filter((name) => process.env[name]).flatMap((name) => ["--var", `${name}:${process.env[name]}`]),
      ],
      { env: wranglerEnv, stdio },
    );
    started.add(() => stopProcessGroup(gatewayProcess));
    const gateway = `http://127.0.0.1:${port}`;
    await step(waitForHealth(gateway, gatewayProcess, signal));

    log("registering services, hosts and the demo requestor...");
    const { hosts, requestor } = await step(registerDemoData({ gateway, adminToken, anvils, inference }));

    // Cloudflare runs cron triggers in production; locally the dev network calls the scheduled
    // handler itself (wrangler dev --test-scheduled), on a short interval.
    const cron = setInterval(() => {
      fetch(`${gateway}/__scheduled?cron=*+*+*+*+*`).catch(() => {});
    }, cronIntervalMs);
    started.add(async () => clearInterval(cron));

    log("starting the validator...");
    const validatorProcess = spawnNode(
      ["--import", "tsx", "validator/cli.ts"],
      {
        GATEWAY_URL: gateway,
        CHAIN_RPC_URL: chainAnvil.url,
        PROOF_REGISTRY_ADDRESS: contract,
        VALIDATOR_PRIVATE_KEY: DEV_KEYS.validator,
        VALIDATOR_INTERVAL_MS: String(Math.min(cronIntervalMs, 5000)),
      },
      quiet ? "ignore" : "inherit",
    );
    started.add(() => stopProcessGroup(validatorProcess));
    const apiKey = requestor.apiKey.key;
    const info: DevNetworkInfo = {
      gateway,
      dashboard: `${gateway}/dashboard/`,
      adminToken,
      chainId: CHAIN_ID,
      registryChainId: REGISTRY_CHAIN_ID,
      // What signed messages (host registry, economy) must name: GET /v1/signing-domain answers the same.
      signingDomain: { chainId: REGISTRY_CHAIN_ID, verifyingContract: contract.toLowerCase() as Address },
      services: {
        "eth-local": {
          kind: "jsonrpc",
          chainId: CHAIN_ID,
          url: `${gateway}/v1/eth-local`,
          urlWithKey: `${gateway}/k/${apiKey}/v1/eth-local`,
        },
        "llm-local": { kind: "http", model: "conductor-demo-1", openAiBaseUrl: `${gateway}/v1/llm-local` },
      },
      hosts,
      // apiKey relays (and may sit in URLs); accountKey stakes and unstakes (header only).
      requestor: { id: requestor.id, apiKey, accountKey: requestor.accountKey.key, stake: requestor.stake },
      sessionSeconds: Number(process.env.SESSION_SECONDS || DEFAULT_PARAMETERS.sessionSeconds),
      chain: {
        url: chainAnvil.url,
        chainId: CHAIN_ID,
        contract,
        challengeDelay,
        proofWindow,
        submitter: privateKeyToAccount(DEV_KEYS.submitter).address,
      },
      validator: privateKeyToAccount(DEV_KEYS.validator).address,
      stateDir,
    };
    signal?.throwIfAborted();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "dev.json"), `${JSON.stringify(info, null, 2)}\n`);
    return { info, stop: () => started.stop() };
  } catch (error) {
    await started.stop();
    throw error;
  }
}
