/** Repository: the network phase and the licence registry (protocol/licences.ts). */
import { and, asc, eq, gt, or, sql } from "drizzle-orm";
import type { GenesisLicence, NetworkPhase } from "../../protocol/licences.js";
import { licences, networkState } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";

export interface NetworkState {
  phase: NetworkPhase;
  licencesMinted: number;
  changedAt: number;
  genesisHash: string | null;
  genesisTx: string | null;
}

export async function readNetworkState(db: Database): Promise<NetworkState & { genesisSnapshot: string | null }> {
  const row = await db.select().from(networkState).where(eq(networkState.id, 1)).get();
  if (!row) throw new Error("network_state is missing: migrations not applied");
  return row;
}

export interface Licence {
  id: string;
  serial: number;
  holder: string;
  boundTo: string | null;
  state: "live" | "liquidated" | "redeemed";
  mintedAt: number;
  endedAt: number | null;
  /** Bumped by every change; a change built from an older read fails (`stale_licence`). */
  version: number;
  /** The pool it was unbound from: still liable to that pool's slashes until `unbindingUntil` (Unix ms). */
  unbindingFrom: string | null;
  unbindingUntil: number | null;
}

export async function getLicence(db: Database, id: string): Promise<Licence | null> {
  return (await db.select().from(licences).where(eq(licences.id, id)).get()) ?? null;
}

/**
 * The two statements of a mint: count it (only in testnet, only up to `cap`: the `licence_cap`
 * check) and insert it with the count as its serial. Outside testnet the count does not move,
 * the serial repeats one already taken, and the batch fails on `licence_serial`.
 */
export function mintLicenceStatements(db: Database, l: { id: string; holder: string }, cap: number, now: number): Statement[] {
  return [
    db
      .update(networkState)
      .set({ licencesMinted: sql`${networkState.licencesMinted} + 1`, licenceCap: cap })
      .where(and(eq(networkState.id, 1), eq(networkState.phase, "testnet"))),
    db.insert(licences).values({
      id: l.id,
      serial: sql`(SELECT licences_minted FROM network_state WHERE id = 1)`,
      holder: l.holder,
      boundTo: null,
      state: "live",
      mintedAt: now,
    }),
  ];
}

/**
 * Changes a licence, valid only if it is still exactly as `read` (its version): if another
 * change landed in between, the version becomes -1, `stale_licence` fails the whole batch and
 * nothing of the operation is kept. So of two racing changes to one licence, exactly one wins.
 */
export function updateLicence(
  db: Database,
  read: Pick<Licence, "id" | "version">,
  change: Partial<Pick<Licence, "holder" | "boundTo" | "state" | "endedAt" | "unbindingFrom" | "unbindingUntil">>,
): Statement {
  return db
    .update(licences)
    .set({
      ...change,
      version: sql`CASE WHEN ${licences.version} = ${read.version} THEN ${read.version + 1} ELSE -1 END`,
    })
    .where(eq(licences.id, read.id));
}

export async function listLicences(
  db: Database,
  { holder, boundTo, after, limit }: { holder?: string; boundTo?: string; after?: number; limit: number },
): Promise<{ licences: Licence[]; next: number | null }> {
  const rows = await db
    .select()
    .from(licences)
    .where(
      and(
        holder ? eq(licences.holder, holder) : undefined,
        boundTo ? eq(licences.boundTo, boundTo) : undefined,
        after !== undefined ? gt(licences.serial, after) : undefined,
      ),
    )
    .orderBy(asc(licences.serial))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { licences: page, next: rows.length > limit ? page[page.length - 1].serial : null };
}

/** Live licences a slash of `poolId` reaches at `now`: bound to it, or unbound from it less than an unbonding period ago. */
export async function licencesLiableTo(db: Database, poolId: string, now: number): Promise<Licence[]> {
  return db
    .select()
    .from(licences)
    .where(
      and(
        eq(licences.state, "live"),
        or(eq(licences.boundTo, poolId), and(eq(licences.unbindingFrom, poolId), gt(licences.unbindingUntil, now))),
      ),
    )
    .orderBy(asc(licences.serial))
    .all();
}

export async function allLiveLicences(db: Database): Promise<GenesisLicence[]> {
  return db
    .select({ id: licences.id, serial: licences.serial, holder: licences.holder, boundTo: licences.boundTo })
    .from(licences)
    .where(eq(licences.state, "live"))
    .orderBy(asc(licences.serial))
    .all();
}

/** Moves the phase forward, only from `from` (a failing guard is the caller's stale read: zero rows change). */
export function phaseStatement(
  db: Database,
  from: NetworkPhase,
  to: NetworkPhase,
  now: number,
  genesis?: { hash: string; snapshot: string },
): Statement {
  return db
    .update(networkState)
    .set({ phase: to, changedAt: now, ...(genesis ? { genesisHash: genesis.hash, genesisSnapshot: genesis.snapshot } : {}) })
    .where(and(eq(networkState.id, 1), eq(networkState.phase, from)));
}

export async function recordGenesisTx(db: Database, tx: string): Promise<void> {
  await db.update(networkState).set({ genesisTx: tx }).where(eq(networkState.id, 1));
}
