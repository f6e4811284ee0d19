/**
 * Committed probe plans against a fisherman that picks its probes itself (issue 15, part 3): the
 * validator proves a batch whose fisherman followed its committed plan, and refuses, saying why,
 * one whose samples are not the probes the plan derives (a probe chosen after seeing answers) or
 * whose revealed seed is not the committed one (a plan fitted afterwards). The deviations are
 * made in the fisherman's own storage before it writes its cards (so the cards, the report-card
 * root and the commitment on-chain agree with them), and in D1, as a dishonest operator would.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import type { Fisherman } from "../../../durable-objects/fisherman.js";
import { proveBatch } from "../../../validator/verify-batch.js";
import { gatewayConfig } from "../../../workers/config.js";
import { fishermanStub } from "../../../workers/sessions/session-stub.js";
import { afterThisEpoch, chain, mine, tick, validator } from "../../commit/pipeline.js";
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

const _config = () => gatewayConfig(env);
const ADDRESS = "0x00000000000000000000000000000000000c0ffe";

/** A session on the anvil hosts with traffic to imitate and `rounds` probe rounds; returns its id. */
async function probedSession(rounds: number): Promise<string> {
  const service = await createService({ kind: "jsonrpc", chainId: 31337 });
  for (const [i, place] of [PLACES.frankfurt, PLACES.virginia, PLACES.singapore].entries()) {
    await registerHost({ endpoint: testHosts().anvils[i], services: [service], ...place });
  }
  const { key } = await createRequestor();
  let sessionId = "";
  for (const [method, params] of [
    ["eth_getBalance", [ADDRESS, "latest"]],
    ["eth_getCode", [ADDRESS, "latest"]],
    ["eth_getTransactionCount", [ADDRESS, "latest"]],
  ] as const) {
    const res = await rpc(service, key, eth(method, 1, [...params]), PLACES.paris);
    expect(res.status).toBe(200);
    sessionId = res.headers.get("x-conductor-session") as string;
  }
  await reportReceipts();
  for (let i = 0; i < rounds; i++) expect(await runDurableObjectAlarm(fishermanStub(env, sessionId))).toBe(true);
  return sessionId;
}

async function committedBatch(sessionId: string): Promise<Hex> {
  const now = afterThisEpoch();
  await tick(now); // close (the fisherman writes its cards and reveals its plan), batch, submit
  await tick(now); // confirm
  const { batchId } = (await (await call(`/v1/sessions/${sessionId}`)).json()) as { batchId: Hex };
  const batch = (await (await call(`/v1/batches/${batchId}`)).json()) as { state: string; sessions: { sessionId: string }[] };
  expect(batch.state).toBe("committed");
  expect(batch.sessions.map((s) => s.sessionId)).toContain(sessionId);
  await mine(chain().challengeDelay + 1);
  return batchId;
}

const inFisherman = <T>(sessionId: string, fn: (sql: SqlStorage) => T) =>
  runInDurableObject(fishermanStub(env, sessionId) as unknown as DurableObjectStub<Fisherman>, (_i, state) =>
    fn(state.storage.sql),
  );

describe("#issue-15 committed probe plans, checked by the validator", () => {
  it("proves a batch whose fisherman followed its committed plan", async () => {
    const sessionId = await probedSession(2);
    const batchId = await committedBatch(sessionId);
    const cards = (await (await call(`/v1/report-cards?session=${sessionId}`)).json()) as { cards: { samples: number }[] };
    expect(cards.cards.every((c) => c.samples === 10)).toBe(true); // 2 rounds of the head and 4 traffic calls
    expect(await proveBatch(validator(), batchId)).toMatchObject({ status: "proved" });
  });

  it("refuses a batch whose fisherman sent a probe of its own choosing instead of the planned one", async () => {
    const sessionId = await probedSession(2);
    // The operator swaps one planned probe for a call it picked itself (say, one it knows the
    // host fails), before the cards are written: cards and commitments all agree with it.
    const swapped = JSON.stringify(["eth_getBalance", ["0x000000000000000000000000000000000000dead", "0x1"]]);
    await inFisherman(sessionId, (sql) =>
      sql.exec(
        "UPDATE samples SET probe = 'eth_getBalance', request = ? WHERE id = (SELECT id FROM samples WHERE round = 1 AND seq = 2 ORDER BY id LIMIT 1)",
        swapped,
      ),
    );
    const batchId = await committedBatch(sessionId);
    const verdict = await proveBatch(validator(), batchId);
    expect(verdict.status).toBe("refused");
    expect(verdict.status === "refused" && verdict.reason).toMatch(
      new RegExp(
        `^session ${sessionId}: probe plan: round 1: host host_\\w+ probe 2 was eth_getBalance \\["eth_getBalance",\\["0x0+dead","0x1"\\]\\] where the plan derives `,
      ),
    );
  });

  it("refuses a batch whose revealed seed is not the one committed at the session's opening", async () => {
    const sessionId = await probedSession(1);
    const batchId = await committedBatch(sessionId);
    await env.DB.prepare("UPDATE sessions SET probe_plan_seed = ? WHERE id = ?")
      .bind(`0x${"5e".repeat(32)}`, sessionId)
      .run();
    const verdict = await proveBatch(validator(), batchId);
    expect(verdict.status).toBe("refused");
    expect(verdict.status === "refused" && verdict.reason).toMatch(
      new RegExp(
        `^session ${sessionId}: probe plan: the revealed seed hashes to 0x[0-9a-f]{64}, not to the committed 0x[0-9a-f]{64}$`,
      ),
    );
  });
});
