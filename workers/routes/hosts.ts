/**
 * `/v1/hosts`: host registration, update and leave, each an EIP-712 message signed by the
 * operator key, plus public reads. `/v1/operators/{address}/nonce` tells a signer which nonce
 * its next message must carry.
 *
 * Every check (fields, deadline, signature, services, endpoint, ownership) runs before the
 * nonce is spent, so a refused request changes nothing. `/v1/hosts/{id}/reputation` is the
 * host's reputation as of an epoch, derived from its report cards, with its jail terms.
 */
import { Hono } from "hono";
import type { Address } from "viem";
import { checkHostEndpoint } from "../../protocol/endpoint.js";
import { isGeoPoint } from "../../protocol/geo.js";
import { type HostRegistryAction, hostIdFor, hostRegistryTypes } from "../../protocol/host-registration.js";
import { availableOf, balanceAccount } from "../../protocol/ledger.js";
import { DEFAULT_REPUTATION, reputationAsOf } from "../../protocol/quality.js";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import { poolId } from "../../protocol/staking.js";
import type { AppEnv } from "../app-env.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { getHost, type Host, insertHostStatements, listHosts, markHostLeft, updateHost } from "../db/hosts.js";
import { getAccount } from "../db/ledger.js";
import { jailTermsOf, scoredCardsOf } from "../db/quality.js";
import { listServices } from "../db/services.js";
import { stakeOfPools } from "../db/stake-pools.js";
import { stake } from "../economy/staking.js";
import { apiError } from "../errors.js";
import { amountField, integerField, pageLimit, serviceListField, stringField } from "../http/fields.js";
import {
  checkDeadline,
  checkNextNonce,
  checkTypedSignature,
  readSignedEnvelope,
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

function readLocation(message: Record<string, unknown>) {
  const latitudeE6 = integerField(message, "latitudeE6", -90_000_000, 90_000_000);
  const longitudeE6 = integerField(message, "longitudeE6", -180_000_000, 180_000_000);
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

export const hostsApp = new Hono<AppEnv>()
  .get("/:id/reputation", async (c) => {
    const db = c.var.db;
    const config = c.var.config;
    const host = await getHost(db, c.req.param("id"));
    if (!host) throw apiError("unknown_host", `No host "${c.req.param("id")}"`);
    const raw = c.req.query("epoch");
    const epoch = raw === undefined ? sessionEpoch(Date.now(), config.sessionSeconds) : Number(raw);
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw apiError("invalid_field", '"epoch" must be a non-negative integer');
    const epochStart = epochStartMs(epoch, config.sessionSeconds);
    const cards = await scoredCardsOf(db, host.id, epoch - DEFAULT_REPUTATION.windowEpochs, epochStart - 1);
    const jail = await jailTermsOf(db, host.id);
    const jailed = jail.some((t) => t.fromEpoch <= epoch && (t.untilEpoch === null || t.untilEpoch > epoch));
    return c.json({
      hostId: host.id,
      epoch,
      reputation: reputationAsOf(cards, { epoch, epochStart }),
      parameters: DEFAULT_REPUTATION,
      jailed,
      cards: cards.length,
      jail,
    });
  })
  .get("/", async (c) => {
    const page = await listHosts(c.var.db, {
      service: c.req.query("service"),
      after: c.req.query("cursor"),
      limit: pageLimit(c.req.query("limit")),
    });
    return c.json({ hosts: await hostJson(c.var.db, c.var.config, page.hosts), next: page.next });
  })
  .get("/:id", async (c) => {
    const db = c.var.db;
    const host = await getHost(db, c.req.param("id"));
    if (!host) throw apiError("unknown_host", `No host "${c.req.param("id")}"`);
    return c.json((await hostJson(db, c.var.config, [host]))[0]);
  })
  .post("/", async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const envelope = await readSignedEnvelope(c.req.raw);
    const m = envelope.message;
    const endpoint = stringField(m, "endpoint", { max: 2048 });
    const services = serviceListField(m, "services");
    const location = readLocation(m);
    const stakeAmount = amountField(m, "stake");
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "RegisterHost", envelope, {
      operator: envelope.signer,
      endpoint,
      services,
      latitudeE6: location.latitudeE6,
      longitudeE6: location.longitudeE6,
      stake: stakeAmount,
      nonce: envelope.nonce,
      deadline: envelope.deadline,
    });
    if (stakeAmount < config.minHostStake || stakeAmount === 0n) {
      throw apiError("stake_required", `A host must stake at least ${config.minHostStake} minor units (and more than zero)`);
    }
    const normalizedEndpoint = checkEndpoint(config, endpoint);
    await checkServicesExist(db, services);
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
      services,
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
  .patch("/:id", async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const envelope = await readSignedEnvelope(c.req.raw);
    const m = envelope.message;
    const hostId = stringField(m, "hostId", { max: 64 });
    const endpoint = stringField(m, "endpoint", { max: 2048 });
    const services = serviceListField(m, "services");
    const location = readLocation(m);
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "UpdateHost", envelope, {
      operator: envelope.signer,
      hostId,
      endpoint,
      services,
      latitudeE6: location.latitudeE6,
      longitudeE6: location.longitudeE6,
      nonce: envelope.nonce,
      deadline: envelope.deadline,
    });
    await ownedActiveHost(db, c.req.param("id"), envelope.signer, hostId);
    const normalizedEndpoint = checkEndpoint(config, endpoint);
    await checkServicesExist(db, services);
    await spendNonce(db, envelope);
    await updateHost(
      db,
      hostId,
      { endpoint: normalizedEndpoint, latitude: location.latitude, longitude: location.longitude, services },
      now,
    );
    return c.json((await hostJson(db, config, [(await getHost(db, hostId)) as Host]))[0]);
  })
  .post("/:id/leave", async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const envelope = await readSignedEnvelope(c.req.raw);
    const hostId = stringField(envelope.message, "hostId", { max: 64 });
    checkDeadline(envelope.deadline, now);
    await checkSignature(config, "LeaveHost", envelope, {
      operator: envelope.signer,
      hostId,
      nonce: envelope.nonce,
      deadline: envelope.deadline,
    });
    await ownedActiveHost(db, c.req.param("id"), envelope.signer, hostId);
    await spendNonce(db, envelope);
    await markHostLeft(db, hostId, now);
    return c.json((await hostJson(db, config, [(await getHost(db, hostId)) as Host]))[0]);
  });
