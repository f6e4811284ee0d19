/**
 * DPoS validators: registration, and the active set (the top `VALIDATOR_SET_SIZE` by stake, that
 * is their pool's bonded delegations plus bound licences). Delegating is staking into a
 * validator's pool (staking.ts); only active validators' proofs make a batch pay (settlement).
 */
import { poolId, activeValidatorSet as rankValidators } from "../../protocol/staking.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { stakeOfPools } from "../db/stake-pools.js";
import { insertValidator, listValidators } from "../db/validators.js";
import { type OperationOutcome, runOperation } from "./operation.js";

export async function registerValidator(
  db: Database,
  r: { id: string; address: string; name: string },
  now: number,
): Promise<OperationOutcome<{ address: string }>> {
  return runOperation(db, { id: r.id, kind: "validator_register", request: r }, now, async () => ({
    statements: [insertValidator(db, { address: r.address, name: r.name, registeredAt: now })],
    result: { address: r.address },
  }));
}

export interface ValidatorView {
  address: string;
  name: string;
  stake: bigint;
  active: boolean;
  rank: number | null;
}

/** Every validator with its stake, and whether it is in the active set now. */
export async function validatorSet(db: Database, config: GatewayConfig): Promise<ValidatorView[]> {
  const all = await listValidators(db);
  const stakes = await stakeOfPools(
    db,
    all.map((v) => poolId("validator", v.address)),
    config.licenceStakeEquivalent,
  );
  const withStake = all.map((v) => ({ ...v, stake: stakes.get(poolId("validator", v.address)) ?? 0n }));
  const active = rankValidators(withStake, config.validatorSetSize, config.validatorMinStake);
  return withStake.map((v) => {
    const rank = active.indexOf(v.address);
    return { address: v.address, name: v.name, stake: v.stake, active: rank >= 0, rank: rank >= 0 ? rank + 1 : null };
  });
}
