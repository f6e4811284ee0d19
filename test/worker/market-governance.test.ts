/**
 * The market's price bounds under governance (docs/market.md, docs/governance.md): a
 * `parameter_change` proposal driven through its lifecycle with explicit clocks moves
 * `marketMaxPrice`, and offer publication (`PUT /v1/offers`) follows the bound in force; an offer
 * already published outside the new bounds stops being in effect (the public read omits it and a
 * session selected then charges the service's price) until its host publishes one within them; a
 * change that would put the minimum above the maximum is refused when proposed, and when it
 * executes after another change that crossed it.
 *
 * Files share this database: the change in force now lowers the maximum from 1,000,000 to 900,000
 * (no other file offers between the two); the crossing changes take effect about eight days from
 * now, after every test of the run.
 */
import { env } from "cloudflare:workers";
import type { LocalAccount } from "viem";
import { describe, expect, it } from "vitest";
import { sessionEpoch } from "../../protocol/session.js";
import { type GatewayConfig, gatewayConfig } from "../../workers/config.js";
import { database } from "../../workers/db/database.js";
import { getProposal } from "../../workers/db/governance.js";
import { ApiError } from "../../workers/errors.js";
import { governedConfig } from "../../workers/governance/parameters.js";
import { castVote, executeProposal, openVoting, propose, queueProposal } from "../../workers/governance/proposals.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  fund,
  newOperator,
  operatorNonce,
  PLACES,
  registerHost,
  rpc,
  testHosts,
  unique,
} from "./helpers.js";
import { publishOffer } from "./market-helpers.js";

const db = () => database(env);
/** A voter that makes the quorum alone. */
const BIG = 10_000_000_000_000n;
const DAY = 86_400_000;
const addr = (a: LocalAccount) => a.address.toLowerCase();
const config = (now: number): Promise<GatewayConfig> => governedConfig(db(), gatewayConfig(env), now, true);

async function refused(work: Promise<unknown>, code: string) {
  const error = await work.then(
    () => null,
    (e) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe(code);
}

const proposeChange = (proposer: LocalAccount, now: number, name: string, value: number) =>
  config(now).then((c) =>
    propose(
      db(),
      c,
      {
        operation: `${addr(proposer)}/${unique("p")}`,
        proposer: addr(proposer),
        kind: "parameter_change",
        title: `${name} to ${value}`,
        description: "",
        payload: JSON.stringify({ name, value: String(value) }),
        citations: [],
      },
      now,
    ),
  );

/** Proposes a change at `t0`, opens voting after review, votes it through with `voter`, queues it: returns the proposal. */
async function queuedChange(voter: LocalAccount, t0: number, name: string, value: number) {
  const outcome = await proposeChange(voter, t0, name, value);
  if (outcome.alreadyDone) throw new Error("unexpected retry");
  const id = outcome.result.proposal;
  const c = await config(t0);
  const open = t0 + c.reviewSeconds * 1000 + 1000;
  await openVoting(db(), c, id, open);
  const p = await getProposal(db(), id);
  const votes = p?.mode === "quadratic" ? 3_162_277n : 0n;
  await castVote(db(), { proposal: id, voter: addr(voter), support: 1, votes, signature: "0x" }, open);
  await queueProposal(db(), c, id, (p?.votingEnds ?? 0) + 1000);
  return (await getProposal(db(), id)) as NonNullable<Awaited<ReturnType<typeof getProposal>>>;
}

const offersOf = async (service: string) =>
  ((await (await call(`/v1/offers?service=${service}`)).json()) as { offers: { hostId: string; pricePerComputeUnit: number }[] })
    .offers;

describe("governed market price bounds", () => {
  it("a proposal lowers marketMaxPrice: offers above it are refused, the bound is accepted, and an offer already above it stops being in effect", async () => {
    const base = gatewayConfig(env);
    expect([base.marketMinPrice, base.marketMaxPrice]).toEqual([1, 1_000_000]);
    const service = await createService({ kind: "jsonrpc", chainId: 31337, pricePerComputeUnit: 50 });
    const operator = newOperator();
    const host = await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.frankfurt }, operator);
    // Published under the configuration's bounds (1 to 1,000,000).
    expect((await publishOffer(operator, { hostId: host, serviceId: service, pricePerComputeUnit: 950_000n })).status).toBe(200);
    expect(await offersOf(service)).toMatchObject([{ hostId: host, pricePerComputeUnit: 950_000 }]);

    // The change, proposed nine days ago: its timelock ended yesterday, so it holds from the epoch after yesterday's.
    const voter = newOperator();
    await fund(addr(voter), BIG);
    const p = await queuedChange(voter, Date.now() - 9 * DAY, "marketMaxPrice", 900_000);
    const executedAt = p.eta ?? 0;
    expect(executedAt).toBeLessThan(Date.now() - DAY / 2);
    const done = await executeProposal(db(), await config(executedAt), p.id, executedAt);
    expect(done.alreadyDone ? null : done.result).toMatchObject({
      parameter: "marketMaxPrice",
      value: 900_000n,
      effectiveEpoch: sessionEpoch(executedAt, base.sessionSeconds) + 1,
    });
    const view = (await (await call("/v1/governance/parameters")).json()) as {
      parameters: { name: string; value: string; default: string; min: string; max: string }[];
    };
    expect(view.parameters.find((x) => x.name === "marketMaxPrice")).toMatchObject({
      value: "900000",
      default: "1000000",
      min: "1",
      max: "1000000000",
    });

    // The offer above the new maximum is no longer in effect: the public read omits it, and a
    // session selected now charges the host the service's price.
    expect(await offersOf(service)).toEqual([]);
    const requestor = await createRequestor();
    const relay = await rpc(service, requestor.key, eth("eth_blockNumber"), PLACES.paris);
    expect(relay.status).toBe(200);
    const session = (await (await call(`/v1/sessions/${relay.headers.get("x-conductor-session")}`)).json()) as {
      hostPrices: string;
    };
    expect(JSON.parse(session.hostPrices)).toEqual({ [host]: 50 });

    // A new offer above it is refused and spends no nonce; the bound itself is accepted and in effect at once (dev mode).
    const nonce = await operatorNonce(operator);
    const tooDear = await publishOffer(operator, { hostId: host, serviceId: service, pricePerComputeUnit: 900_001n });
    expect(tooDear.status).toBe(400);
    const body = (await tooDear.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("offer_price_out_of_bounds");
    expect(body.error.message).toMatch(/from 1 to 900000 /);
    expect(await operatorNonce(operator)).toBe(nonce);
    expect((await publishOffer(operator, { hostId: host, serviceId: service, pricePerComputeUnit: 900_000n })).status).toBe(200);
    expect(await offersOf(service)).toMatchObject([{ hostId: host, pricePerComputeUnit: 900_000 }]);
  });

  it("refuses a change that would put marketMinPrice above marketMaxPrice, when proposed and when executed after a crossing change", async () => {
    const voter = newOperator();
    await fund(addr(voter), BIG);
    const t0 = Date.now();
    const current = await config(t0);
    // Above the maximum in force (or pending): refused at once, nothing recorded.
    await refused(proposeChange(voter, t0, "marketMinPrice", current.marketMaxPrice + 1), "parameter_bounds_conflict");
    await refused(proposeChange(voter, t0, "marketMaxPrice", 0), "invalid_payload");
    await refused(proposeChange(voter, t0, "marketMaxPrice", 1_000_000_001), "invalid_payload");

    // Two proposals, each fine alone: a minimum raised to 800,000, a maximum lowered to 700,000.
    const raiseMin = await queuedChange(voter, t0, "marketMinPrice", 800_000);
    const lowerMax = await queuedChange(voter, t0, "marketMaxPrice", 700_000);
    const at = Math.max(raiseMin.eta ?? 0, lowerMax.eta ?? 0);
    expect((await executeProposal(db(), await config(at), raiseMin.id, at)).alreadyDone).toBe(false);
    // The second would cross the first: refused, still queued, no change recorded.
    await refused(executeProposal(db(), await config(at), lowerMax.id, at), "parameter_bounds_conflict");
    expect((await getProposal(db(), lowerMax.id))?.state).toBe("queued");
    const later = await config(at + 2 * current.sessionSeconds * 1000);
    expect([later.marketMinPrice, later.marketMaxPrice]).toEqual([800_000, current.marketMaxPrice]);
  });
});
