/**
 * Cron: slash each host once per jail term, `JAIL_SLASH_BPS` of its pool's bonded and unbonding
 * stake into the reward pool. On mainnet and later, the licences bound to the host are
 * liquidated too, and so are licences unbound from it less than an unbonding period ago (like
 * unbonding stake, they stay slashable); in testnet misbehaviour never liquidates a licence.
 */
import { liquidatesOnSlash } from "../../protocol/licences.js";
import { poolId } from "../../protocol/staking.js";
import type { GatewayConfig } from "../config.js";
import { eachIsolated } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import type { Statement } from "../db/ledger.js";
import { licencesLiableTo, readNetworkState } from "../db/licences.js";
import { markJailSlashed, unslashedJailTerms } from "../db/settlements.js";
import { readPool } from "../db/stake-pools.js";
import { liquidationStatements } from "./licences.js";
import { runOperation } from "./operation.js";
import { slashStatements } from "./staking.js";

export async function slashHost(
  db: Database,
  config: GatewayConfig,
  hostId: string,
  slashId: string,
  now: number,
  /** Statements that join the slash in its batch (marking the jail term slashed). */
  extra: Statement[] = [],
) {
  return runOperation(
    db,
    { id: `sys/${slashId}`, kind: "slash", request: { host: hostId, bps: config.jailSlashBps } },
    now,
    async () => {
      const id = poolId("host", hostId);
      const pool = await readPool(db, id, "host", hostId);
      const slash = await slashStatements(db, pool, config.jailSlashBps, slashId, "slash", now);
      const { phase } = await readNetworkState(db);
      const licences = liquidatesOnSlash(phase) ? await licencesLiableTo(db, id, now) : [];
      return {
        statements: [...slash.statements, ...liquidationStatements(db, config, licences, now), ...extra],
        result: { taken: slash.taken, liquidated: licences.map((l) => l.id) },
      };
    },
    // A holder's licence action that lands first only changes what the slash reads: it reads again.
    { staleLicence: "rebuild" },
  );
}

/** Cron: slashes each unslashed jail term, each on its own (a failing one is retried, then quarantined). */
export async function slashJailedHosts(db: Database, config: GatewayConfig, now: number, limit = 50): Promise<number> {
  let slashed = 0;
  const terms = await unslashedJailTerms(db, limit, now);
  await eachIsolated(
    db,
    "slash_jail",
    now,
    terms,
    (t) => String(t.id),
    async (term) => {
      const outcome = await slashHost(db, config, term.hostId, `jail-slash/${term.id}`, now, [markJailSlashed(db, term.id, now)]);
      if (!outcome.alreadyDone) slashed++;
    },
  );
  return slashed;
}
