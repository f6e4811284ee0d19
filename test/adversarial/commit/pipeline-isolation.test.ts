/**
 * The commit pipeline against poison records (hardening finding #1 and the isolation it asks
 * for): a session that cannot close, a session record that cannot be committed, and a batch
 * that cannot settle each fail on their own, with the reason in a public read, while every
 * other session closes, batches, commits and settles, and slashing and unbonding go on.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RelaySession } from "../../../durable-objects/relay-session.js";
import { gatewayConfig } from "../../../workers/config.js";
import { getBatch } from "../../../workers/db/batches.js";
import { database } from "../../../workers/db/database.js";
import { MAX_PIPELINE_ATTEMPTS } from "../../../workers/db/pipeline-failures.js";
import { openJailTerm } from "../../../workers/db/quality.js";
import { unstake } from "../../../workers/economy/staking.js";
import { relaySessionStub } from "../../../workers/sessions/session-stub.js";
import { afterThisEpoch, tick } from "../../commit/pipeline.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  testHosts,
} from "../../worker/helpers.js";

const config = () => gatewayConfig(env);

interface SessionRead {
  closedAt: number | null;
  batchId: string | null;
  computeUnits: number | null;
  pipeline: { step: string; attempts: number; lastError: string; quarantinedAt: number | null } | null;
}
const sessionRead = async (id: string) => (await (await call(`/v1/sessions/${id}`)).json()) as SessionRead;

async function network() {
  const service = await createService({ kind: "jsonrpc", chainId: 31337, computeUnits: { default: 2, methods: {} } });
  await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.frankfurt });
  return service;
}

/** One relay of a new requestor; returns the session it opened. */
async function oneRelay(service: string, body: unknown = eth("eth_blockNumber")) {
  const { key } = await createRequestor();
  const res = await rpc(service, key, body, PLACES.paris);
  expect(res.status).toBe(200);
  return res.headers.get("x-conductor-session") as string;
}

describe("#1 poison records never stop the pipeline", () => {
  it("#1 a relay named after Object.prototype's members is committed like any other", async () => {
    const service = await network();
    const poisoned = await Promise.all(
      ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty"].map((method) =>
        oneRelay(service, { jsonrpc: "2.0", id: 1, method }),
      ),
    );
    const honest = await oneRelay(service);
    const now = afterThisEpoch();
    const report = await tick(now);
    expect(report.failedSteps).toEqual([]);
    for (const id of [...poisoned, honest]) {
      const session = await sessionRead(id);
      expect(session.computeUnits).toBe(2);
      expect(session.batchId).toBeTruthy();
      expect(session.pipeline).toBeNull();
    }
  });

  it("#1 quarantines a session that cannot close and one that cannot be committed; the others land", async () => {
    const service = await network();
    const unclosable = await oneRelay(service);
    const uncommittable = await oneRelay(service);
    const honest = await oneRelay(service);
    // Corrupt storage, as a bug or a bad deployment might: a receipt whose digest is not hex and
    // that has no leaf hash (as one stored before leaf hashes were kept), so its session can never
    // build its tree; and a closed session record with a malformed root.
    await reportReceipts();
    await runInDurableObject(relaySessionStub(env, unclosable), async (_obj: RelaySession, state) => {
      state.storage.sql.exec("UPDATE receipts SET request_digest = '0xzz', leaf_hash = NULL");
    });
    const now = afterThisEpoch();
    await tick(now);
    await env.DB.prepare("UPDATE sessions SET session_root = 'garbage', batch_id = NULL WHERE id = ?").bind(uncommittable).run();
    await env.DB.prepare("DELETE FROM batch_sessions WHERE session_id = ?").bind(uncommittable).run();

    // The honest session closed and was batched in the first run, whatever the unclosable one did.
    const landed = await sessionRead(honest);
    expect(landed.batchId).toBeTruthy();
    const batch = await getBatch(database(env), landed.batchId as string);
    expect(batch?.state === "submitted" || batch?.state === "committed").toBe(true);

    // The unclosable session is retried with backoff, then quarantined with its reason.
    let at = now;
    for (let i = 1; i < MAX_PIPELINE_ATTEMPTS; i++) {
      at += 11 * 60_000; // past the longest backoff
      await tick(at);
    }
    const stuck = await sessionRead(unclosable);
    expect(stuck.closedAt).toBeNull();
    expect(stuck.pipeline).toMatchObject({ step: "close_session", attempts: MAX_PIPELINE_ATTEMPTS });
    expect(stuck.pipeline?.quarantinedAt).not.toBeNull();
    expect(stuck.pipeline?.lastError).toMatch(/hex/);

    // The uncommittable record was quarantined at once, at the batch step, and left out of batches.
    const bad = await sessionRead(uncommittable);
    expect(bad.batchId).toBeNull();
    expect(bad.pipeline).toMatchObject({ step: "batch_session", attempts: 1 });
    expect(bad.pipeline?.quarantinedAt).not.toBeNull();

    const listed = (await (await call("/v1/pipeline/failures?quarantined=true&limit=200")).json()) as {
      failures: { step: string; subject: string }[];
    };
    expect(listed.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ step: "close_session", subject: unclosable }),
        expect.objectContaining({ step: "batch_session", subject: uncommittable }),
      ]),
    );

    // An admin can release a quarantined subject for another try; a refused call changes nothing.
    const retryPath = `/v1/pipeline/failures/close_session/${unclosable}/retry`;
    expect((await call(retryPath, { method: "POST" })).status).toBe(401);
    const released = await call(retryPath, { method: "POST", headers: { authorization: "Bearer test-admin-token" } });
    expect(released.status).toBe(200);
    expect((await sessionRead(unclosable)).pipeline).toBeNull();
  });

  it("#1 a batch that cannot settle never holds back slashing or unbonding returns", async () => {
    const db = database(env);
    const now = afterThisEpoch();
    // A verified batch whose settlement operation id is already taken by a different request.
    const batchId = `0x${crypto.randomUUID().replace(/-/g, "").padEnd(64, "0")}`;
    await env.DB.prepare(
      `INSERT INTO batches (id, root, relay_count, compute_units, report_card_root, session_count, state, attempts,
         next_attempt_at, created_at, updated_at, prover)
       VALUES (?, ?, 1, 1, ?, 1, 'verified', 0, ?, ?, ?, NULL)`,
    )
      .bind(batchId, `0x${"11".repeat(32)}`, `0x${"00".repeat(32)}`, now, now, now)
      .run();
    await env.DB.prepare("INSERT INTO operations (id, kind, request, created_at) VALUES (?, 'settle', '{\"other\":1}', ?)")
      .bind(`sys/settle/${batchId}`, now)
      .run();

    // A jail term to slash and a matured unbonding to return.
    const service = await network();
    const hostId = await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...PLACES.virginia });
    await openJailTerm(db, { hostId, reason: "test", jailedAt: now - 1000, fromEpoch: 0, releaseAfter: now + 3_600_000 });
    const requestor = await createRequestor(5_000_000n);
    const longAgo = now - (config().unbondingSeconds + 60) * 1000;
    const out = await unstake(
      db,
      config(),
      { id: `${requestor.id}/old-out`, holder: requestor.id, kind: "requestor", subject: requestor.id, amount: 1_000_000n },
      longAgo,
    );
    expect(out.alreadyDone).toBe(false);

    const report = await tick(now);
    expect(report.failedSteps).toEqual([]);
    expect(report.slashedJailTerms).toBeGreaterThanOrEqual(1);
    expect(report.releasedUnbondings).toBeGreaterThanOrEqual(1);
    const failure = (await (await call("/v1/pipeline/failures?limit=200")).json()) as {
      failures: { step: string; subject: string; lastError: string }[];
    };
    expect(failure.failures).toEqual(
      expect.arrayContaining([expect.objectContaining({ step: "settle_batch", subject: batchId })]),
    );
    const unbonding = await env.DB.prepare("SELECT state FROM unbondings WHERE id = ?").bind(`${requestor.id}/old-out`).first();
    expect(unbonding?.state).toBe("returned");
    const term = await env.DB.prepare("SELECT slashed_at FROM host_jail WHERE host_id = ?").bind(hostId).first();
    expect(term?.slashed_at).not.toBeNull();
  });
});
