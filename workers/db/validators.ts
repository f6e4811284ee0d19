/** Repository: registered validators (DPoS); their stake is their pool's (stake-pools.ts). */
import { asc, eq } from "drizzle-orm";
import { validators } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";

export interface Validator {
  address: string;
  name: string;
  registeredAt: number;
}

export async function getValidator(db: Database, address: string): Promise<Validator | null> {
  return (await db.select().from(validators).where(eq(validators.address, address)).get()) ?? null;
}

export async function listValidators(db: Database): Promise<Validator[]> {
  return db.select().from(validators).orderBy(asc(validators.address)).all();
}

export function insertValidator(db: Database, v: Validator): Statement {
  return db.insert(validators).values(v);
}
