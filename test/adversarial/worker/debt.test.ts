/**
 * Finding #11: unpaid debt must have a consequence. A requestor that stakes its whole balance
 * keeps its quota, and settlement could only record what it could not charge as `uncollected`.
 * Now the shortfall is the requestor's debt: its keys answer 402 `payment_required` on the relay
 * path and it cannot stake more until cron has collected the debt (into the treasury) from value
 * that becomes available.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TREASURY_ACCOUNT } from "../../../protocol/ledger.js";
import { gatewayConfig } from "../../../workers/config.js";
import { runCron } from "../../../workers/cron/run-cron.js";
import { database } from "../../../workers/db/database.js";
import { settleBatch } from "../../../workers/economy/settle-batches.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  fund,
  newOperator,
  PLACES,
  registerHost,
  rpc,
  testHosts,
} from "../../worker/helpers.js";
import { errorOf, expectLedgerBalanced, insertVerifiedBatch, json, registerActiveValidator } from "./economy-fixtures.js";

describe("#11 requestor debt", () => {
  it("#11 answers 402 payment_required to a requestor whose balance could not cover a settled batch, until it is funded and cron collects the debt", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 100 });
    const hostId = await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...PLACES.paris }, newOperator());
    // It staked everything it had: nothing is left in its balance to pay with.
    const requestor = await createRequestor(1_000_000n);
    const prover = await registerActiveValidator();
    const batchId = await insertVerifiedBatch({ requestorId: requestor.id, serviceId: service, hostId, relays: 400, prover });
    await settleBatch(db, config, batchId, Date.now());
    const settlement = await json<{ due: number; charged: number; uncollected: number }>(
      await call(`/v1/batches/${batchId}/settlement`),
    );
    expect(settlement).toMatchObject({ due: 40_000, charged: 0, uncollected: 40_000 });

    const refused = await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris);
    expect(refused.status).toBe(402);
    const body = (await refused.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe("payment_required");
    expect(body.error.message).toContain("40000");
    const me = async () =>
      json<{ debt: string; balance: string; stake: string }>(
        await call("/v1/requestors/me", { headers: { authorization: `Bearer ${requestor.accountKey}` } }),
      );
    expect(await me()).toMatchObject({ debt: "40000", balance: "0" });
    // No new stake while it owes.
    const stake = await call("/v1/requestors/me/stake", {
      method: "POST",
      headers: { authorization: `Bearer ${requestor.accountKey}`, "content-type": "application/json" },
      body: JSON.stringify({ id: "more", amount: "1" }),
    });
    expect(stake.status).toBe(402);
    expect((await errorOf(stake)).code).toBe("payment_required");

    // Funded, the next cron run collects the debt into the treasury; relays work again.
    await fund(requestor.id, 100_000n);
    await runCron(env, Date.now());
    expect(await me()).toMatchObject({ debt: "0", balance: "60000", stake: "1000000" });
    const moved = await json<{ transfers: { creditAccount: string; amount: string; code: string }[] }>(
      await call(`/v1/ledger/transfers?account=balance:${requestor.id}`),
    );
    expect(moved.transfers.filter((t) => t.code === "debt_collection")).toEqual([
      expect.objectContaining({ creditAccount: TREASURY_ACCOUNT, amount: "40000" }),
    ]);
    expect((await rpc(service, requestor.key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    await expectLedgerBalanced();
  });
});
