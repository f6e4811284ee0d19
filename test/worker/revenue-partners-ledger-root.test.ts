/**
 * The public side of revenue sharing, chain partners and the ledger root, in workerd on local
 * D1: a service's partner is set by the admin at creation or by PATCH (validated, refused
 * without the admin token), a holder's locked and paid payouts are public, and ledger roots and
 * balance proofs answer 404 with a code for what does not exist and 400 for a malformed holder.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEDGER_ASSET, verifyLedgerProof } from "../../protocol/ledger-root.js";
import { database } from "../../workers/db/database.js";
import { ledgerStatements, single } from "../../workers/db/ledger.js";
import { foldLedgerRoot } from "../../workers/economy/ledger-root.js";
import { runOperation } from "../../workers/economy/operation.js";
import { distributeRevenue, releaseMaturedRevenue } from "../../workers/economy/revenue-sharing.js";
import { admin, call, createService, unique } from "./helpers.js";

const PARTNER = `0x${"7".repeat(40)}`;

describe("chain partner of a service", () => {
  it("is named at creation and changed or removed by PATCH, by the admin only; a bad holder is refused", async () => {
    const id = await createService({
      kind: "jsonrpc",
      chainId: 1,
      allowedMethods: ["debug_*"],
      partner: PARTNER.toUpperCase().replace("0X", "0x"),
    });
    expect(await (await call(`/v1/services/${id}`)).json()).toMatchObject({ id, partner: PARTNER });
    const other = `0x${"8".repeat(40)}`;
    expect((await admin(`/v1/services/${id}`, { partner: other }, "PATCH")).status).toBe(200);
    // Changing the partner leaves the allow list as it was, and the reverse.
    expect(await (await call(`/v1/services/${id}`)).json()).toMatchObject({ partner: other, allowedMethods: ["debug_*"] });
    expect((await admin(`/v1/services/${id}`, { allowedMethods: [] }, "PATCH")).status).toBe(200);
    expect(await (await call(`/v1/services/${id}`)).json()).toMatchObject({ partner: other, allowedMethods: [] });
    const bad = await admin(`/v1/services/${id}`, { partner: "not-a-holder" }, "PATCH");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_field" } });
    const stranger = await call(`/v1/services/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ partner: null }),
    });
    expect(stranger.status).toBe(401);
    expect(await (await call(`/v1/services/${id}`)).json()).toMatchObject({ partner: other });
    expect((await admin(`/v1/services/${id}`, { partner: null }, "PATCH")).status).toBe(200);
    expect(await (await call(`/v1/services/${id}`)).json()).toMatchObject({ partner: null });
    expect((await admin(`/v1/services/${unique("nope")}`, { partner: null }, "PATCH")).status).toBe(404);
  });
});

describe("revenue payouts and ledger proofs (public reads)", () => {
  it("lists a holder's locked then paid payouts, and proves its balance once posted and folded", async () => {
    const db = database(env);
    const holder = `0x${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}${"0".repeat(32)}`;
    const now = Date.now();
    const tag = unique("rev");
    await runOperation(db, { id: `test/fund/${tag}`, kind: "test_fund", request: {} }, now, async () => ({
      statements: ledgerStatements(db, [single(`test/fund/${tag}`, "system:issuance", "system:treasury", 1_000n, "mint")], now),
      result: null,
    }));
    await distributeRevenue(db, {
      operationId: `gov/${tag}`,
      rule: "activity",
      amount: 90n,
      now,
      lockSeconds: 60,
      activity: { [holder]: { votesCast: 1, proposalsMade: 1, proposalsAdopted: 0 } },
    });
    const locked = (await (await call(`/v1/ledger/revenue-payouts/${holder}`)).json()) as {
      locked: string;
      payouts: { state: string; amount: string; activityPart: string }[];
    };
    expect(locked).toMatchObject({ locked: "90", payouts: [{ state: "locked", amount: "90", activityPart: "90" }] });
    expect(await releaseMaturedRevenue(db, now + 60_000)).toBeGreaterThanOrEqual(1);
    expect(await (await call(`/v1/ledger/revenue-payouts/${holder}`)).json()).toMatchObject({
      locked: "0",
      payouts: [{ state: "paid", amount: "90" }],
    });

    const folded = await foldLedgerRoot(db, now + 60_001);
    if (!folded) throw new Error("expected a new epoch");
    const res = await call(`/v1/ledger/balance-proofs/${holder}`);
    expect(res.status).toBe(200);
    const p = (await res.json()) as { epoch: number; root: `0x${string}`; balance: string; proof: `0x${string}`[] };
    expect(p).toMatchObject({ epoch: folded.epoch, root: folded.root, balance: "90" });
    expect(verifyLedgerProof({ holder, asset: LEDGER_ASSET, balance: 90n, epoch: p.epoch }, p.proof, p.root)).toBe(true);
    expect(await (await call(`/v1/ledger/roots/${folded.epoch}`)).json()).toMatchObject({ root: folded.root, state: "pending" });
    const list = (await (await call("/v1/ledger/roots?limit=1")).json()) as { roots: { epoch: number }[] };
    expect(list.roots.map((r) => r.epoch)).toEqual([folded.epoch]);
  });

  it("answers 404 with a code for an unknown epoch or holder, 400 for a malformed holder or epoch", async () => {
    const unknownEpoch = await call("/v1/ledger/roots/999999999");
    expect([unknownEpoch.status, ((await unknownEpoch.json()) as { error: { code: string } }).error.code]).toEqual([
      404,
      "unknown_ledger_root",
    ]);
    const stranger = `0x${"e".repeat(40)}`;
    const notIn = await call(`/v1/ledger/balance-proofs/${stranger}`);
    expect(notIn.status).toBe(404);
    expect(["not_in_ledger_root", "unknown_ledger_root"]).toContain(
      ((await notIn.json()) as { error: { code: string } }).error.code,
    );
    expect((await call("/v1/ledger/balance-proofs/nobody")).status).toBe(400);
    expect((await call(`/v1/ledger/balance-proofs/${stranger}?epoch=0`)).status).toBe(400);
    expect((await call("/v1/ledger/revenue-payouts/nobody")).status).toBe(400);
  });
});
