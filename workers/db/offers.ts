/**
 * Repository: host offers (docs/market.md) and API keys' standing requirements. An offer is kept
 * per epoch it takes effect from, so the offers a past session was selected with stay readable.
 */
import { and, asc, desc, eq, isNull, lte } from "drizzle-orm";
import type { Offer } from "../../protocol/market.js";
import { apiKeys, hostOffers } from "../../schema/tables.js";
import type { Database } from "./database.js";

export interface HostOffer extends Offer {
  hostId: string;
  serviceId: string;
  operator: string;
  nonce: number;
  signature: string;
  updatedAt: number;
  fromEpoch: number;
}

type OfferRow = typeof hostOffers.$inferSelect;

function toOffer(row: OfferRow): HostOffer {
  return { ...row, models: JSON.parse(row.models) };
}

/** Publishes a host's offer for a service from `fromEpoch` (replacing one published for the same epoch). */
export async function putOffer(db: Database, offer: HostOffer): Promise<void> {
  const values = { ...offer, models: JSON.stringify(offer.models) };
  await db
    .insert(hostOffers)
    .values(values)
    .onConflictDoUpdate({
      target: [hostOffers.hostId, hostOffers.serviceId, hostOffers.fromEpoch],
      set: {
        pricePerComputeUnit: values.pricePerComputeUnit,
        region: values.region,
        models: values.models,
        contextLength: values.contextLength,
        operator: values.operator,
        nonce: values.nonce,
        signature: values.signature,
        updatedAt: values.updatedAt,
      },
    });
}

/** The latest offer of each (host, service) in effect at `epoch`, from rows ordered by from_epoch descending. */
function latestPerHost(rows: OfferRow[]): HostOffer[] {
  const seen = new Set<string>();
  const out: HostOffer[] = [];
  for (const row of rows) {
    const key = `${row.hostId}\n${row.serviceId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(toOffer(row));
  }
  return out.sort((a, b) => (a.hostId === b.hostId ? (a.serviceId < b.serviceId ? -1 : 1) : a.hostId < b.hostId ? -1 : 1));
}

/**
 * Offers in effect at `epoch` (each host's latest offer per service with `fromEpoch <= epoch`),
 * by host id, for a service or a host; `after` pages by host id. With `bounds` (the market's
 * price bounds governed for that epoch), an offer whose price lies outside them is not in effect:
 * its host is treated as having no offer until it publishes one within them (docs/market.md).
 */
export async function listOffers(
  db: Database,
  {
    service,
    host,
    epoch,
    after,
    limit,
    bounds,
  }: { service?: string; host?: string; epoch: number; after?: string; limit: number; bounds?: { min: number; max: number } },
): Promise<HostOffer[]> {
  const rows = await db
    .select()
    .from(hostOffers)
    .where(
      and(
        service ? eq(hostOffers.serviceId, service) : undefined,
        host ? eq(hostOffers.hostId, host) : undefined,
        lte(hostOffers.fromEpoch, epoch),
      ),
    )
    .orderBy(desc(hostOffers.fromEpoch))
    .all();
  return latestPerHost(rows)
    .filter((o) => !bounds || (o.pricePerComputeUnit >= bounds.min && o.pricePerComputeUnit <= bounds.max))
    .filter((o) => after === undefined || o.hostId > after)
    .slice(0, limit);
}

/** Every offer in effect for a service at `epoch`, by host id: what session selection reads once when a session opens. */
export async function offersForService(
  db: Database,
  serviceId: string,
  epoch: number,
  bounds?: { min: number; max: number },
): Promise<Map<string, Offer>> {
  const offers = await listOffers(db, { service: serviceId, epoch, limit: Number.MAX_SAFE_INTEGER, bounds });
  return new Map(
    offers.map((o) => [
      o.hostId,
      { pricePerComputeUnit: o.pricePerComputeUnit, region: o.region, models: o.models, contextLength: o.contextLength },
    ]),
  );
}

export async function getOffer(db: Database, hostId: string, serviceId: string, fromEpoch: number): Promise<HostOffer | null> {
  const row = await db
    .select()
    .from(hostOffers)
    .where(and(eq(hostOffers.hostId, hostId), eq(hostOffers.serviceId, serviceId), eq(hostOffers.fromEpoch, fromEpoch)))
    .orderBy(asc(hostOffers.fromEpoch))
    .get();
  return row ? toOffer(row) : null;
}

/** Sets a live key's standing requirements; false when the requestor has no such live key. */
export async function setKeyRequirements(
  db: Database,
  requestorId: string,
  keyId: string,
  requirements: string,
): Promise<boolean> {
  const updated = await db
    .update(apiKeys)
    .set({ requirements })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.requestorId, requestorId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return updated.length === 1;
}

export async function getKeyRequirements(db: Database, requestorId: string, keyId: string): Promise<string | null> {
  const row = await db
    .select({ requirements: apiKeys.requirements })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.requestorId, requestorId), isNull(apiKeys.revokedAt)))
    .get();
  return row ? row.requirements : null;
}
