/** Repository: requestors (dApps, agents) and their API keys. */
import { and, eq, isNull, sql } from "drizzle-orm";
import { availableOf, poolAccount } from "../../protocol/ledger.js";
import { poolId } from "../../protocol/staking.js";
import { accounts, apiKeys, requestors } from "../../schema/tables.js";
import type { Database } from "./database.js";
import { accountTotalsOf, getAccount } from "./ledger.js";
import { write } from "./storage-errors.js";

export interface Requestor {
  id: string;
  name: string;
  /** Bonded stake of the requestor's pool, read from the ledger. */
  stake: bigint;
  /** What settlement could not charge and cron has not collected yet (debts.ts). */
  debt: bigint;
  createdAt: number;
}

/**
 * What a key may do: `relay` (relays; may sit in a URL) and `account` (stake, unstake; never in a
 * URL). Stored as the sorted list joined by commas ("relay", "account", "account,relay").
 */
export type KeyScope = "relay" | "account";

export const KEY_SCOPES: readonly KeyScope[] = ["account", "relay"];

const scopesColumn = (scopes: readonly KeyScope[]) => [...new Set(scopes)].sort().join(",");
const scopesOf = (column: string) => column.split(",") as KeyScope[];

export interface ApiKeyRecord {
  id: string;
  requestorId: string;
  prefix: string;
  scopes: KeyScope[];
  createdAt: number;
  revokedAt: number | null;
}

export async function createRequestor(db: Database, requestor: Omit<Requestor, "stake" | "debt">): Promise<void> {
  await write(() => db.insert(requestors).values(requestor));
}

/** A requestor's stake: its pool's bonded ledger balance (quota follows it). */
export async function requestorStake(db: Database, id: string): Promise<bigint> {
  return availableOf(await getAccount(db, poolAccount(poolId("requestor", id))));
}

export async function getRequestor(db: Database, id: string): Promise<Requestor | null> {
  const row = await db.select().from(requestors).where(eq(requestors.id, id)).get();
  return row ? { ...row, debt: BigInt(row.debt), stake: await requestorStake(db, id) } : null;
}

export async function insertApiKey(db: Database, key: ApiKeyRecord & { keyHash: string }): Promise<void> {
  await write(() => db.insert(apiKeys).values({ ...key, scopes: scopesColumn(key.scopes) }));
}

/** Revokes a key of `requestorId`; false when no such live key exists. */
export async function revokeApiKey(db: Database, requestorId: string, keyId: string, now: number): Promise<boolean> {
  const updated = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.requestorId, requestorId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return updated.length === 1;
}

export async function listApiKeys(db: Database, requestorId: string): Promise<ApiKeyRecord[]> {
  const rows = await db
    .select({
      id: apiKeys.id,
      requestorId: apiKeys.requestorId,
      prefix: apiKeys.prefix,
      scopes: apiKeys.scopes,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.requestorId, requestorId))
    .all();
  return rows.map((r) => ({ ...r, scopes: scopesOf(r.scopes) }));
}

/** A live key as the relay path sees it: its requestor (with stake and debt), its id and scopes. */
export interface KeyHolder {
  requestor: Requestor;
  keyId: string;
  scopes: KeyScope[];
  /** The key's standing requirements (protocol/market.ts `Requirements` as JSON), '' for none. */
  requirements: string;
}

/** The requestor owning a live (unrevoked) key with this hash, with the key's id and scopes. */
export async function findRequestorByKeyHash(db: Database, keyHash: string): Promise<KeyHolder | null> {
  // One query on the relay path: the key, its requestor (with its debt) and the requestor's stake account.
  const row = await db
    .select({
      requestor: requestors,
      keyId: apiKeys.id,
      scopes: apiKeys.scopes,
      requirements: apiKeys.requirements,
      creditsPosted: accounts.creditsPosted,
      debitsPosted: accounts.debitsPosted,
      debitsPending: accounts.debitsPending,
      creditsPending: accounts.creditsPending,
    })
    .from(apiKeys)
    .innerJoin(requestors, eq(requestors.id, apiKeys.requestorId))
    .leftJoin(accounts, eq(accounts.id, sql`'pool:requestor:' || ${requestors.id}`))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .get();
  return row
    ? {
        requestor: { ...row.requestor, debt: BigInt(row.requestor.debt), stake: availableOf(accountTotalsOf(row)) },
        keyId: row.keyId,
        scopes: scopesOf(row.scopes),
        requirements: row.requirements,
      }
    : null;
}
