/**
 * Economy v0 through the gateway's API in workerd on D1 (and libSQL in the second run): the
 * ledger's idempotent operations and refusals, quota following stake, hosts leaving sessions on
 * unstake, the licence cap under concurrent mints, phase rules with the genesis hash on-chain,
 * settlement exactly once, and the v0 "not available" answers. The tests run in order: the
 * network phase only moves forward.
 */
import { env } from "cloudflare:workers";
import { createPublicClient, http } from "viem";
import { describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import { signEconomyMessage } from "../../protocol/economy-messages.js";
import { ledgerViolations } from "../../protocol/ledger.js";
import { genesisHash } from "../../protocol/licences.js";
import { batches, batchSessions, sessionHosts, sessions } from "../../schema/tables.js";
import { gatewayConfig } from "../../workers/config.js";
import { runCron } from "../../workers/cron/run-cron.js";
import { database } from "../../workers/db/database.js";
import { ledgerSnapshot } from "../../workers/db/ledger.js";
import { settleBatch } from "../../workers/economy/settle-batches.js";
import { slashHost } from "../../workers/economy/slash-jailed.js";
import {
  admin,
  call,
  createService,
  fund,
  inAnHour,
  newOperator,
  PLACES,
  postSigned,
  registerHost,
  signingDomain,
  testHosts,
  unique,
} from "./helpers.js";

const chainId = () => signingDomain();
const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

async function holderBalance(holder: string): Promise<bigint> {
  const body = await json<{ balance: { available: string } }>(await call(`/v1/ledger/holders/${holder}`));
  return BigInt(body.balance.available);
}

async function expectLedgerBalanced() {
  const snapshot = await ledgerSnapshot(database(env));
  expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);
}

describe("economy v0", () => {
  it("answers withdrawal, bridge, cash-out and wallet routes with not_available_in_v0, and reserves their names", async () => {
    for (const [method, path] of [
      ["POST", "/v1/withdrawals"],
      ["GET", "/v1/withdrawals/123"],
      ["POST", "/v1/bridge"],
      ["POST", "/v1/cash-out"],
      ["GET", "/v1/wallets"],
      ["POST", "/v1/ledger/withdraw"],
    ]) {
      const res = await call(path, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? "{}" : undefined,
      });
      expect(res.status, path).toBe(501);
      expect(await errorCode(res)).toBe("not_available_in_v0");
    }
    const taken = await admin("/v1/services", { id: "wallets", kind: "jsonrpc", chainId: 1 });
    expect(taken.status).toBe(400);
  });

  it("moves value only once per operation id, refuses overdrafts and bad signatures, and changes nothing when it refuses", async () => {
    const alice = newOperator();
    const bob = newOperator();
    await fund(alice.address, 5_000_000n);
    const send = async (amount: bigint, id: string, signer = alice) =>
      postSigned(
        "/v1/ledger/transfers",
        await signEconomyMessage(signer, chainId(), "Transfer", {
          from: alice.address,
          to: bob.address.toLowerCase(),
          amount,
          id,
          deadline: inAnHour(),
        }),
      );
    const first = await send(2_000_000n, "pay-1");
    expect(first.status).toBe(201);
    const retry = await send(2_000_000n, "pay-1");
    expect(retry.status).toBe(200);
    expect(await json(retry)).toMatchObject({ alreadyDone: true });
    const reused = await send(1n, "pay-1");
    expect(reused.status).toBe(409);
    expect(await errorCode(reused)).toBe("operation_id_reused");
    const overdraft = await send(3_000_001n, "pay-2");
    expect(overdraft.status).toBe(409);
    expect(await errorCode(overdraft)).toBe("insufficient_balance");
    const forged = await send(1n, "pay-3", bob);
    expect(forged.status).toBe(401);
    expect(await holderBalance(alice.address)).toBe(3_000_000n);
    expect(await holderBalance(bob.address)).toBe(2_000_000n);
    for (const bad of ["-5", "1".repeat(25), "1.5"]) {
      const res = await admin("/v1/ledger/mint", { id: unique("m"), holder: bob.address, amount: bad });
      expect(res.status).toBe(400);
    }
    const page = await json<{ transfers: { id: string }[]; next: number | null }>(
      await call(`/v1/ledger/transfers?account=balance:${alice.address.toLowerCase()}&limit=1`),
    );
    expect(page.transfers).toHaveLength(1);
    expect(page.next).not.toBeNull();
    const older = await json<{ transfers: { id: string }[] }>(
      await call(`/v1/ledger/transfers?account=balance:${alice.address.toLowerCase()}&limit=1&cursor=${page.next}`),
    );
    expect(older.transfers[0].id).not.toBe(page.transfers[0].id);
    await expectLedgerBalanced();
  });

  it("sets quota from the requestor's stake in the ledger: staking raises it, unstaking drops it at once and unbonds", async () => {
    const created = await json<{ id: string; apiKey: { key: string }; accountKey: { key: string } }>(
      await admin("/v1/requestors", { name: unique("dapp"), stake: "1000000", balance: "5000000" }),
    );
    const key = created.apiKey.key;
    // Staking and unstaking are account actions: they take the account key, never the relay key.
    const accountKey = created.accountKey.key;
    const me = async () =>
      json<{ stake: string; quotaPerSession: number; balance: string; unbonding: unknown[] }>(
        await call("/v1/requestors/me", { headers: { authorization: `Bearer ${key}` } }),
      );
    const move = (path: string, body: unknown) =>
      call(`/v1/requestors/me/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${accountKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect(await me()).toMatchObject({ stake: "1000000", quotaPerSession: 1000, balance: "5000000" });
    expect((await move("stake", { id: "more", amount: "2000000" })).status).toBe(201);
    expect((await move("stake", { id: "more", amount: "2000000" })).status).toBe(200);
    expect(await me()).toMatchObject({ stake: "3000000", quotaPerSession: 3000, balance: "3000000" });
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const session = async () =>
      json<{ quota: number }>(
        await call(`/v1/sessions/current?service=${service}`, { headers: { authorization: `Bearer ${key}` } }),
      );
    expect((await session()).quota).toBe(3000);
    expect((await move("unstake", { id: "out", amount: "3000000" })).status).toBe(201);
    const after = await me();
    expect(after).toMatchObject({ stake: "0", quotaPerSession: 0, balance: "3000000" });
    expect(after.unbonding).toHaveLength(1);
    const second = await createService({ kind: "jsonrpc", chainId: 31337 });
    const plan = await json<{ quota: number }>(
      await call(`/v1/sessions/current?service=${second}`, { headers: { authorization: `Bearer ${key}` } }),
    );
    expect(plan.quota).toBe(0);
    expect(await errorCode(await move("unstake", { id: "again", amount: "1" }))).toBe("insufficient_stake");
  });

  it("takes an unstaking host out of new sessions at once (stake 0) while its stake unbonds", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const hostId = await registerHost(
      { endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris, stake: 2_000_000n },
      operator,
    );
    expect((await json<{ stake: string }>(await call(`/v1/hosts/${hostId}`))).stake).toBe("2000000");
    const res = await postSigned(
      "/v1/stakes/unstake",
      await signEconomyMessage(operator, chainId(), "Unstake", {
        holder: operator.address,
        pool: `host:${hostId}`,
        amount: 2_000_000n,
        id: "leave",
        deadline: inAnHour(),
      }),
    );
    expect(res.status).toBe(201);
    expect((await json<{ stake: string }>(await call(`/v1/hosts/${hostId}`))).stake).toBe("0");
    const pool = await json<{ unbonding: string; bonded: string }>(await call(`/v1/stakes/pools/host:${hostId}`));
    expect(pool).toMatchObject({ bonded: "0", unbonding: "2000000" });
  });

  let boundHost = "";
  const licenceHolder = newOperator();
  const licenceAction = async (licence: string, action: "bind" | "redeem", target: string, id: string) =>
    postSigned(
      `/v1/licences/${licence}/actions`,
      await signEconomyMessage(licenceHolder, chainId(), "LicenceAction", {
        holder: licenceHolder.address,
        licence,
        action,
        target,
        id,
        deadline: inAnHour(),
      }),
    );

  it("mints at most the licence max supply under concurrent mints, and binds a licence to the holder's host as stake", async () => {
    const network = await json<{ licencesMinted: number; licenceMaxSupply: number }>(await call("/v1/network"));
    const room = network.licenceMaxSupply - network.licencesMinted;
    const attempts = await Promise.all(
      Array.from({ length: room + 15 }, (_, i) =>
        admin("/v1/licences", { id: `lic-${i}-${unique("x")}`, holder: licenceHolder.address }),
      ),
    );
    const statuses = attempts.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(room);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    expect((await json<{ licencesMinted: number }>(await call("/v1/network"))).licencesMinted).toBe(network.licenceMaxSupply);
    const mine = await json<{ licences: { id: string }[] }>(await call(`/v1/licences?holder=${licenceHolder.address}&limit=200`));
    const licence = mine.licences[0].id;
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    boundHost = await registerHost(
      { endpoint: testHosts().anvils[1], services: [service], ...PLACES.tokyo, stake: 1_000_000n },
      licenceHolder,
    );
    const bind = await licenceAction(licence, "bind", `host:${boundHost}`, "bind-1");
    expect(bind.status).toBe(201);
    const equivalent = BigInt(gatewayConfig(env).licenceStakeEquivalent);
    expect(BigInt((await json<{ stake: string }>(await call(`/v1/hosts/${boundHost}`))).stake)).toBe(1_000_000n + equivalent);
    await expectLedgerBalanced();
  });

  it("in testnet a slash never liquidates a licence; mainnet freezes minting, commits the genesis hash on-chain and liquidates on slash", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const testnetSlash = await slashHost(db, config, boundHost, `test-slash/${unique("t")}`, Date.now());
    expect(testnetSlash).toMatchObject({ alreadyDone: false, result: { liquidated: [] } });

    const backwards = await admin("/v1/network/phase", { phase: "stabilized" });
    expect(await errorCode(backwards)).toBe("phase_not_allowed");
    const move = await admin("/v1/network/phase", { phase: "mainnet" });
    expect(move.status).toBe(201);
    const network = await json<{ phase: string; genesisHash: string }>(await call("/v1/network"));
    expect(network.phase).toBe("mainnet");
    const genesis = await json<{
      hash: string;
      snapshot: { stakeEquivalent: string; licences: { id: string; serial: number; holder: string; boundTo: string | null }[] };
    }>(await call("/v1/network/genesis"));
    expect(genesisHash(BigInt(genesis.snapshot.stakeEquivalent), genesis.snapshot.licences)).toBe(network.genesisHash);
    const refused = await admin("/v1/licences", { id: unique("late"), holder: licenceHolder.address });
    expect(await errorCode(refused)).toBe("licence_minting_closed");

    await runCron(env, Date.now());
    const chain = JSON.parse(env.TEST_CHAIN) as { rpc: string; contract: `0x${string}` };
    const client = createPublicClient({ transport: http(chain.rpc) });
    expect(await client.readContract({ address: chain.contract, abi: proofRegistryAbi, functionName: "genesisHash" })).toBe(
      network.genesisHash,
    );

    const unbound = genesis.snapshot.licences.find((l) => l.boundTo === null && l.holder === licenceHolder.address.toLowerCase());
    const redeemEarly = await licenceAction(unbound?.id as string, "redeem", "", "redeem-early");
    expect(await errorCode(redeemEarly)).toBe("redemption_closed");

    const mainnetSlash = await slashHost(db, config, boundHost, `test-slash/${unique("m")}`, Date.now());
    expect(mainnetSlash.alreadyDone).toBe(false);
    const liquidated = (mainnetSlash as { result: { liquidated: string[] } }).result.liquidated;
    expect(liquidated).toHaveLength(1);
    expect((await json<{ state: string }>(await call(`/v1/licences/${liquidated[0]}`))).state).toBe("liquidated");
    expect(BigInt((await json<{ stake: string }>(await call(`/v1/hosts/${boundHost}`))).stake)).toBeLessThan(1_000_000n);
    await expectLedgerBalanced();
  });

  it("lets a holder redeem a licence for its stake equivalent once stabilized", async () => {
    expect((await admin("/v1/network/phase", { phase: "stabilized" })).status).toBe(201);
    const live = await json<{ licences: { id: string; state: string }[] }>(
      await call(`/v1/licences?holder=${licenceHolder.address}&limit=200`),
    );
    const licence = live.licences.find((l) => l.state === "live")?.id as string;
    const before = await holderBalance(licenceHolder.address);
    const redeem = await licenceAction(licence, "redeem", "", "redeem-1");
    expect(redeem.status).toBe(201);
    expect(await holderBalance(licenceHolder.address)).toBe(before + BigInt(gatewayConfig(env).licenceStakeEquivalent));
    expect((await json<{ state: string }>(await call(`/v1/licences/${licence}`))).state).toBe("redeemed");
    await expectLedgerBalanced();
  });

  it("settles a verified batch once: charges the requestor, pays hosts by relays x score and the split; a second settlement moves nothing", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const validator = newOperator();
    await fund(validator.address, 20_000_000n);
    const register = await postSigned(
      "/v1/validators",
      await signEconomyMessage(validator, chainId(), "RegisterValidator", {
        validator: validator.address,
        name: "v1",
        id: "register",
        deadline: inAnHour(),
      }),
    );
    expect(register.status).toBe(201);
    const delegate = await postSigned(
      "/v1/stakes",
      await signEconomyMessage(validator, chainId(), "Stake", {
        holder: validator.address,
        pool: `validator:${validator.address.toLowerCase()}`,
        amount: 15_000_000n,
        id: "self-bond",
        deadline: inAnHour(),
      }),
    );
    expect(delegate.status).toBe(201);
    const set = await json<{ validators: { address: string; active: boolean }[] }>(await call("/v1/validators"));
    expect(set.validators.find((v) => v.address === validator.address.toLowerCase())?.active).toBe(true);

    const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 100 });
    const payer = await json<{ id: string }>(
      await admin("/v1/requestors", { name: unique("payer"), stake: "1000000", balance: "1000000" }),
    );
    const operator = newOperator();
    const hostId = await registerHost({ endpoint: testHosts().anvils[2], services: [service], ...PLACES.paris }, operator);
    const sessionId = unique("ses");
    const batchId = unique("batch");
    await db.insert(sessions).values({
      id: sessionId,
      requestorId: payer.id,
      serviceId: service,
      epoch: 1,
      seed: "0x",
      algorithm: "test",
      hostIds: JSON.stringify([hostId]),
      quota: 1000,
      startsAt: 0,
      endsAt: 1,
      createdAt: 0,
      closedAt: 2,
      sessionRoot: "0x",
      relayCount: 400,
      computeUnits: 400,
      // Batched, as cron leaves it: on the libSQL run every file shares this database, and a later
      // cron run (another file's) must not try to batch it again.
      batchId,
    });
    await db.insert(batches).values({
      id: batchId,
      root: "0x",
      reportCardRoot: "0x",
      relayCount: 400,
      computeUnits: 400,
      sessionCount: 1,
      state: "verified",
      nextAttemptAt: 0,
      createdAt: 0,
      updatedAt: 0,
      prover: validator.address.toLowerCase(),
    });
    await db
      .insert(batchSessions)
      .values({ batchId, ordinal: 0, sessionId, sessionSeed: "0x", sessionRoot: "0x", relayCount: 400, computeUnits: 400 });
    await db.insert(sessionHosts).values({ sessionId, hostId, relays: 400, computeUnits: 400 });

    const first = await settleBatch(db, config, batchId, Date.now());
    expect(first.alreadyDone).toBe(false);
    const before = await ledgerSnapshot(db);
    const second = await settleBatch(db, config, batchId, Date.now());
    expect(second.alreadyDone).toBe(true);
    expect((await ledgerSnapshot(db)).accounts).toEqual(before.accounts);

    const settlement = await json<{
      outcome: string;
      charged: number;
      hosts: number;
      treasury: number;
      validators: number;
      burned: number;
      transfers: unknown[];
    }>(await call(`/v1/batches/${batchId}/settlement`));
    // 400 CU x 100 = 40,000 charged. No report card: the host is paid at the 0.5 fallback score.
    expect(settlement).toMatchObject({ outcome: "paid", charged: 40_000, hosts: 15_000, validators: 2_000, burned: 800 });
    expect(settlement.treasury).toBe(40_000 - 15_000 - 2_000 - 2_000 - 1_200 - 800);
    expect(await holderBalance(operator.address)).toBe(15_000n);
    expect(await holderBalance(payer.id)).toBe(1_000_000n - 40_000n);
    await expectLedgerBalanced();
  });
});
