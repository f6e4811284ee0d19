/**
 * REP through the gateway in workerd on D1 (and libSQL in the second run): the genesis pool, REP
 * refusing every transfer (the route and the database itself), availability stakes, a producer
 * draw that a reader recomputes from the public reads alone, signed pool votes with their
 * window's boundary, an accepted pool (REP minted by fees, producer paid at settlement from the
 * treasury's part) and a rejected one (producer's REP to the majority, the batch never settled),
 * releases after their delay, and both ledgers' invariants after each step. The tests run in
 * order: they share the holders below.
 */
import { env } from "cloudflare:workers";
import type { LocalAccount } from "viem";
import { afterAll, describe, expect, it } from "vitest";
import { ledgerViolations } from "../../protocol/ledger.js";
import { drawProducer, encumberedWeightsAt, proRata, repLedgerViolations, repLiquidAccount } from "../../protocol/rep.js";
import { signRepMessage } from "../../protocol/rep-messages.js";
import { batches, batchSessions, sessions } from "../../schema/tables.js";
import { gatewayConfig } from "../../workers/config.js";
import { database } from "../../workers/db/database.js";
import { ledgerSnapshot, single } from "../../workers/db/ledger.js";
import { getPool, repLedgerSnapshot, repLedgerStatements } from "../../workers/db/rep.js";
import { batchesToSettle } from "../../workers/db/settlements.js";
import { settleBatch } from "../../workers/economy/settle-batches.js";
import { drawBatchProducer, resolveOnePool, vote } from "../../workers/rep/pools.js";
import { releaseMaturedRep } from "../../workers/rep/stakes.js";
import { admin, call, createService, inAnHour, newOperator, postSigned, signingDomain, unique } from "./helpers.js";

const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const db = () => database(env);
const config = () => gatewayConfig(env);

const producerA = newOperator();
const producerB = newOperator();
const voters = [newOperator(), newOperator(), newOperator()];
const everyone = [producerA, producerB, ...voters];
const addr = (a: LocalAccount) => a.address.toLowerCase();

async function signed(account: LocalAccount, action: "RepEncumber" | "RepRelease", amount: bigint, id = unique("op")) {
  return signRepMessage(account, signingDomain(), action, { holder: account.address, amount, id, deadline: inAnHour() });
}

async function rep(holder: LocalAccount) {
  return json<{ liquid: string; encumbered: string; releasing: string }>(await call(`/v1/rep/holders/${addr(holder)}`));
}

async function expectBooksBalanced() {
  const r = await repLedgerSnapshot(db());
  expect(repLedgerViolations(r.accounts, r.recomputed, r.transfers)).toEqual([]);
  const l = await ledgerSnapshot(db());
  expect(ledgerViolations(l.accounts, l.recomputed)).toEqual([]);
}

/** A verified batch of one session: 400 compute units at 100 per unit = 40,000 of fees. */
async function verifiedBatch(): Promise<string> {
  const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 100 });
  const payer = await json<{ id: string }>(
    await admin("/v1/requestors", { name: unique("payer"), stake: "1000000", balance: "1000000" }),
  );
  const sessionId = unique("ses");
  const batchId = unique("batch");
  await db().insert(sessions).values({
    id: sessionId,
    requestorId: payer.id,
    serviceId: service,
    epoch: 1,
    seed: "0x",
    algorithm: "test",
    hostIds: "[]",
    quota: 1000,
    startsAt: 0,
    endsAt: 1,
    createdAt: 0,
    closedAt: 2,
    sessionRoot: "0x",
    relayCount: 400,
    computeUnits: 400,
    batchId,
  });
  await db().insert(batches).values({
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
  });
  await db()
    .insert(batchSessions)
    .values({ batchId, ordinal: 0, sessionId, sessionSeed: "0x", sessionRoot: "0x", relayCount: 400, computeUnits: 400 });
  return batchId;
}

async function readPool(id: string) {
  return json<{
    seed: `0x${string}`;
    ledgerSeq: number;
    candidates: { holder: string; weight: string }[];
    producer: string;
    state: string;
    closesAt: number;
    quorum: string;
    minted: string;
    forfeited: string;
    producerReward: string | null;
    votes: { voter: string; accept: boolean; stake: string }[];
  }>(await call(`/v1/rep/pools/${id}`));
}

const after0Quorum = (pool: { quorum?: string }) => BigInt(pool.quorum ?? "0");

async function castVote(voter: LocalAccount, pool: string, accept: boolean, stake: bigint, id = unique("vote")) {
  return postSigned(
    `/v1/rep/pools/${pool}/votes`,
    await signRepMessage(voter, signingDomain(), "RepVote", {
      voter: voter.address,
      pool,
      accept,
      stake,
      id,
      deadline: inAnHour(),
    }),
  );
}

// Other test files of the libSQL run share this database: leave no encumbered REP behind, so
// their batches keep settling without a producer.
afterAll(async () => {
  for (const a of everyone) {
    const { encumbered } = await rep(a);
    if (encumbered !== "0") await postSigned("/v1/rep/release", await signed(a, "RepRelease", BigInt(encumbered)));
  }
});

describe("REP", () => {
  it("starts from one genesis pool; a second allocation is refused, the same one is already done", async () => {
    const allocations = [
      { holder: addr(producerA), amount: "1000" },
      { holder: addr(producerB), amount: "1000" },
      { holder: addr(voters[0]), amount: "500" },
      { holder: addr(voters[1]), amount: "300" },
      { holder: addr(voters[2]), amount: "200" },
    ];
    const first = await admin("/v1/rep/genesis", { allocations });
    expect(first.status).toBe(201);
    expect((await admin("/v1/rep/genesis", { allocations })).status).toBe(200);
    const other = await admin("/v1/rep/genesis", { allocations: [{ holder: addr(voters[0]), amount: "1" }] });
    expect(other.status).toBe(409);
    expect(await errorCode(other)).toBe("rep_genesis_done");
    expect((await call("/v1/rep/genesis", { method: "POST", body: JSON.stringify({ allocations }) })).status).toBe(401);
    const pool = await readPool("genesis");
    expect(pool).toMatchObject({ state: "genesis", minted: "3000" });
    expect(await rep(voters[0])).toMatchObject({ liquid: "500", encumbered: "0" });
    await expectBooksBalanced();
  });

  it("is not transferable: the route refuses, and the database refuses a holder-to-holder movement", async () => {
    const res = await call("/v1/rep/transfers", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("rep_not_transferable");
    const sneaky = single(
      unique("sneak"),
      repLiquidAccount(addr(voters[0])),
      repLiquidAccount(addr(voters[1])),
      10n,
      "vote_forfeit",
    );
    await expect(db().batch(repLedgerStatements(db(), [sneaky], Date.now()) as never)).rejects.toThrow(/CHECK constraint/i);
    const mintOutsidePool = single(unique("mint"), "rep_system:issuance", repLiquidAccount(addr(voters[0])), 10n, "encumber");
    await expect(db().batch(repLedgerStatements(db(), [mintOutsidePool], Date.now()) as never)).rejects.toThrow(
      /CHECK constraint/i,
    );
    expect(await rep(voters[0])).toMatchObject({ liquid: "500" });
    await expectBooksBalanced();
  });

  it("encumbers REP in availability stakes; an overdraft or a bad signature changes nothing", async () => {
    const a = await postSigned("/v1/rep/encumber", await signed(producerA, "RepEncumber", 600n));
    expect(a.status).toBe(201);
    expect((await postSigned("/v1/rep/encumber", await signed(producerB, "RepEncumber", 200n))).status).toBe(201);
    const over = await postSigned("/v1/rep/encumber", await signed(producerB, "RepEncumber", 801n));
    expect(over.status).toBe(409);
    expect(await errorCode(over)).toBe("insufficient_rep");
    const forged = await signed(voters[0], "RepEncumber", 10n);
    const bad = await postSigned("/v1/rep/encumber", { ...forged, message: { ...forged.message, holder: addr(voters[1]) } });
    expect(bad.status).toBe(401);
    expect(await rep(producerA)).toMatchObject({ liquid: "400", encumbered: "600" });
    expect(await rep(producerB)).toMatchObject({ liquid: "800", encumbered: "200" });
    expect(await rep(voters[1])).toMatchObject({ liquid: "300", encumbered: "0" });
    await expectBooksBalanced();
  });

  let accepted = "";
  let acceptedProducer = "";

  it("names each batch's producer by a draw anyone recomputes from the public reads", async () => {
    accepted = await verifiedBatch();
    await drawBatchProducer(db(), config(), accepted, Date.now());
    const pool = await readPool(accepted);
    acceptedProducer = pool.producer;
    expect([addr(producerA), addr(producerB)]).toContain(pool.producer);
    // A reader's recomputation: every REP transfer (public, paginated), the weights up to the
    // draw's ledgerSeq, and the seed from the batch id.
    const transfers = [];
    let cursor: number | null = 0;
    while (cursor !== null) {
      const page: { transfers: Record<string, string | number | null>[]; next: number | null } = await json(
        await call(`/v1/rep/transfers?limit=200&cursor=${cursor}`),
      );
      transfers.push(
        ...page.transfers.map((t) => ({
          ...(t as never as { id: string; debitAccount: string; creditAccount: string; code: string }),
          seq: Number(t.seq),
          amount: BigInt(t.amount as string),
          phase: t.phase as "single",
          pendingId: (t.pendingId as string | null) ?? null,
          reference: (t.reference as string | null) ?? null,
        })),
      );
      cursor = page.next;
    }
    const weights = encumberedWeightsAt(transfers, pool.ledgerSeq);
    expect(weights.map((w) => ({ holder: w.holder, weight: w.weight.toString() }))).toEqual(pool.candidates);
    expect(weights).toEqual(
      [
        { holder: addr(producerA), weight: 600n },
        { holder: addr(producerB), weight: 200n },
      ].sort((x, y) => (x.holder < y.holder ? -1 : 1)),
    );
    expect(drawProducer(pool.seed, weights)).toBe(pool.producer);
    expect(pool.state).toBe("open");
    // The pool holds settlement back while it is open.
    expect((await batchesToSettle(db(), 200, Date.now())).map((b) => b.id)).not.toContain(accepted);
    await expect(settleBatch(db(), config(), accepted, Date.now())).rejects.toThrow(/still open/);
  });

  it("takes signed votes from the other holders within the window; refuses the producer, overdrafts, second votes, late votes", async () => {
    const producer = everyone.find((a) => addr(a) === acceptedProducer) as LocalAccount;
    const own = await castVote(producer, accepted, true, 10n);
    expect(own.status).toBe(403);
    expect(await errorCode(own)).toBe("rep_vote_refused");
    const over = await castVote(voters[2], accepted, true, 201n);
    expect(await errorCode(over)).toBe("insufficient_rep");
    expect((await castVote(voters[0], accepted, true, 300n)).status).toBe(201);
    expect((await castVote(voters[1], accepted, false, 100n)).status).toBe(201);
    const again = await castVote(voters[1], accepted, true, 1n);
    expect(await errorCode(again)).toBe("rep_already_voted");
    const wrongPool = await castVote(voters[2], "genesis", true, 1n);
    expect(await errorCode(wrongPool)).toBe("unknown_rep_pool");
    const pool = await readPool(accepted);
    // Exactly at closesAt the pool is closed; one millisecond before it still takes the vote.
    await expect(
      vote(
        db(),
        { id: unique("late"), voter: addr(voters[2]), pool: accepted, accept: true, stake: 50n, signature: "0x" },
        pool.closesAt,
      ),
    ).rejects.toMatchObject({ code: "rep_pool_closed" });
    const last = await vote(
      db(),
      { id: `${addr(voters[2])}/in-time`, voter: addr(voters[2]), pool: accepted, accept: true, stake: 50n, signature: "0x" },
      pool.closesAt - 1,
    );
    expect(last.alreadyDone).toBe(false);
    expect(await rep(voters[0])).toMatchObject({ liquid: "200" });
    await expect(resolveOnePool(db(), config(), accepted, pool.closesAt - 1)).rejects.toMatchObject({ code: "conflict" });
    await expectBooksBalanced();
  });

  it("accepted: mints REP by the batch's fees to the producer and the majority; the producer's share is paid at settlement", async () => {
    const pool = await readPool(accepted);
    const producerBefore = BigInt((await rep(everyone.find((a) => addr(a) === acceptedProducer) as LocalAccount)).liquid);
    const outcome = await resolveOnePool(db(), config(), accepted, pool.closesAt);
    expect(outcome.alreadyDone).toBe(false);
    const after = await readPool(accepted);
    // Fees 40,000 -> 40,000 REP minted (REP_MINT_BPS 10000), shared by the producer's stake and
    // the accepting stakes (300 + 50); the rejecting 100 goes to the accepting voters 300 : 50.
    expect(after).toMatchObject({ state: "accepted", minted: "40000" });
    const producerStake = acceptedProducer === addr(producerA) ? 600n : 200n;
    const minted = proRata(40_000n, [
      { id: "producer", weight: producerStake },
      { id: "v0", weight: 300n },
      { id: "v2", weight: 50n },
    ]);
    // The rejecting 100 splits 300 : 50 = 85.7 : 14.3 -> 85 + 14, the remainder to the largest (v0).
    expect(BigInt((await rep(everyone.find((a) => addr(a) === acceptedProducer) as LocalAccount)).liquid)).toBe(
      producerBefore + (minted.get("producer") as bigint),
    );
    expect(await rep(voters[0])).toMatchObject({ liquid: String(500n + (minted.get("v0") as bigint) + 86n) });
    expect(await rep(voters[2])).toMatchObject({ liquid: String(200n + (minted.get("v2") as bigint) + 14n) });
    expect((minted.get("producer") as bigint) + (minted.get("v0") as bigint) + (minted.get("v2") as bigint)).toBe(40_000n);
    expect(await rep(voters[1])).toMatchObject({ liquid: "200" });
    expect((await resolveOnePool(db(), config(), accepted, pool.closesAt + 5)).alreadyDone).toBe(true);

    const settlement = await settleBatch(db(), config(), accepted, Date.now());
    expect(settlement.alreadyDone).toBe(false);
    // Revenue 40,000; treasury's part 10 % = 4,000 + the hosts' 75 % (no host work) ; producer 2 % = 800 from it.
    const balance = await json<{ balance: { available: string } }>(await call(`/v1/ledger/holders/${acceptedProducer}`));
    expect(balance.balance.available).toBe("800");
    expect((await readPool(accepted)).producerReward).toBe("800");
    if (!settlement.alreadyDone) expect(settlement.result.treasury).toBe(40_000 - 2_000 - 2_000 - 1_200 - 800 - 800);
    await expectBooksBalanced();
  });

  it("rejected: the producer's encumbered REP goes to the majority and the batch is never settled", async () => {
    const batch = await verifiedBatch();
    await drawBatchProducer(db(), config(), batch, Date.now());
    const pool = await readPool(batch);
    const producer = everyone.find((a) => addr(a) === pool.producer) as LocalAccount;
    const encumbered = BigInt((await rep(producer)).encumbered);
    // The producer cannot pull its REP out while its pool is open.
    const early = await postSigned("/v1/rep/release", await signed(producer, "RepRelease", 1n));
    expect(early.status).toBe(409);
    expect(await errorCode(early)).toBe("rep_producer_busy");
    const before0 = BigInt((await rep(voters[0])).liquid);
    const before1 = BigInt((await rep(voters[1])).liquid);
    // The quorum is 10 % of the supply when the pool opened (43,000): 4,300 staked at least.
    expect(after0Quorum(pool)).toBe(4_300n);
    expect((await castVote(voters[0], batch, false, 5_000n)).status).toBe(201);
    expect((await castVote(voters[1], batch, false, 100n)).status).toBe(201);
    expect((await castVote(voters[2], batch, true, 50n)).status).toBe(201);
    await resolveOnePool(db(), config(), batch, pool.closesAt);
    const after = await readPool(batch);
    expect(after).toMatchObject({ state: "rejected", minted: "0", forfeited: String(encumbered) });
    expect(await rep(producer)).toMatchObject({ encumbered: "0" });
    // The producer's encumbered REP and the accepting 50 go to the rejecting voters 5,000 : 100.
    const gained = BigInt((await rep(voters[0])).liquid) - before0 + BigInt((await rep(voters[1])).liquid) - before1;
    expect(gained).toBe(encumbered + 50n);
    expect((await batchesToSettle(db(), 200, Date.now())).map((b) => b.id)).not.toContain(batch);
    await expect(settleBatch(db(), config(), batch, Date.now())).rejects.toThrow(/rejected/);
    await expectBooksBalanced();
  });

  it("releases encumbered REP: it stops weighing at once and returns after the delay", async () => {
    const holder = (await rep(producerA)).encumbered !== "0" ? producerA : producerB;
    const encumbered = BigInt((await rep(holder)).encumbered);
    const liquid = BigInt((await rep(holder)).liquid);
    const res = await postSigned("/v1/rep/release", await signed(holder, "RepRelease", encumbered));
    expect(res.status).toBe(201);
    const body = await json<{ result: { maturesAt: number } }>(res);
    expect(await rep(holder)).toMatchObject({ encumbered: "0", releasing: String(encumbered), liquid: String(liquid) });
    const supply = await json<{ stakes: { holder: string }[] }>(await call("/v1/rep/supply"));
    expect(supply.stakes.map((s) => s.holder)).not.toContain(addr(holder));
    expect(await releaseMaturedRep(db(), body.result.maturesAt - 1)).toBe(0);
    expect(await releaseMaturedRep(db(), body.result.maturesAt)).toBeGreaterThanOrEqual(1);
    expect(await rep(holder)).toMatchObject({ encumbered: "0", releasing: "0", liquid: String(liquid + encumbered) });
    await expectBooksBalanced();
  });

  it("draws no producer when nobody has encumbered REP: the batch settles as before", async () => {
    for (const a of everyone) {
      const { encumbered } = await rep(a);
      if (encumbered !== "0")
        expect((await postSigned("/v1/rep/release", await signed(a, "RepRelease", BigInt(encumbered)))).status).toBe(201);
    }
    const batch = await verifiedBatch();
    await drawBatchProducer(db(), config(), batch, Date.now());
    const pool = await getPool(db(), batch);
    expect(pool?.state).toBe("no_producer");
    expect((await settleBatch(db(), config(), batch, Date.now())).alreadyDone).toBe(false);
    const listed = await json<{ pools: { id: string }[] }>(await call("/v1/rep/pools?limit=200"));
    expect(listed.pools.map((p) => p.id)).toEqual(expect.arrayContaining([batch, accepted, "genesis"]));
  });
});
