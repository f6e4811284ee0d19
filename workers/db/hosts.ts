/** Repository: operators (nonces) and hosts with the services they serve. */
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { poolId } from "../../protocol/staking.js";
import { hostServices, hosts, operators } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";
import { inChunks } from "./limits.js";
import { stakeOfPools } from "./stake-pools.js";
import { write } from "./storage-errors.js";

export interface Host {
  id: string;
  operator: string;
  endpoint: string;
  latitude: number;
  longitude: number;
  status: "active" | "left";
  activeSince: number;
  leftAt: number | null;
  services: string[];
  createdAt: number;
  updatedAt: number;
}

type HostRow = typeof hosts.$inferSelect;

function toHost(row: HostRow, serviceIds: string[]): Host {
  return { ...row, services: serviceIds };
}

/** The nonce the operator's next signed message must carry (0 for a new operator). */
export async function nextOperatorNonce(db: Database, operator: string): Promise<bigint> {
  const row = await db.select().from(operators).where(eq(operators.address, operator)).get();
  return BigInt(row?.nextNonce ?? 0);
}

/**
 * Spends `nonce` for `operator` if it is the next one: an atomic compare-and-increment, so two
 * requests carrying the same signature cannot both pass. False when the nonce is not the next.
 */
export async function consumeOperatorNonce(db: Database, operator: string, nonce: bigint): Promise<boolean> {
  await db.insert(operators).values({ address: operator, nextNonce: 0 }).onConflictDoNothing();
  const updated = await db
    .update(operators)
    .set({ nextNonce: sql`${operators.nextNonce} + 1` })
    .where(and(eq(operators.address, operator), eq(operators.nextNonce, Number(nonce))))
    .returning({ address: operators.address });
  return updated.length === 1;
}

export interface NewHost {
  id: string;
  operator: string;
  endpoint: string;
  latitude: number;
  longitude: number;
  activeSince: number;
  services: string[];
}

/** The statements that insert a host and its services (put in one batch with its stake). */
export function insertHostStatements(db: Database, host: NewHost, now: number): [Statement, Statement] {
  return [
    db.insert(hosts).values({
      id: host.id,
      operator: host.operator,
      endpoint: host.endpoint,
      latitude: host.latitude,
      longitude: host.longitude,
      activeSince: host.activeSince,
      createdAt: now,
      updatedAt: now,
    }),
    db.insert(hostServices).values(host.services.map((serviceId) => ({ hostId: host.id, serviceId }))),
  ];
}

export async function insertHost(db: Database, host: NewHost, now: number): Promise<void> {
  await write(() => db.batch(insertHostStatements(db, host, now)));
}

export interface HostChanges {
  endpoint: string;
  latitude: number;
  longitude: number;
  services: string[];
}

export async function updateHost(db: Database, id: string, changes: HostChanges, now: number): Promise<void> {
  await write(() =>
    db.batch([
      db
        .update(hosts)
        .set({ endpoint: changes.endpoint, latitude: changes.latitude, longitude: changes.longitude, updatedAt: now })
        .where(eq(hosts.id, id)),
      db.delete(hostServices).where(eq(hostServices.hostId, id)),
      db.insert(hostServices).values(changes.services.map((serviceId) => ({ hostId: id, serviceId }))),
    ]),
  );
}

export async function markHostLeft(db: Database, id: string, now: number): Promise<void> {
  await db.update(hosts).set({ status: "left", leftAt: now, updatedAt: now }).where(eq(hosts.id, id));
}

async function servicesOf(db: Database, hostIds: string[]): Promise<Map<string, string[]>> {
  const byHost = new Map<string, string[]>(hostIds.map((id) => [id, []]));
  const rows = await inChunks(hostIds, (ids) =>
    db.select().from(hostServices).where(inArray(hostServices.hostId, ids)).orderBy(asc(hostServices.serviceId)).all(),
  );
  for (const row of rows.sort((a, b) => (a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0))) {
    byHost.get(row.hostId)?.push(row.serviceId);
  }
  return byHost;
}

export async function getHost(db: Database, id: string): Promise<Host | null> {
  const row = await db.select().from(hosts).where(eq(hosts.id, id)).get();
  if (!row) return null;
  return toHost(row, (await servicesOf(db, [id])).get(id) ?? []);
}

export interface ListHostsParameters {
  service?: string;
  /** Host id after which the page starts (exclusive). */
  after?: string;
  limit: number;
}

/** A page of hosts ordered by id; `next` is the cursor for the following page, or null. */
export async function listHosts(
  db: Database,
  { service, after, limit }: ListHostsParameters,
): Promise<{ hosts: Host[]; next: string | null }> {
  const conditions = [after ? gt(hosts.id, after) : undefined];
  if (service) {
    conditions.push(
      inArray(hosts.id, db.select({ id: hostServices.hostId }).from(hostServices).where(eq(hostServices.serviceId, service))),
    );
  }
  const rows = await db
    .select()
    .from(hosts)
    .where(and(...conditions))
    .orderBy(asc(hosts.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const services = await servicesOf(
    db,
    page.map((r) => r.id),
  );
  return {
    hosts: page.map((row) => toHost(row, services.get(row.id) ?? [])),
    next: rows.length > limit ? page[page.length - 1].id : null,
  };
}

/** A host as session planning needs it: eligibility, weight and where to reach it. */
export interface CandidateHost {
  id: string;
  endpoint: string;
  latitude: number;
  longitude: number;
  stake: bigint;
  activeSince: number;
  leftAt: number | null;
}

/**
 * Every host that has ever served `serviceId`, with its stake read from the ledger (bonded pool
 * plus bound licences at `licenceEquivalent` each); eligibility for an epoch is decided by the caller.
 */
export async function listServiceHosts(db: Database, serviceId: string, licenceEquivalent: bigint): Promise<CandidateHost[]> {
  const rows = await db
    .select({
      id: hosts.id,
      endpoint: hosts.endpoint,
      latitude: hosts.latitude,
      longitude: hosts.longitude,
      activeSince: hosts.activeSince,
      leftAt: hosts.leftAt,
    })
    .from(hosts)
    .innerJoin(hostServices, eq(hostServices.hostId, hosts.id))
    .where(eq(hostServices.serviceId, serviceId))
    .all();
  const stakes = await stakeOfPools(
    db,
    rows.map((r) => poolId("host", r.id)),
    licenceEquivalent,
  );
  return rows.map((row) => ({ ...row, stake: stakes.get(poolId("host", row.id)) ?? 0n }));
}
