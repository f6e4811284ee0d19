/** Repository: host offers (docs/market.md) and API keys' standing requirements. */
import { and, asc, eq, gt, isNull } from "drizzle-orm";
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
}

type OfferRow = typeof hostOffers.$inferSelect;

function toOffer(row: OfferRow): HostOffer {
  return { ...row, models: JSON.parse(row.models) };
}

/** Publishes (or replaces) a host's offer for a service. */
export async function putOffer(db: Database, offer: HostOffer): Promise<void> {
  const values = { ...offer, models: JSON.stringify(offer.models) };
  await db
    .insert(hostOffers)
    .values(values)
    .onConflictDoUpdate({
      target: [hostOffers.hostId, hostOffers.serviceId],
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

export async function getOffer(db: Database, hostId: string, serviceId: string): Promise<HostOffer | null> {
  const row = await db
    .select()
    .from(hostOffers)
    .where(and(eq(hostOffers.hostId, hostId), eq(hostOffers.serviceId, serviceId)))
    .get();
  return row ? toOffer(row) : null;
}

/** Offers, by (service, host), paginated by host id within a service when `service` is given. */
export async function listOffers(
  db: Database,
  { service, host, after, limit }: { service?: string; host?: string; after?: string; limit: number },
): Promise<HostOffer[]> {
  const where = and(
    service ? eq(hostOffers.serviceId, service) : undefined,
    host ? eq(hostOffers.hostId, host) : undefined,
    after ? gt(hostOffers.hostId, after) : undefined,
  );
  const rows = await db
    .select()
    .from(hostOffers)
    .where(where)
    .orderBy(asc(hostOffers.hostId), asc(hostOffers.serviceId))
    .limit(limit)
    .all();
  return rows.map(toOffer);
}

/** Every offer for a service, by host id: what session selection reads once when a session opens. */
export async function offersForService(db: Database, serviceId: string): Promise<Map<string, Offer>> {
  const rows = await db.select().from(hostOffers).where(eq(hostOffers.serviceId, serviceId)).all();
  return new Map(
    rows.map((r) => [
      r.hostId,
      {
        pricePerComputeUnit: r.pricePerComputeUnit,
        region: r.region,
        models: JSON.parse(r.models),
        contextLength: r.contextLength,
      },
    ]),
  );
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
