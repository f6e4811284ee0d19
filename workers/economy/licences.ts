/**
 * Licence operations (protocol/licences.ts): mint (admin, testnet only, capped), transfer, bind
 * to a host or validator the holder runs, unbind, redeem (stabilized), liquidate (a mainnet
 * slash), and the phase changes, the move to mainnet writing the genesis snapshot.
 *
 * Every change is conditional on the licence being what the operation read (its version): of
 * two racing changes exactly one wins; a holder's losing action is refused (409
 * `licence_changed`) and changes nothing. Unbinding starts an unbinding period as long as
 * unstaking's (`UNBONDING_SECONDS`): the licence stops counting as the pool's stake at once but
 * a slash of that pool still liquidates it until the period ends, and it cannot be transferred,
 * redeemed or bound again before then, so a host cannot pull its licence out from under a slash
 * it sees coming.
 *
 * Ledger entries: a mint issues the stake equivalent into the licence's own escrow account
 * (system:issuance -> licence:<id>); liquidation moves it to system:reward_pool; redemption to
 * the holder's balance. So a live licence's stake-equivalent is always in the ledger, and the
 * supply invariant covers it.
 */
import { balanceAccount, ISSUANCE_ACCOUNT, licenceAccount, REWARD_POOL_ACCOUNT } from "../../protocol/ledger.js";
import { canMoveTo, genesisHash, mintingOpen, type NetworkPhase, redeemable } from "../../protocol/licences.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { getHost } from "../db/hosts.js";
import { ledgerStatements, type Statement, single } from "../db/ledger.js";
import {
  allLiveLicences,
  getLicence,
  type Licence,
  mintLicenceStatements,
  phaseStatement,
  readNetworkState,
  updateLicence,
} from "../db/licences.js";
import { getValidator } from "../db/validators.js";
import { apiError } from "../errors.js";
import { type OperationOutcome, runOperation } from "./operation.js";

export async function mintLicence(
  db: Database,
  config: GatewayConfig,
  r: { id: string; holder: string },
  now: number,
): Promise<OperationOutcome<{ licence: string }>> {
  return runOperation(db, { id: `admin/licence/${r.id}`, kind: "licence_mint", request: r }, now, async () => {
    const state = await readNetworkState(db);
    if (!mintingOpen(state.phase))
      throw apiError("licence_minting_closed", `Licences are minted only in testnet; the network is in ${state.phase}`);
    if (state.licencesMinted >= config.licenceMaxSupply) {
      throw apiError("licence_supply_exhausted", `All ${config.licenceMaxSupply} licences have been minted`);
    }
    const escrow = single(
      `licence-mint/${r.id}`,
      ISSUANCE_ACCOUNT,
      licenceAccount(r.id),
      config.licenceStakeEquivalent,
      "licence_mint",
      r.id,
    );
    return {
      statements: [...mintLicenceStatements(db, r, config.licenceMaxSupply, now), ...ledgerStatements(db, [escrow], now)],
      result: { licence: r.id },
    };
  });
}

/** Whether the licence is still in the unbinding period of its last unbind at `now`. */
const isUnbinding = (l: Pick<Licence, "unbindingUntil">, now: number) => l.unbindingUntil !== null && l.unbindingUntil > now;

/** Clears a finished unbinding period, so the row only names a pool it is still liable to. */
const UNBINDING_DONE = { unbindingFrom: null, unbindingUntil: null } as const;

async function ownedLiveLicence(db: Database, id: string, holder: string): Promise<Licence> {
  const licence = await getLicence(db, id);
  if (!licence) throw apiError("unknown_licence", `No licence "${id}"`);
  if (licence.holder !== holder) throw apiError("not_licence_holder", "The signer does not hold this licence");
  if (licence.state !== "live") throw apiError("licence_ended", `This licence was ${licence.state}`);
  return licence;
}

/** A live licence of `holder` that is neither bound nor unbinding: free to transfer, redeem or bind. */
async function ownedFreeLicence(db: Database, id: string, holder: string, now: number, action: string): Promise<Licence> {
  const licence = await ownedLiveLicence(db, id, holder);
  if (licence.boundTo)
    throw apiError(
      "licence_bound",
      `Unbind the licence from ${licence.boundTo} before you ${action} it (unbinding takes an unbonding period)`,
    );
  if (isUnbinding(licence, now)) {
    throw apiError(
      "licence_unbinding",
      `The licence is unbinding from ${licence.unbindingFrom} until ${new Date(licence.unbindingUntil as number).toISOString()}: until then it stays liable to that pool's slashes and cannot be transferred, redeemed or bound; try again after that time`,
    );
  }
  return licence;
}

export async function transferLicence(
  db: Database,
  r: { id: string; holder: string; licence: string; to: string },
  now: number,
): Promise<OperationOutcome<{ licence: string }>> {
  return runOperation(db, { id: r.id, kind: "licence_transfer", request: r }, now, async () => {
    const licence = await ownedFreeLicence(db, r.licence, r.holder, now, "transfer");
    return { statements: [updateLicence(db, licence, { holder: r.to, ...UNBINDING_DONE })], result: { licence: licence.id } };
  });
}

interface BindResult {
  licence: string;
  boundTo: string | null;
  /** Set by an unbind: when the licence is free again. */
  unbindingUntil: number | null;
}

/**
 * Binds a free licence to `target` (`host:<id>` or `validator:<address>`) the holder runs, or
 * unbinds a bound one (`target` null), which starts its unbinding period.
 */
export async function bindLicence(
  db: Database,
  config: GatewayConfig,
  r: { id: string; holder: string; licence: string; target: string | null },
  now: number,
): Promise<OperationOutcome<BindResult>> {
  return runOperation<BindResult>(db, { id: r.id, kind: "licence_bind", request: r }, now, async () => {
    if (r.target === null) {
      const licence = await ownedLiveLicence(db, r.licence, r.holder);
      if (!licence.boundTo)
        throw apiError("licence_not_bound", "The licence is not bound to anything; there is nothing to unbind");
      const unbindingUntil = now + config.unbondingSeconds * 1000;
      return {
        statements: [updateLicence(db, licence, { boundTo: null, unbindingFrom: licence.boundTo, unbindingUntil })],
        result: { licence: licence.id, boundTo: null, unbindingUntil },
      };
    }
    const licence = await ownedFreeLicence(db, r.licence, r.holder, now, "bind");
    await checkBindTarget(db, r.target, r.holder);
    return {
      statements: [updateLicence(db, licence, { boundTo: r.target, ...UNBINDING_DONE })],
      result: { licence: licence.id, boundTo: r.target, unbindingUntil: null },
    };
  });
}

async function checkBindTarget(db: Database, target: string, holder: string): Promise<void> {
  if (target.startsWith("host:")) {
    const host = await getHost(db, target.slice(5));
    if (!host) throw apiError("unknown_host", `No host "${target.slice(5)}"`);
    if (host.operator !== holder) throw apiError("not_host_operator", "A licence binds only to a host its holder operates");
    if (host.status === "left") throw apiError("host_left", "This host has left the network");
  } else if (target.startsWith("validator:")) {
    if (target.slice(10) !== holder) throw apiError("not_validator", "A licence binds only to the holder's own validator");
    if (!(await getValidator(db, holder))) throw apiError("unknown_validator", "The holder is not a registered validator");
  } else {
    throw apiError("invalid_field", 'The target must be "host:<id>" or "validator:<address>"');
  }
}

export async function redeemLicence(
  db: Database,
  config: GatewayConfig,
  r: { id: string; holder: string; licence: string },
  now: number,
): Promise<OperationOutcome<{ licence: string; credited: bigint }>> {
  return runOperation(db, { id: r.id, kind: "licence_redeem", request: r }, now, async () => {
    const { phase } = await readNetworkState(db);
    if (!redeemable(phase))
      throw apiError("redemption_closed", `Licences are redeemable only once the network is stabilized; it is in ${phase}`);
    const licence = await ownedFreeLicence(db, r.licence, r.holder, now, "redeem");
    const release = single(
      `licence-redeem/${licence.id}`,
      licenceAccount(licence.id),
      balanceAccount(r.holder),
      config.licenceStakeEquivalent,
      "licence_redeem",
      licence.id,
    );
    return {
      statements: [
        updateLicence(db, licence, { state: "redeemed", endedAt: now, ...UNBINDING_DONE }),
        ...ledgerStatements(db, [release], now),
      ],
      result: { licence: licence.id, credited: config.licenceStakeEquivalent },
    };
  });
}

/** Statements that liquidate live licences: each burned, its equivalent released to the reward pool. */
export function liquidationStatements(db: Database, config: GatewayConfig, list: readonly Licence[], now: number): Statement[] {
  const releases = list.map((l) =>
    single(
      `licence-liquidate/${l.id}`,
      licenceAccount(l.id),
      REWARD_POOL_ACCOUNT,
      config.licenceStakeEquivalent,
      "licence_liquidation",
      l.id,
    ),
  );
  return [
    ...list.map((l) => updateLicence(db, l, { state: "liquidated", endedAt: now })),
    ...ledgerStatements(db, releases, now),
  ];
}

/**
 * Moves the network one phase forward (admin). Moving to mainnet freezes minting and writes the
 * genesis snapshot of live licences; cron commits its hash on-chain. Each move happens once.
 */
export async function changePhase(
  db: Database,
  config: GatewayConfig,
  to: NetworkPhase,
  now: number,
): Promise<OperationOutcome<{ phase: NetworkPhase; genesisHash: string | null }>> {
  return runOperation<{ phase: NetworkPhase; genesisHash: string | null }>(
    db,
    { id: `admin/phase/${to}`, kind: "phase", request: { to } },
    now,
    async () => {
      const { phase } = await readNetworkState(db);
      if (!canMoveTo(phase, to))
        throw apiError("phase_not_allowed", `The network is in ${phase}; phases go testnet -> mainnet -> stabilized`);
      if (to !== "mainnet") return { statements: [phaseStatement(db, phase, to, now)], result: { phase: to, genesisHash: null } };
      const live = await allLiveLicences(db);
      const hash = genesisHash(config.licenceStakeEquivalent, live);
      const snapshot = JSON.stringify({ stakeEquivalent: config.licenceStakeEquivalent.toString(), licences: live });
      return { statements: [phaseStatement(db, phase, to, now, { hash, snapshot })], result: { phase: to, genesisHash: hash } };
    },
  );
}
