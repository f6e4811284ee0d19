/**
 * Licence operations (protocol/licences.ts): mint (admin, testnet only, capped), transfer, bind
 * to a host or validator the holder runs, redeem (stabilized), liquidate (a mainnet slash), and
 * the phase changes, the move to mainnet writing the genesis snapshot.
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
import { badRequest, conflict, forbidden, notFound } from "../errors.js";
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
      throw conflict("licence_minting_closed", `Licences are minted only in testnet; the network is in ${state.phase}`);
    if (state.licencesMinted >= config.licenceMaxSupply) {
      throw conflict("licence_supply_exhausted", `All ${config.licenceMaxSupply} licences have been minted`);
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

async function ownedLiveLicence(db: Database, id: string, holder: string): Promise<Licence> {
  const licence = await getLicence(db, id);
  if (!licence) throw notFound("unknown_licence", `No licence "${id}"`);
  if (licence.holder !== holder) throw forbidden("not_licence_holder", "The signer does not hold this licence");
  if (licence.state !== "live") throw conflict("licence_ended", `This licence was ${licence.state}`);
  return licence;
}

export async function transferLicence(
  db: Database,
  r: { id: string; holder: string; licence: string; to: string },
  now: number,
): Promise<OperationOutcome<{ licence: string }>> {
  return runOperation(db, { id: r.id, kind: "licence_transfer", request: r }, now, async () => {
    const licence = await ownedLiveLicence(db, r.licence, r.holder);
    if (licence.boundTo) throw conflict("licence_bound", `Unbind the licence from ${licence.boundTo} before transferring it`);
    return { statements: [updateLicence(db, licence.id, { holder: r.to })], result: { licence: licence.id } };
  });
}

/** Binds a licence to `target` (`host:<id>` or `validator:<address>`) the holder runs, or unbinds it (`target` null). */
export async function bindLicence(
  db: Database,
  r: { id: string; holder: string; licence: string; target: string | null },
  now: number,
): Promise<OperationOutcome<{ licence: string; boundTo: string | null }>> {
  return runOperation(db, { id: r.id, kind: "licence_bind", request: r }, now, async () => {
    const licence = await ownedLiveLicence(db, r.licence, r.holder);
    if (r.target !== null) await checkBindTarget(db, r.target, r.holder);
    return {
      statements: [updateLicence(db, licence.id, { boundTo: r.target })],
      result: { licence: licence.id, boundTo: r.target },
    };
  });
}

async function checkBindTarget(db: Database, target: string, holder: string): Promise<void> {
  if (target.startsWith("host:")) {
    const host = await getHost(db, target.slice(5));
    if (!host) throw notFound("unknown_host", `No host "${target.slice(5)}"`);
    if (host.operator !== holder) throw forbidden("not_host_operator", "A licence binds only to a host its holder operates");
    if (host.status === "left") throw conflict("host_left", "This host has left the network");
  } else if (target.startsWith("validator:")) {
    if (target.slice(10) !== holder) throw forbidden("not_validator", "A licence binds only to the holder's own validator");
    if (!(await getValidator(db, holder))) throw notFound("unknown_validator", "The holder is not a registered validator");
  } else {
    throw badRequest("invalid_field", 'The target must be "host:<id>" or "validator:<address>"');
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
      throw conflict("redemption_closed", `Licences are redeemable only once the network is stabilized; it is in ${phase}`);
    const licence = await ownedLiveLicence(db, r.licence, r.holder);
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
        updateLicence(db, licence.id, { state: "redeemed", boundTo: null, endedAt: now }),
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
    ...list.map((l) => updateLicence(db, l.id, { state: "liquidated", endedAt: now })),
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
        throw conflict("phase_not_allowed", `The network is in ${phase}; phases go testnet -> mainnet -> stabilized`);
      if (to !== "mainnet") return { statements: [phaseStatement(db, phase, to, now)], result: { phase: to, genesisHash: null } };
      const live = await allLiveLicences(db);
      const hash = genesisHash(config.licenceStakeEquivalent, live);
      const snapshot = JSON.stringify({ stakeEquivalent: config.licenceStakeEquivalent.toString(), licences: live });
      return { statements: [phaseStatement(db, phase, to, now, { hash, snapshot })], result: { phase: to, genesisHash: hash } };
    },
  );
}
