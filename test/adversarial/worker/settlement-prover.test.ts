/**
 * Finding #5 (settlement part): `ProofRegistry.proveBatch` is open to anyone and every receipt's
 * proof is public, so any address can prove a batch first. What requestors are charged and
 * hosts are paid must not depend on who that was; only the validators' share may.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TREASURY_ACCOUNT } from "../../../protocol/ledger.js";
import { gatewayConfig } from "../../../workers/config.js";
import { database } from "../../../workers/db/database.js";
import { settleBatch } from "../../../workers/economy/settle-batches.js";
import { call, createRequestor, createService, newOperator, PLACES, registerHost, testHosts } from "../../worker/helpers.js";
import { expectLedgerBalanced, holderBalance, insertVerifiedBatch, json, registerActiveValidator } from "./economy-fixtures.js";

interface SettlementView {
  outcome: string;
  prover: string | null;
  due: number;
  charged: number;
  uncollected: number;
  hosts: number;
  treasury: number;
  validators: number;
  fisherman: number;
  chainPartner: number;
  burned: number;
  validatorShareTo: string | null;
  validatorShareReason: string | null;
  transfers: { creditAccount: string; amount: string; code: string }[];
}

describe("#5 settlement does not depend on who proved the batch", () => {
  it("#5 charges the requestor and pays the hosts the same for a batch proven by a non-validator as for one proven by an active validator", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const validator = await registerActiveValidator();
    const outsider = newOperator().address.toLowerCase();
    const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 100 });

    const settle = async (prover: string) => {
      const payer = await createRequestor(1_000_000n, { balance: 1_000_000n });
      const operator = newOperator();
      const hostId = await registerHost({ endpoint: testHosts().anvils[2], services: [service], ...PLACES.paris }, operator);
      const batchId = await insertVerifiedBatch({ requestorId: payer.id, serviceId: service, hostId, relays: 400, prover });
      const outcome = await settleBatch(db, config, batchId, Date.now());
      expect(outcome.alreadyDone).toBe(false);
      const settlement = await json<SettlementView>(await call(`/v1/batches/${batchId}/settlement`));
      return {
        settlement,
        payerPaid: 1_000_000n - (await holderBalance(payer.id)),
        hostEarned: await holderBalance(operator.address),
      };
    };

    const byValidator = await settle(validator);
    const byOutsider = await settle(outsider);

    // 400 CU x 100 = 40,000; no report card: the host is paid at the 0.5 fallback score.
    expect(byValidator.settlement).toMatchObject({ outcome: "paid", charged: 40_000, hosts: 15_000, validators: 2_000 });
    for (const field of [
      "outcome",
      "due",
      "charged",
      "uncollected",
      "hosts",
      "validators",
      "fisherman",
      "chainPartner",
      "burned",
    ]) {
      expect(byOutsider.settlement[field as keyof SettlementView], field).toEqual(
        byValidator.settlement[field as keyof SettlementView],
      );
    }
    expect(byOutsider.payerPaid).toBe(40_000n);
    expect(byOutsider.payerPaid).toBe(byValidator.payerPaid);
    expect(byOutsider.hostEarned).toBe(15_000n);
    expect(byOutsider.hostEarned).toBe(byValidator.hostEarned);

    // Only the validators' share follows the prover: its pool when active, the treasury otherwise.
    expect(byValidator.settlement).toMatchObject({
      validatorShareTo: `pool:validator:${validator}`,
      validatorShareReason: "active_prover",
    });
    expect(byOutsider.settlement).toMatchObject({
      prover: outsider,
      validatorShareTo: TREASURY_ACCOUNT,
      validatorShareReason: "prover_not_active",
    });
    const share = byOutsider.settlement.transfers.find((t) => t.code === "validator_share_unclaimed");
    expect(share).toMatchObject({ creditAccount: TREASURY_ACCOUNT, amount: "2000" });
    expect(byOutsider.settlement.transfers.some((t) => t.creditAccount.startsWith("pool:validator:"))).toBe(false);
    await expectLedgerBalanced();
  });
});
