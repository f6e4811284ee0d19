/** Helpers for workerd integration tests: admin calls, signed host registration, relays, fault hosts. */
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Hex, LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Fault } from "../../dev/hosts/fault-host.js";
import { signHostMessage, toMicrodegrees } from "../../protocol/host-registration.js";
import { gatewayConfig } from "../../workers/config.js";
import { reportAllReceipts } from "../../workers/relay/session-lease.js";
import type { TestHostsEnv } from "../support/test-hosts.js";

import { ADMIN_TOKEN, asAdmin, BASE, gateway, withJson } from "./gateway-client.js";

export { ADMIN_TOKEN, BASE, gateway };
export const testHosts = (): TestHostsEnv => JSON.parse(env.TEST_HOSTS);

/** The EIP-712 domain the gateway under test verifies (what `GET /v1/signing-domain` answers). */
export const signingDomain = () => gatewayConfig(env).signingDomain;

/**
 * Reports every receipt this isolate holds to its session's object now: relays record receipts
 * in the isolate and report them within `RECEIPT_REPORT_MS`; a test reads them after this
 * deterministic trigger instead of waiting for the interval.
 */
export const reportReceipts = () => reportAllReceipts(env);

export const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

export function call(path: string, init: RequestInit & { cf?: Record<string, unknown> } = {}) {
  return SELF.fetch(`${BASE}${path}`, init as RequestInit);
}

export function admin(path: string, body?: unknown, method = "POST") {
  return call(path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function createService(service: Record<string, unknown>): Promise<string> {
  const id = (service.id as string) ?? unique("svc");
  const res = await gateway.v1.services.$post(undefined, asAdmin({ ...service, id }));
  if (res.status !== 201) throw new Error(`createService: ${res.status} ${await res.text()}`);
  return id;
}

/**
 * Creates a requestor (granted `stake` and staking it, plus `balance` left liquid). `key` is its
 * relay key (`apiKey`: relays only, may sit in URLs), `accountKey` the key for account actions
 * (stake, unstake), never for URLs.
 */
export async function createRequestor(
  stake: bigint | string = 1_000_000n,
  { balance = 0n }: { balance?: bigint } = {},
): Promise<{ id: string; key: string; accountKey: string }> {
  const res = await gateway.v1.requestors.$post(
    undefined,
    asAdmin({ name: unique("dapp"), stake: String(stake), balance: String(balance) }),
  );
  if (res.status !== 201) throw new Error(`createRequestor: ${res.status} ${await res.text()}`);
  const body = await res.json();
  return { id: body.id, key: body.apiKey.key, accountKey: body.accountKey.key };
}

/** Grants `amount` DB-CPTM minor units to a holder's ledger balance (the admin's mint). */
export async function fund(holder: string, amount: bigint): Promise<void> {
  const res = await gateway.v1.ledger.mint.$post(undefined, asAdmin({ id: unique("grant"), holder, amount: amount.toString() }));
  if (res.status !== 201) throw new Error(`fund: ${res.status} ${await res.text()}`);
}

export const newOperator = (): LocalAccount => privateKeyToAccount(generatePrivateKey());

export const inAnHour = () => BigInt(Math.floor(Date.now() / 1000) + 3600);

export async function operatorNonce(operator: LocalAccount): Promise<bigint> {
  const res = await gateway.v1.operators[":address"].nonce.$get({ param: { address: operator.address } });
  return BigInt((await res.json()).nonce);
}

export interface HostSpec {
  endpoint: string;
  services: string[];
  latitude: number;
  longitude: number;
  stake?: bigint;
}

/** Builds and signs a RegisterHost envelope (JSON-ready: bigints as strings). */
export async function signRegistration(
  operator: LocalAccount,
  spec: HostSpec,
  overrides: { nonce?: bigint; deadline?: bigint } = {},
) {
  // A host stakes from its operator's balance: grant what it is about to stake.
  const stake = spec.stake ?? 1_000_000n;
  if (stake > 0n && stake < 2n ** 53n) await fund(operator.address, stake);
  const message = {
    operator: operator.address,
    endpoint: spec.endpoint,
    services: spec.services,
    latitudeE6: toMicrodegrees(spec.latitude),
    longitudeE6: toMicrodegrees(spec.longitude),
    stake,
    nonce: overrides.nonce ?? (await operatorNonce(operator)),
    deadline: overrides.deadline ?? inAnHour(),
  };
  return signHostMessage(operator, signingDomain(), "RegisterHost", message);
}

export function postSigned(path: string, envelope: { message: Record<string, unknown>; signature: Hex }, method = "POST") {
  return call(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(envelope) });
}

/** Registers a host with a fresh operator; returns the host id. */
export async function registerHost(spec: HostSpec, operator = newOperator()): Promise<string> {
  const res = await gateway.v1.hosts.$post(undefined, withJson(await signRegistration(operator, spec)));
  if (res.status !== 201) throw new Error(`registerHost: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export interface Location {
  latitude: number;
  longitude: number;
}

export const PLACES = {
  frankfurt: { latitude: 50.11, longitude: 8.68 },
  virginia: { latitude: 38.95, longitude: -77.45 },
  singapore: { latitude: 1.35, longitude: 103.82 },
  paris: { latitude: 48.86, longitude: 2.35 },
  newYork: { latitude: 40.71, longitude: -74.0 },
  tokyo: { latitude: 35.68, longitude: 139.69 },
} satisfies Record<string, Location>;

/** A JSON-RPC relay with the caller at `from` (passed as `request.cf`). */
export function rpc(service: string, key: string, body: unknown, from?: Location, headers: Record<string, string> = {}) {
  return call(`/v1/${service}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    cf: from ? { latitude: String(from.latitude), longitude: String(from.longitude) } : undefined,
  });
}

export interface HostRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Knobs of `dev/hosts/fault-host.ts` (a type only, so nothing of the Node-side host enters the workerd bundle). */
export type { Fault };

export interface FaultHost {
  name: string;
  url: string;
  set(fault: Fault): Promise<void>;
  release(): Promise<void>;
  stats(): Promise<{ requests: number; byMode: Record<string, number>; last: HostRequest | null; history: HostRequest[] }>;
}

/** Starts a fault-injecting host of this test's own (through the Node-side factory). */
export async function startFaultHost(
  name = unique("fault"),
  options: { chainId?: number; model?: string } = {},
): Promise<FaultHost> {
  const res = await fetch(`${testHosts().factory}/hosts`, { method: "POST", body: JSON.stringify({ name, ...options }) });
  const { url } = (await res.json()) as { url: string };
  const control = (path: string, body?: unknown) =>
    fetch(`${url}/__control${path}`, {
      method: body === undefined && path === "/stats" ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    name,
    url,
    async set(fault) {
      await (await control("", fault)).text();
    },
    async release() {
      await (await control("/release", {})).text();
    },
    async stats() {
      return (await control("/stats")).json();
    },
  };
}

export const eth = (method: string, id: number | string = 1, params: unknown[] = []) => ({ jsonrpc: "2.0", id, method, params });
