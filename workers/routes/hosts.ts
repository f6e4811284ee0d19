/**
 * `/v1/hosts`: host registration, update and leave, each an EIP-712 message signed by the
 * operator key, plus public reads. `/v1/operators/{address}/nonce` tells a signer which nonce
 * its next message must carry.
 *
 * Every check (fields, deadline, signature, services, endpoint, ownership) runs before the
 * nonce is spent, so a refused request changes nothing.
 */
import { Hono } from "hono";
import { type Address, type Hex, verifyTypedData } from "viem";
import { checkHostEndpoint } from "../../protocol/endpoint.js";
import { isGeoPoint } from "../../protocol/geo.js";
import {
  type HostRegistryAction,
  hostIdFor,
  hostRegistryDomain,
  hostRegistryTypes,
  MAX_SIGNATURE_LIFETIME_SECONDS,
} from "../../protocol/host-registration.js";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import type { AppEnv } from "../app-env.js";
import { type GatewayConfig, gatewayConfig } from "../config.js";
import { type Database, database } from "../db/database.js";
import {
  consumeOperatorNonce,
  getHost,
  type Host,
  insertHost,
  listHosts,
  markHostLeft,
  nextOperatorNonce,
  updateHost,
} from "../db/hosts.js";
import { listServices } from "../db/services.js";
import { ApiError, badRequest, conflict, forbidden, notFound } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import {
  addressField,
  amountField,
  integerField,
  objectField,
  pageLimit,
  serviceListField,
  signatureField,
  stringField,
} from "../http/fields.js";

const MAX_SIGNED_BODY_BYTES = 16 * 1024;

function hostJson(host: Host) {
  return { ...host, stake: host.stake.toString() };
}

interface SignedEnvelope {
  message: Record<string, unknown>;
  signature: Hex;
  operator: Address;
  nonce: bigint;
  deadline: bigint;
}

async function readSignedEnvelope(request: Request): Promise<SignedEnvelope> {
  const body = await readJsonObject(request, MAX_SIGNED_BODY_BYTES);
  const message = objectField(body, "message");
  return {
    message,
    signature: signatureField(body, "signature"),
    operator: addressField(message, "operator"),
    nonce: amountField(message, "nonce"),
    deadline: amountField(message, "deadline"),
  };
}

/** Refuses expired deadlines and deadlines so far ahead that a leaked signature would live on. */
function checkDeadline(deadline: bigint, nowMs: number): void {
  const now = BigInt(Math.floor(nowMs / 1000));
  if (deadline < now) throw new ApiError(401, "signature_expired", "The signed message's deadline has passed");
  if (deadline > now + BigInt(MAX_SIGNATURE_LIFETIME_SECONDS)) {
    throw badRequest("deadline_too_far", `The deadline may be at most ${MAX_SIGNATURE_LIFETIME_SECONDS} s ahead`);
  }
}

async function checkSignature(
  config: GatewayConfig,
  action: HostRegistryAction,
  envelope: SignedEnvelope,
  message: Record<string, unknown>,
): Promise<void> {
  let valid = false;
  try {
    valid = await verifyTypedData({
      address: envelope.operator,
      domain: hostRegistryDomain(config.registryChainId),
      types: hostRegistryTypes,
      primaryType: action,
      message,
      signature: envelope.signature,
    } as Parameters<typeof verifyTypedData>[0]);
  } catch {
    valid = false;
  }
  if (!valid) throw new ApiError(401, "bad_signature", `The signature does not match a ${action} message signed by the operator`);
}

async function checkServicesExist(db: Database, ids: string[]): Promise<void> {
  const known = new Set((await listServices(db)).map((s) => s.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw notFound("unknown_service", `Unknown service(s): ${unknown.join(", ")}`);
}

function checkEndpoint(config: GatewayConfig, endpoint: string): string {
  const checked = checkHostEndpoint(endpoint, { allowLoopback: config.allowLoopbackHosts });
  if (!checked.ok) {
    throw badRequest("endpoint_not_allowed", `The endpoint is refused (${checked.reason}): hosts must be public http(s) URLs`);
  }
  return checked.url.toString().replace(/\/$/, "");
}

function readLocation(message: Record<string, unknown>) {
  const latitudeE6 = integerField(message, "latitudeE6", -90_000_000, 90_000_000);
  const longitudeE6 = integerField(message, "longitudeE6", -180_000_000, 180_000_000);
  const latitude = latitudeE6 / 1_000_000;
  const longitude = longitudeE6 / 1_000_000;
  if (!isGeoPoint(latitude, longitude)) throw badRequest("invalid_field", "latitude/longitude out of range");
  return { latitudeE6, longitudeE6, latitude, longitude };
}

async function spendNonce(db: Database, envelope: SignedEnvelope): Promise<void> {
  if (!(await consumeOperatorNonce(db, envelope.operator, envelope.nonce))) {
    const expected = await nextOperatorNonce(db, envelope.operator);
    throw conflict(
      "nonce_mismatch",
      `Nonce ${envelope.nonce} is not the operator's next nonce (${expected}); the message was already used or is out of order`,
    );
  }
}

/** The host named in the path, owned by the signer and still serving. */
async function ownedActiveHost(db: Database, id: string, operator: Address, hostIdInMessage: string): Promise<Host> {
  if (hostIdInMessage !== id) throw badRequest("host_id_mismatch", "The signed hostId differs from the host in the path");
  const host = await getHost(db, id);
  if (!host) throw notFound("unknown_host", `No host "${id}"`);
  if (host.operator !== operator) throw forbidden("not_host_operator", "The signer does not operate this host");
  if (host.status === "left") throw conflict("host_left", "This host has left the network");
  return host;
}

/**
 * When a registered host becomes eligible for sessions: from the next epoch, since sessions only
 * take hosts active before their epoch began. Dev mode backdates it into the current epoch so a
 * local network is usable at once.
 */
function activationTime(config: GatewayConfig, now: number): number {
  if (!config.devMode) return now;
  return epochStartMs(sessionEpoch(now, config.sessionSeconds), config.sessionSeconds) - 1;
}

export const operatorsApp = new Hono<AppEnv>().get("/:address/nonce", async (c) => {
  const address = addressField({ address: c.req.param("address") }, "address");
  return c.json({ operator: address, nonce: (await nextOperatorNonce(database(c.env), address)).toString() });
});

export const hostsApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const page = await listHosts(database(c.env), {
      service: c.req.query("service"),
      after: c.req.query("cursor"),
      limit: pageLimit(c.req.query("limit")),
    });
    return c.json({ hosts: page.hosts.map(hostJson), next: page.next });
  })
  .get("/:id", async (c) => {
    const host = await getHost(database(c.env), c.req.param("id"));
    if (!host) throw notFound("unknown_host", `No host "${c.req.param("id")}"`);
    return c.json(hostJson(host));
  })
  .post("/", async (c) => {
    const config = gatewayConfig(c.env);
    const db = database(c.env);
    const now = Date.now();
    const envelope = await readSignedEnvelope(c.req.raw);
    const m = envelope.message;
    const endpoint = stringField(m, "endpoint", { max: 2048 });
    const services = serviceListField(m, "services");
    const location = readLocation(m);
    const stake = amountField(m, "stake");
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "RegisterHost", envelope, {
      operator: envelope.operator,
      endpoint,
      services,
      latitudeE6: location.latitudeE6,
      longitudeE6: location.longitudeE6,
      stake,
      nonce: envelope.nonce,
      deadline: envelope.deadline,
    });
    if (stake === 0n) throw badRequest("stake_required", "A host must stake more than zero");
    const normalizedEndpoint = checkEndpoint(config, endpoint);
    await checkServicesExist(db, services);
    await spendNonce(db, envelope);
    const id = hostIdFor(envelope.operator, envelope.nonce);
    await insertHost(
      db,
      {
        id,
        operator: envelope.operator,
        endpoint: normalizedEndpoint,
        latitude: location.latitude,
        longitude: location.longitude,
        stake,
        activeSince: activationTime(config, now),
        services,
      },
      now,
    );
    return c.json(hostJson((await getHost(db, id)) as Host), 201);
  })
  .patch("/:id", async (c) => {
    const config = gatewayConfig(c.env);
    const db = database(c.env);
    const now = Date.now();
    const envelope = await readSignedEnvelope(c.req.raw);
    const m = envelope.message;
    const hostId = stringField(m, "hostId", { max: 64 });
    const endpoint = stringField(m, "endpoint", { max: 2048 });
    const services = serviceListField(m, "services");
    const location = readLocation(m);
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "UpdateHost", envelope, {
      operator: envelope.operator,
      hostId,
      endpoint,
      services,
      latitudeE6: location.latitudeE6,
      longitudeE6: location.longitudeE6,
      nonce: envelope.nonce,
      deadline: envelope.deadline,
    });
    await ownedActiveHost(db, c.req.param("id"), envelope.operator, hostId);
    const normalizedEndpoint = checkEndpoint(config, endpoint);
    await checkServicesExist(db, services);
    await spendNonce(db, envelope);
    await updateHost(
      db,
      hostId,
      { endpoint: normalizedEndpoint, latitude: location.latitude, longitude: location.longitude, services },
      now,
    );
    return c.json(hostJson((await getHost(db, hostId)) as Host));
  })
  .post("/:id/leave", async (c) => {
    const config = gatewayConfig(c.env);
    const db = database(c.env);
    const now = Date.now();
    const envelope = await readSignedEnvelope(c.req.raw);
    const hostId = stringField(envelope.message, "hostId", { max: 64 });
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "LeaveHost", envelope, {
      operator: envelope.operator,
      hostId,
      nonce: envelope.nonce,
      deadline: envelope.deadline,
    });
    await ownedActiveHost(db, c.req.param("id"), envelope.operator, hostId);
    await spendNonce(db, envelope);
    await markHostLeft(db, hostId, now);
    return c.json(hostJson((await getHost(db, hostId)) as Host));
  });
