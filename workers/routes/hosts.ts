/**
 * `/v1/hosts`: host registration, update and leave, each an EIP-712 message signed by the
 * operator key, plus public reads. `/v1/operators/{address}/nonce` tells a signer which nonce
 * its next message must carry.
 *
 * Every check (fields, deadline, signature, services, endpoint, ownership) runs before the
 * nonce is spent, so a refused request changes nothing. `/v1/hosts/{id}/reputation` is the
 * host's reputation as of an epoch, derived from its report cards, with its jail terms.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Address } from "viem";
import { checkHostEndpoint } from "../../protocol/endpoint.js";
import { isGeoPoint } from "../../protocol/geo.js";
import { type HostRegistryAction, hostIdFor, hostRegistryTypes } from "../../protocol/host-registration.js";
import { availableOf, balanceAccount } from "../../protocol/ledger.js";
import { DEFAULT_REPUTATION, reputationAsOf } from "../../protocol/quality.js";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import { poolId } from "../../protocol/staking.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { getHost, type Host, insertHostStatements, listHosts, markHostLeft, updateHost } from "../db/hosts.js";
import { getAccount } from "../db/ledger.js";
import { jailTermsOf, scoredCardsOf } from "../db/quality.js";
import { listServices } from "../db/services.js";
import { stakeOfPools } from "../db/stake-pools.js";
import { stake } from "../economy/staking.js";
import { apiError } from "../errors.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { idParam, jsonAnswer, minorUnits, pageLimit } from "../http/schemas/common.js";
import { LeaveHostMessage, RegisterHostMessage, signedEnvelope, UpdateHostMessage } from "../http/schemas/signed.js";
import {
  checkDeadline,
  checkNextNonce,
  checkTypedSignature,
  MAX_SIGNED_BODY_BYTES,
  type SignedEnvelope,
  spendNonce,
} from "../http/signed.js";

async function hostJson(db: Database, config: GatewayConfig, list: Host[]) {
  const stakes = await stakeOfPools(
    db,
    list.map((h) => poolId("host", h.id)),
    config.licenceStakeEquivalent,
  );
  return list.map((host) => ({ ...host, stake: (stakes.get(poolId("host", host.id)) ?? 0n).toString() }));
}

/** The envelope's signer, nonce and deadline: the operator's, from the message. */
function envelopeOf(body: {
  message: { operator: Address; nonce: bigint; deadline: bigint };
  signature: `0x${string}`;
}): SignedEnvelope {
  const { operator, nonce, deadline } = body.message;
  return { signature: body.signature, signer: operator, nonce, deadline };
}

async function checkSignature(
  config: GatewayConfig,
  action: HostRegistryAction,
  envelope: SignedEnvelope,
  message: Record<string, unknown>,
): Promise<void> {
  await checkTypedSignature(config, hostRegistryTypes, action, envelope, message, "operator");
}

async function checkServicesExist(db: Database, ids: string[]): Promise<void> {
  const known = new Set((await listServices(db)).map((s) => s.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw apiError("unknown_service", `Unknown service(s): ${unknown.join(", ")}`);
}

function checkEndpoint(config: GatewayConfig, endpoint: string): string {
  const checked = checkHostEndpoint(endpoint, { allowLoopback: config.allowLoopbackHosts });
  if (!checked.ok) {
    throw apiError("endpoint_not_allowed", `The endpoint is refused (${checked.reason}): hosts must be public http(s) URLs`);
  }
  return checked.url.toString().replace(/\/$/, "");
}

function readLocation({ latitudeE6, longitudeE6 }: { latitudeE6: number; longitudeE6: number }) {
  const latitude = latitudeE6 / 1_000_000;
  const longitude = longitudeE6 / 1_000_000;
  if (!isGeoPoint(latitude, longitude)) throw apiError("invalid_field", "latitude/longitude out of range");
  return { latitudeE6, longitudeE6, latitude, longitude };
}

/** The host named in the path, owned by the signer and still serving. */
async function ownedActiveHost(db: Database, id: string, operator: Address, hostIdInMessage: string): Promise<Host> {
  if (hostIdInMessage !== id) throw apiError("host_id_mismatch", "The signed hostId differs from the host in the path");
  const host = await getHost(db, id);
  if (!host) throw apiError("unknown_host", `No host "${id}"`);
  if (host.operator !== operator) throw apiError("not_host_operator", "The signer does not operate this host");
  if (host.status === "left") throw apiError("host_left", "This host has left the network");
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

export const HostSchema = z
  .object({
    id: z.string(),
    operator: z.string(),
    endpoint: z.string(),
    latitude: z.number(),
    longitude: z.number(),
    status: z.enum(["active", "left"]),
    activeSince: z.number().int(),
    leftAt: z.number().int().nullable(),
    services: z.array(z.string()),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    stake: minorUnits,
  })
  .openapi("Host");

const JailTermSchema = z.object({
  id: z.number().int(),
  hostId: z.string(),
  reason: z.string(),
  jailedAt: z.number().int(),
  fromEpoch: z.number().int(),
  releaseAfter: z.number().int(),
  releasedAt: z.number().int().nullable(),
  untilEpoch: z.number().int().nullable(),
  releaseReason: z.string().nullable(),
  slashedAt: z.number().int().nullable(),
});

const hostId = z.object({ id: idParam("id", "host_0123456789abcdef01234567") });
const tags = ["registry"];

const reputationRoute = createRoute({
  method: "get",
  path: "/{id}/reputation",
  tags,
  summary: "The host's reputation as of an epoch, from its report cards, with its jail terms",
  request: {
    params: hostId,
    query: z.object({
      epoch: z
        .string()
        .regex(/^\d{1,15}$/, { error: "must be a non-negative integer" })
        .optional()
        .openapi({ type: "integer", description: "Default: the current epoch" }),
    }),
  },
  responses: {
    200: jsonAnswer(
      z
        .object({
          hostId: z.string(),
          epoch: z.number().int(),
          reputation: z.number(),
          parameters: z.object({ prior: z.number(), alpha: z.number(), windowEpochs: z.number().int() }),
          jailed: z.boolean(),
          cards: z.number().int(),
          jail: z.array(JailTermSchema),
        })
        .openapi("HostReputation"),
      "The reputation",
    ),
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Hosts, by id, paginated",
  request: {
    query: z.object({
      service: z.string().optional().openapi({ description: "Only hosts serving this service" }),
      cursor: z.string().optional().openapi({ description: "`next` of the previous page" }),
      limit: pageLimit,
    }),
  },
  responses: {
    200: jsonAnswer(z.object({ hosts: z.array(HostSchema), next: z.string().nullable() }).openapi("HostPage"), "A page"),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "One host",
  request: { params: hostId },
  responses: { 200: jsonAnswer(HostSchema, "The host") },
});

const registerRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Register a host (EIP-712 `RegisterHost` signed by the operator); its stake comes from the operator's balance",
  middleware: [jsonBody(signedEnvelope(RegisterHostMessage, "SignedRegisterHost"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 201: jsonAnswer(HostSchema, "The registered host") },
});

const updateRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Change a host's endpoint, location and services (EIP-712 `UpdateHost`)",
  request: { params: hostId },
  middleware: [jsonBody(signedEnvelope(UpdateHostMessage, "SignedUpdateHost"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(HostSchema, "The host") },
});

const leaveRoute = createRoute({
  method: "post",
  path: "/{id}/leave",
  tags,
  summary: "Leave the network: no new sessions choose the host (EIP-712 `LeaveHost`)",
  request: { params: hostId },
  middleware: [jsonBody(signedEnvelope(LeaveHostMessage, "SignedLeaveHost"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(HostSchema, "The host") },
});

export const hostsApp = openApiApp()
  .openapi(reputationRoute, async (c) => {
    const db = c.var.db;
    const config = c.var.config;
    const { id } = c.req.valid("param");
    const host = await getHost(db, id);
    if (!host) throw apiError("unknown_host", `No host "${id}"`);
    const raw = c.req.valid("query").epoch;
    const epoch = raw === undefined ? sessionEpoch(Date.now(), config.sessionSeconds) : Number(raw);
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw apiError("invalid_field", '"epoch" must be a non-negative integer');
    const epochStart = epochStartMs(epoch, config.sessionSeconds);
    const cards = await scoredCardsOf(db, host.id, epoch - DEFAULT_REPUTATION.windowEpochs, epochStart - 1);
    const jail = await jailTermsOf(db, host.id);
    const jailed = jail.some((t) => t.fromEpoch <= epoch && (t.untilEpoch === null || t.untilEpoch > epoch));
    return c.json(
      {
        hostId: host.id,
        epoch,
        reputation: reputationAsOf(cards, { epoch, epochStart }),
        parameters: DEFAULT_REPUTATION,
        jailed,
        cards: cards.length,
        jail,
      },
      200,
    );
  })
  .openapi(listRoute, async (c) => {
    const { service, cursor, limit } = c.req.valid("query");
    const page = await listHosts(c.var.db, { service, after: cursor, limit });
    return c.json({ hosts: await hostJson(c.var.db, c.var.config, page.hosts), next: page.next }, 200);
  })
  .openapi(getRoute, async (c) => {
    const db = c.var.db;
    const { id } = c.req.valid("param");
    const host = await getHost(db, id);
    if (!host) throw apiError("unknown_host", `No host "${id}"`);
    return c.json((await hostJson(db, c.var.config, [host]))[0], 200);
  })
  .openapi(registerRoute, async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const m = c.var.body.message;
    const envelope = envelopeOf(c.var.body);
    const location = readLocation(m);
    const stakeAmount = m.stake;
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "RegisterHost", envelope, m);
    if (stakeAmount < config.minHostStake || stakeAmount === 0n) {
      throw apiError("stake_required", `A host must stake at least ${config.minHostStake} minor units (and more than zero)`);
    }
    const normalizedEndpoint = checkEndpoint(config, m.endpoint);
    await checkServicesExist(db, m.services);
    // The stake comes from the operator's ledger balance; checked before the nonce is spent.
    await checkNextNonce(db, envelope);
    const balance = availableOf(await getAccount(db, balanceAccount(envelope.signer)));
    if (balance < stakeAmount) {
      throw apiError(
        "insufficient_balance",
        `Staking ${stakeAmount} needs that much available in the operator's balance (it holds ${balance})`,
      );
    }
    await spendNonce(db, envelope);
    const id = hostIdFor(envelope.signer, envelope.nonce);
    const host = {
      id,
      operator: envelope.signer,
      endpoint: normalizedEndpoint,
      latitude: location.latitude,
      longitude: location.longitude,
      activeSince: activationTime(config, now),
      services: m.services,
    };
    // The host and its stake are one operation: both are written, or neither.
    await stake(
      db,
      config,
      {
        id: `${envelope.signer}/register/${envelope.nonce}`,
        holder: envelope.signer,
        kind: "host",
        subject: id,
        amount: stakeAmount,
      },
      now,
      insertHostStatements(db, host, now),
    );
    return c.json((await hostJson(db, config, [(await getHost(db, id)) as Host]))[0], 201);
  })
  .openapi(updateRoute, async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const m = c.var.body.message;
    const envelope = envelopeOf(c.var.body);
    const location = readLocation(m);
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "UpdateHost", envelope, m);
    await ownedActiveHost(db, c.req.valid("param").id, envelope.signer, m.hostId);
    const normalizedEndpoint = checkEndpoint(config, m.endpoint);
    await checkServicesExist(db, m.services);
    await spendNonce(db, envelope);
    await updateHost(
      db,
      m.hostId,
      { endpoint: normalizedEndpoint, latitude: location.latitude, longitude: location.longitude, services: m.services },
      now,
    );
    return c.json((await hostJson(db, config, [(await getHost(db, m.hostId)) as Host]))[0], 200);
  })
  .openapi(leaveRoute, async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const m = c.var.body.message;
    const envelope = envelopeOf(c.var.body);
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "LeaveHost", envelope, m);
    await ownedActiveHost(db, c.req.valid("param").id, envelope.signer, m.hostId);
    await spendNonce(db, envelope);
    await markHostLeft(db, m.hostId, now);
    return c.json((await hostJson(db, config, [(await getHost(db, m.hostId)) as Host]))[0], 200);
  });
