/**
 * Finding #10: licences. (a) Every licence change is conditional on the row being what the
 * operation read, so of two racing actions on one licence exactly one wins and the other changes
 * nothing. (b) Unbinding starts an unbinding period: the licence stops counting as the host's
 * stake at once but stays liquidatable by a slash of that host until the period ends, and cannot
 * be transferred, redeemed or bound again before then.
 *
 * The tests run in order: the last one needs the network stabilized (see `phaseAtLeast`).
 */
import { env } from "cloudflare:workers";
import type { LocalAccount } from "viem";
import { describe, expect, it } from "vitest";
import { gatewayConfig } from "../../../workers/config.js";
import { database } from "../../../workers/db/database.js";
import { bindLicence, redeemLicence, transferLicence } from "../../../workers/economy/licences.js";
import { slashHost } from "../../../workers/economy/slash-jailed.js";
import { ApiError } from "../../../workers/errors.js";
import { call, createService, newOperator, PLACES, registerHost, testHosts, unique } from "../../worker/helpers.js";
import {
  errorOf,
  expectLedgerBalanced,
  fixtureLicence,
  holderBalance,
  json,
  licenceAction,
  phaseAtLeast,
} from "./economy-fixtures.js";

interface LicenceView {
  id: string;
  holder: string;
  boundTo: string | null;
  state: string;
  unbindingFrom?: string | null;
  unbindingUntil?: number | null;
}

const licence = async (id: string) => json<LicenceView>(await call(`/v1/licences/${id}`));
const hostStake = async (hostId: string) => BigInt((await json<{ stake: string }>(await call(`/v1/hosts/${hostId}`))).stake);

/** A holder operating a registered host, so its licences can be bound. */
async function holderWithHost(): Promise<{ holder: LocalAccount; hostId: string }> {
  const holder = newOperator();
  const service = await createService({ kind: "jsonrpc", chainId: 31337 });
  const hostId = await registerHost(
    { endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris, stake: 1_000_000n },
    holder,
  );
  return { holder, hostId };
}

/**
 * Runs two signed actions at once and checks that exactly one won. The loser gets 409
 * (`licence_changed` when both read the licence before either wrote) or, when it read the
 * winner's result, the refusal that state calls for; either way it changed nothing.
 */
async function race(a: () => Promise<Response>, b: () => Promise<Response>) {
  const [ra, rb] = await Promise.all([a(), b()]);
  const statuses = [ra.status, rb.status];
  expect(
    statuses.filter((s) => s === 201),
    `statuses ${statuses}`,
  ).toHaveLength(1);
  const loser = ra.status === 201 ? rb : ra;
  expect([409, 403]).toContain(loser.status);
  return { winner: ra.status === 201 ? ("a" as const) : ("b" as const), loserCode: (await errorOf(loser)).code };
}

/** The outcome of an economy operation: "ok", or the refusal's status and code. */
async function outcomeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return "ok";
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
}

/**
 * Runs two operations on one licence at once through the economy layer, so that both read the
 * licence before either writes (signed requests through the gateway verify a signature first,
 * which in workerd staggers them enough that the second usually reads the first's result).
 */
async function directRace(a: Promise<unknown>, b: Promise<unknown>) {
  const outcomes = await Promise.all([outcomeOf(a), outcomeOf(b)]);
  expect(
    outcomes.filter((o) => o === "ok"),
    `outcomes ${outcomes}`,
  ).toHaveLength(1);
  const loser = outcomes.find((o) => o !== "ok") as string;
  expect(loser).toMatch(/^(409 licence_changed|403 not_licence_holder|409 licence_bound|409 licence_ended)$/);
  return { winner: outcomes[0] === "ok" ? ("a" as const) : ("b" as const), loser };
}

const opId = (holder: LocalAccount) => `${holder.address.toLowerCase()}/${unique("op")}`;

describe("#10 licences", () => {
  it("#10 lets exactly one of two racing licence changes (two transfers, a bind and a transfer) succeed when both read the licence before either writes", async () => {
    const db = database(env);
    const { holder, hostId } = await holderWithHost();
    const h = holder.address.toLowerCase();
    const losers: string[] = [];
    for (let round = 0; round < 12; round++) {
      const [first, second] = [newOperator().address.toLowerCase(), newOperator().address.toLowerCase()];
      const id = await fixtureLicence(h);
      const now = Date.now();
      const transfers = await directRace(
        transferLicence(db, { id: opId(holder), holder: h, licence: id, to: first }, now),
        transferLicence(db, { id: opId(holder), holder: h, licence: id, to: second }, now),
      );
      losers.push(transfers.loser);
      expect(await licence(id)).toMatchObject({ holder: transfers.winner === "a" ? first : second, boundTo: null });

      const other = await fixtureLicence(h);
      const bindOrTransfer = await directRace(
        bindLicence(db, gatewayConfig(env), { id: opId(holder), holder: h, licence: other, target: `host:${hostId}` }, now),
        transferLicence(db, { id: opId(holder), holder: h, licence: other, to: first }, now),
      );
      losers.push(bindOrTransfer.loser);
      // Never both: a licence held by someone else yet bound to the old holder's host.
      expect(await licence(other)).toMatchObject(
        bindOrTransfer.winner === "a" ? { holder: h, boundTo: `host:${hostId}` } : { holder: first, boundTo: null },
      );
    }
    // The races were real: the losers read the licence before the winner wrote it.
    expect(losers.filter((l) => l === "409 licence_changed").length).toBeGreaterThan(0);
    await expectLedgerBalanced();
  });

  it("#10 lets exactly one of two racing signed licence actions succeed through the API; the loser changes nothing", async () => {
    const { holder, hostId } = await holderWithHost();
    for (let round = 0; round < 12; round++) {
      const [first, second] = [newOperator().address.toLowerCase(), newOperator().address.toLowerCase()];
      const id = await fixtureLicence(holder.address);
      const transfers = await race(
        () => licenceAction(holder, id, "transfer", first),
        () => licenceAction(holder, id, "transfer", second),
      );
      expect(await licence(id)).toMatchObject({ holder: transfers.winner === "a" ? first : second, boundTo: null });
      const other = await fixtureLicence(holder.address);
      const bindOrTransfer = await race(
        () => licenceAction(holder, other, "bind", `host:${hostId}`),
        () => licenceAction(holder, other, "transfer", first),
      );
      expect(await licence(other)).toMatchObject(
        bindOrTransfer.winner === "a"
          ? { holder: holder.address.toLowerCase(), boundTo: `host:${hostId}` }
          : { holder: first, boundTo: null },
      );
    }
    await expectLedgerBalanced();
  });

  it("#10 keeps an unbound licence liquidatable with its host for the unbonding period, locked against transfer and re-binding", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const { holder, hostId } = await holderWithHost();
    const id = await fixtureLicence(holder.address);
    expect((await licenceAction(holder, id, "bind", `host:${hostId}`)).status).toBe(201);
    expect(await hostStake(hostId)).toBe(1_000_000n + config.licenceStakeEquivalent);

    const unbound = Date.now();
    expect((await licenceAction(holder, id, "bind", "")).status).toBe(201);
    // It stops counting as the host's stake at once.
    expect(await hostStake(hostId)).toBe(1_000_000n);

    // Locked until the period ends: no transfer, no binding again.
    const transfer = await licenceAction(holder, id, "transfer", newOperator().address.toLowerCase());
    expect(transfer.status).toBe(409);
    expect((await errorOf(transfer)).code).toBe("licence_unbinding");
    const rebind = await licenceAction(holder, id, "bind", `host:${hostId}`);
    expect(rebind.status).toBe(409);
    expect((await errorOf(rebind)).code).toBe("licence_unbinding");
    const view = await licence(id);
    expect(view).toMatchObject({ boundTo: null, unbindingFrom: `host:${hostId}` });
    expect(view.unbindingUntil).toBeGreaterThanOrEqual(unbound + config.unbondingSeconds * 1000);
    expect(await licence(id)).toMatchObject({ holder: holder.address.toLowerCase(), boundTo: null, state: "live" });

    // A slash of the host during the period liquidates it (from mainnet on; testnet never liquidates).
    const liquidates = await phaseAtLeast("mainnet");
    const during = await slashHost(db, config, hostId, `adv-slash/${unique("during")}`, Date.now());
    const liquidated = (during as { result: { liquidated: string[] } }).result.liquidated;
    expect(liquidated).toEqual(liquidates ? [id] : []);
    expect((await licence(id)).state).toBe(liquidates ? "liquidated" : "live");
    await expectLedgerBalanced();
  });

  it("#10 frees an unbound licence once its unbonding period has passed: a later slash of the host leaves it alone and it can be transferred", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const { holder, hostId } = await holderWithHost();
    const taker = newOperator().address.toLowerCase();
    const id = await fixtureLicence(holder.address);
    expect((await licenceAction(holder, id, "bind", `host:${hostId}`)).status).toBe(201);
    expect((await licenceAction(holder, id, "bind", "")).status).toBe(201);
    const until = (await licence(id)).unbindingUntil as number;
    expect(until).toBeGreaterThan(Date.now());
    await phaseAtLeast("mainnet");
    const after = until + 1;
    const late = await slashHost(db, config, hostId, `adv-slash/${unique("after")}`, after);
    expect((late as { result: { liquidated: string[] } }).result.liquidated).not.toContain(id);
    const moved = await transferLicence(
      db,
      { id: `${holder.address.toLowerCase()}/${unique("t")}`, holder: holder.address.toLowerCase(), licence: id, to: taker },
      after,
    );
    expect(moved.alreadyDone).toBe(false);
    expect(await licence(id)).toMatchObject({ holder: taker, state: "live", boundTo: null });
    await expectLedgerBalanced();
  });

  it("#10 lets only one of a racing transfer and redeem of a licence succeed", async () => {
    const db = database(env);
    const config = gatewayConfig(env);
    const holder = newOperator();
    const h = holder.address.toLowerCase();
    const stabilized = await phaseAtLeast("stabilized");
    const equivalent = config.licenceStakeEquivalent;
    const check = async (id: string, taker: string, redeemed: boolean, before: bigint) => {
      if (redeemed) {
        expect(await licence(id)).toMatchObject({ state: "redeemed", holder: h });
        expect(await holderBalance(h)).toBe(before + equivalent);
      } else {
        expect(await licence(id)).toMatchObject({ state: "live", holder: taker });
        expect(await holderBalance(h)).toBe(before);
      }
    };
    for (let round = 0; round < 12; round++) {
      // Both read the licence before either writes.
      const taker = newOperator().address.toLowerCase();
      const id = await fixtureLicence(h);
      const before = await holderBalance(h);
      // The redeem starts first: it reads the phase before the licence, the transfer does not.
      const [redeemed, transferred] = await Promise.all([
        outcomeOf(redeemLicence(db, config, { id: opId(holder), holder: h, licence: id }, Date.now())),
        outcomeOf(transferLicence(db, { id: opId(holder), holder: h, licence: id, to: taker }, Date.now())),
      ]);
      expect(
        [redeemed, transferred].filter((o) => o === "ok"),
        `redeem ${redeemed}, transfer ${transferred}`,
      ).toHaveLength(1);
      // Before stabilization redemption is closed, so the transfer always wins there.
      if (!stabilized) expect(redeemed).toBe("409 redemption_closed");
      await check(id, taker, redeemed === "ok", before);

      // The same through signed requests.
      const signedId = await fixtureLicence(h);
      const signedBefore = await holderBalance(h);
      const [transfer, redeem] = await Promise.all([
        licenceAction(holder, signedId, "transfer", taker),
        licenceAction(holder, signedId, "redeem"),
      ]);
      expect([transfer.status, redeem.status].filter((s) => s === 201)).toHaveLength(1);
      await check(signedId, taker, redeem.status === 201, signedBefore);
    }
    await expectLedgerBalanced();
  });
});
