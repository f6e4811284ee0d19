/**
 * Staking-equivalent licences (docs/economy.md) and the network phase.
 *
 * - `testnet`: the admin mints licences, at most the max supply (48,000) ever. Misbehaviour never
 *   liquidates a licence.
 * - `mainnet`: minting is frozen; the live licences are written into a genesis snapshot whose
 *   keccak256 is committed on-chain. A slash of a licence-backed host liquidates its licences.
 * - `stabilized`: as mainnet, and a holder may redeem a licence for its stake-equivalent tokens.
 *
 * Phases only move forward. A licence is minted with its stake-equivalent amount issued into an
 * escrow account of its own; that amount counts as stake for the host or validator it is bound
 * to, is released to the reward pool on liquidation, and credited to the holder on redemption.
 */
import { encodeAbiParameters, keccak256 } from "viem";

export type NetworkPhase = "testnet" | "mainnet" | "stabilized";

export const PHASES: readonly NetworkPhase[] = ["testnet", "mainnet", "stabilized"];

export const LICENCE_MAX_SUPPLY = 48_000;

/** Whether the network may move from `from` to `to`: one step forward at a time. */
export function canMoveTo(from: NetworkPhase, to: NetworkPhase): boolean {
  return PHASES.indexOf(to) === PHASES.indexOf(from) + 1;
}

export const mintingOpen = (phase: NetworkPhase) => phase === "testnet";
export const liquidatesOnSlash = (phase: NetworkPhase) => phase !== "testnet";
export const redeemable = (phase: NetworkPhase) => phase === "stabilized";

export interface GenesisLicence {
  id: string;
  serial: number;
  holder: string;
  boundTo: string | null;
}

/**
 * The genesis snapshot's hash: keccak256 of the ABI encoding of (stake equivalent, licences
 * ordered by serial as (serial, id, holder, boundTo or "")). Anyone with the snapshot from
 * `GET /v1/network/genesis` can recompute it and compare with the contract's `genesisHash`.
 */
export function genesisHash(stakeEquivalent: bigint, licences: readonly GenesisLicence[]): `0x${string}` {
  const ordered = [...licences].sort((a, b) => a.serial - b.serial);
  return keccak256(
    encodeAbiParameters(
      [
        { type: "uint256" },
        {
          type: "tuple[]",
          components: [
            { name: "serial", type: "uint32" },
            { name: "id", type: "string" },
            { name: "holder", type: "string" },
            { name: "boundTo", type: "string" },
          ],
        },
      ],
      [stakeEquivalent, ordered.map((l) => ({ serial: l.serial, id: l.id, holder: l.holder, boundTo: l.boundTo ?? "" }))],
    ),
  );
}
