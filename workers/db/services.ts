/** Repository: services (what hosts serve and how relays to them are priced). */
import { asc, eq } from "drizzle-orm";
import type { ComputeUnitTable } from "../../protocol/jsonrpc.js";
import { parseRelayPolicy, type RelayPolicy } from "../../protocol/relay-policy.js";
import { services } from "../../schema/tables.js";
import type { Database } from "./database.js";

export interface Service {
  id: string;
  kind: "jsonrpc" | "http";
  /** Expected chain id for EVM JSON-RPC services. */
  chainId: number | null;
  /** Expected model for inference services. */
  model: string | null;
  computeUnits: ComputeUnitTable;
  /** DB-CPTM minor units a requestor is charged per compute unit at settlement. */
  pricePerComputeUnit: number;
  /**
   * JSON-RPC methods of the refused namespaces (`protocol/jsonrpc.ts` `DENIED_METHOD_PREFIXES`)
   * this service forwards anyway: names, or prefixes ending in `*`.
   */
  allowedMethods: string[];
  /**
   * The chain partner holder (a lower-case address or requestor id) paid this service's
   * chain-partner share of each settlement; null or absent: `system:chain_partner`.
   */
  partner?: string | null;
  /** How the relay engine treats this service's relays: hedging, quorum methods, attempt overrides. */
  relayPolicy: RelayPolicy;
  /** Inference metering (docs/market.md): prompt + completion tokens per compute unit; 0 charges per request. */
  tokensPerComputeUnit: number;
  /** SLA thresholds on report-card availability and latency score (0: none). */
  slaMinAvailability: number;
  slaMinLatency: number;
}

type ServiceRow = typeof services.$inferSelect;

function toService(row: ServiceRow): Service {
  return {
    id: row.id,
    kind: row.kind,
    chainId: row.chainId,
    model: row.model,
    computeUnits: { default: row.defaultComputeUnits, methods: JSON.parse(row.methodComputeUnits) },
    pricePerComputeUnit: row.pricePerComputeUnit,
    allowedMethods: JSON.parse(row.allowedMethods),
    partner: row.partner,
    relayPolicy: parseRelayPolicy(row.relayPolicy),
    tokensPerComputeUnit: row.tokensPerComputeUnit,
    slaMinAvailability: row.slaMinAvailability,
    slaMinLatency: row.slaMinLatency,
  };
}

export async function getService(db: Database, id: string): Promise<Service | null> {
  const row = await db.select().from(services).where(eq(services.id, id)).get();
  return row ? toService(row) : null;
}

export async function listServices(db: Database): Promise<Service[]> {
  const rows = await db.select().from(services).orderBy(asc(services.id)).all();
  return rows.map(toService);
}

/** Replaces a service's allow list; false when there is no such service. */
export async function setAllowedMethods(db: Database, id: string, allowedMethods: string[]): Promise<boolean> {
  const updated = await db
    .update(services)
    .set({ allowedMethods: JSON.stringify(allowedMethods) })
    .where(eq(services.id, id))
    .returning({ id: services.id });
  return updated.length === 1;
}

/** Replaces a service's relay policy; false when there is no such service. */
export async function setRelayPolicy(db: Database, id: string, relayPolicy: RelayPolicy): Promise<boolean> {
  const updated = await db
    .update(services)
    .set({ relayPolicy: JSON.stringify(relayPolicy) })
    .where(eq(services.id, id))
    .returning({ id: services.id });
  return updated.length === 1;
}

/** Creates a service; false when the id is taken. */
type MarketFields = "tokensPerComputeUnit" | "slaMinAvailability" | "slaMinLatency";

export async function createService(
  db: Database,
  service: Omit<Service, MarketFields> & Partial<Pick<Service, MarketFields>>,
  now: number,
): Promise<boolean> {
  const inserted = await db
    .insert(services)
    .values({
      id: service.id,
      kind: service.kind,
      chainId: service.chainId,
      model: service.model,
      defaultComputeUnits: service.computeUnits.default,
      methodComputeUnits: JSON.stringify(service.computeUnits.methods),
      pricePerComputeUnit: service.pricePerComputeUnit,
      allowedMethods: JSON.stringify(service.allowedMethods),
      partner: service.partner ?? null,
      relayPolicy: JSON.stringify(service.relayPolicy),
      tokensPerComputeUnit: service.tokensPerComputeUnit ?? 0,
      slaMinAvailability: service.slaMinAvailability ?? 0,
      slaMinLatency: service.slaMinLatency ?? 0,
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: services.id });
  return inserted.length === 1;
}

/** Names (or, with null, removes) a service's chain partner; false when there is no such service. */
export async function setServicePartner(db: Database, id: string, partner: string | null): Promise<boolean> {
  const updated = await db.update(services).set({ partner }).where(eq(services.id, id)).returning({ id: services.id });
  return updated.length === 1;
}
