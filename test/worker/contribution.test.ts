/**
 * Contribution records and citation rewards in workerd (D1, then libSQL): a record per proposal,
 * refused citations, records the database keeps immutable, an executed proposal's reward flowing
 * along its citations with exact amounts, and the records' root committed to ProofRegistry with
 * any record's inclusion proof checked by protocol/ and by the contract.
 */
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { createPublicClient, type Hex, http, keccak256, toBytes } from "viem";
import { describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import { ISSUANCE_ACCOUNT, ledgerViolations, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { verifyProof } from "../../protocol/merkle.js";
import { proposalCitations, proposals } from "../../schema/tables.js";
import { registryChain } from "../../workers/chain/registry-client.js";
import { gatewayConfig } from "../../workers/config.js";
import { database } from "../../workers/db/database.js";
import { ledgerSnapshot, ledgerStatements, operationStatement, single } from "../../workers/db/ledger.js";
import {
  adoptProposal,
  commitContributionRoot,
  recordContribution,
  syncProposalContributions,
} from "../../workers/rep/contributions.js";
import { call, newOperator, unique } from "./helpers.js";

const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;
const db = () => database(env);
const authors = [newOperator(), newOperator(), newOperator(), newOperator()].map((a) => a.address.toLowerCase());
const ids = ["p1", "p2", "p3", "p4"].map((p) => unique(p));
const hashOf = (id: string) => keccak256(toBytes(`content of ${id}`));

/** The error's messages down its causes (drizzle wraps the driver's error). */
async function refusal(write: Promise<unknown>): Promise<string> {
  try {
    await write;
  } catch (error) {
    const messages = [];
    for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
      messages.push(e instanceof Error ? e.message : String(e));
    return messages.join(" <- ");
  }
  return "not refused";
}

async function balanceOf(holder: string) {
  const body = await json<{ balance: { available: string } }>(await call(`/v1/ledger/holders/${holder}`));
  return BigInt(body.balance.available);
}

describe("contribution records", () => {
  it("records every proposal once; refuses unknown, self and duplicate citations", async () => {
    const now = Date.now();
    // p1 <- p2 <- p3, and p4 cites p2 and p3 (a diamond over p2).
    const cites = [[], [ids[0]], [ids[1]], [ids[1], ids[2]]];
    for (const [i, id] of ids.entries()) {
      const outcome = await recordContribution(
        db(),
        { proposalId: id, contentHash: hashOf(id), author: authors[i], citations: cites[i], createdAt: now + i },
        now,
      );
      expect(outcome.alreadyDone).toBe(false);
    }
    const base = { contentHash: hashOf("x"), author: authors[0], createdAt: now };
    await expect(recordContribution(db(), { ...base, proposalId: unique("q"), citations: ["nope"] }, now)).rejects.toMatchObject({
      code: "unknown_contribution",
    });
    const self = unique("self");
    await expect(recordContribution(db(), { ...base, proposalId: self, citations: [self] }, now)).rejects.toMatchObject({
      code: "invalid_field",
    });
    await expect(
      recordContribution(db(), { ...base, proposalId: unique("dup"), citations: [ids[0], ids[0]] }, now),
    ).rejects.toMatchObject({ code: "invalid_field" });
    const record = await json<{ citations: string[]; serviceRecord: boolean; ordinal: number }>(
      await call(`/v1/contributions/${ids[3]}`),
    );
    expect(record).toMatchObject({ citations: [ids[1], ids[2]].sort(), serviceRecord: false });
    expect((await call(`/v1/contributions/${unique("none")}`)).status).toBe(404);
  });

  it("keeps records immutable: the database refuses edits, deletions and undoing a service mark", async () => {
    const client = db();
    expect(
      await refusal(client.run(sql.raw(`UPDATE contribution_records SET author = '0x0' WHERE proposal_id = '${ids[0]}'`))),
    ).toMatch(/contribution_record_immutable/);
    expect(await refusal(client.run(sql.raw(`DELETE FROM contribution_records WHERE proposal_id = '${ids[0]}'`)))).toMatch(
      /contribution_record_immutable/,
    );
  });

  it("pays an executed proposal's reward along its citations, decaying per hop; once", async () => {
    const config = gatewayConfig(env);
    // Fund the treasury (as settlements do) with exactly twice the reward.
    const fundId = `test/treasury/${unique("f")}`;
    await db().batch([
      operationStatement(db(), { id: fundId, kind: "test_fund", request: {} }, Date.now()),
      ...ledgerStatements(
        db(),
        [single(fundId, ISSUANCE_ACCOUNT, TREASURY_ACCOUNT, 2n * config.proposalReward, "mint")],
        Date.now(),
      ),
    ] as never);
    const before = await Promise.all(authors.map(balanceOf));
    const outcome = await adoptProposal(db(), config, ids[3], Date.now());
    expect(outcome.alreadyDone).toBe(false);
    // 100 DB-CPTM: 30 % along citations. p4 cites p2 (1 hop) and p3 (1 hop); p1 is 2 hops away.
    // Weights 10000, 10000, 5000 (sum 25000): 12, 12 and 6 DB-CPTM; the proposer keeps 70.
    const after = await Promise.all(authors.map(balanceOf));
    expect(after.map((b, i) => b - before[i])).toEqual([6_000_000n, 12_000_000n, 12_000_000n, 70_000_000n]);
    expect((await adoptProposal(db(), config, ids[3], Date.now())).alreadyDone).toBe(true);
    const detail = await json<{ serviceRecord: boolean; reward: { toCitations: string } }>(
      await call(`/v1/contributions/${ids[3]}`),
    );
    expect(detail).toMatchObject({ serviceRecord: true, reward: { toCitations: "30000000" } });
    // A service mark is never undone.
    expect(
      await refusal(db().run(sql.raw(`UPDATE contribution_records SET service_record = 0 WHERE proposal_id = '${ids[3]}'`))),
    ).toMatch(/contribution_record_immutable/);
    // An unconnected proposal gets nothing from it; one without citations keeps its whole reward.
    const lone = await adoptProposal(db(), config, ids[0], Date.now());
    expect(lone).toMatchObject({ alreadyDone: false, result: { toCitations: 0n, toProposer: config.proposalReward } });
    const l = await ledgerSnapshot(db());
    expect(ledgerViolations(l.accounts, l.recomputed)).toEqual([]);
  });

  it("follows governance's proposals from cron: a record for each, the reward of an executed one along its citations", async () => {
    const config = gatewayConfig(env);
    const fundId = `test/treasury/${unique("f")}`;
    await db().batch([
      operationStatement(db(), { id: fundId, kind: "test_fund", request: {} }, Date.now()),
      // Ten rewards, not one: on the libSQL project every file shares one database, and the sync
      // below also adopts other files' executed proposals, which are paid from the same treasury.
      ...ledgerStatements(
        db(),
        [single(fundId, ISSUANCE_ACCOUNT, TREASURY_ACCOUNT, config.proposalReward * 10n, "mint")],
        Date.now(),
      ),
    ] as never);
    // Three proposals as governance stores them (issue 16): g3 cites g2, which cites g1; g3 executed.
    const g = ["g1", "g2", "g3"].map((x) => unique(x));
    const who = [newOperator(), newOperator(), newOperator()].map((a) => a.address.toLowerCase());
    const now = Date.now();
    for (const [i, id] of g.entries()) {
      await db()
        .insert(proposals)
        .values({
          id,
          proposer: who[i],
          kind: "text",
          mode: "token",
          title: id,
          description: "",
          payload: "{}",
          contentHash: hashOf(id),
          state: i === 2 ? "executed" : "review",
          createdAt: now + i,
          reviewEnds: now + 1000,
        });
      if (i > 0)
        await db()
          .insert(proposalCitations)
          .values({ proposalId: id, citedId: g[i - 1] });
    }
    const before = await Promise.all(who.map(balanceOf));
    const synced = await syncProposalContributions(db(), config, now);
    expect(synced.recorded).toBeGreaterThanOrEqual(3);
    expect(synced.adopted).toBeGreaterThanOrEqual(1);
    const record = await json<{ author: string; citations: string[]; serviceRecord: boolean }>(
      await call(`/v1/contributions/${g[2]}`),
    );
    expect(record).toMatchObject({ author: who[2], citations: [g[1]], serviceRecord: true });
    // 100 DB-CPTM: 70 to g3's proposer; 30 along citations, g2 (1 hop) 20 and g1 (2 hops) 10.
    const after = await Promise.all(who.map(balanceOf));
    expect(after.map((b, i) => b - before[i])).toEqual([10_000_000n, 20_000_000n, 70_000_000n]);
    expect(await syncProposalContributions(db(), config, now)).toEqual({ recorded: 0, adopted: 0 });
  });

  it("commits the records' root on-chain; any record's inclusion proof checks with protocol/ and the contract", async () => {
    const chain = registryChain(env);
    expect(chain).not.toBeNull();
    expect(await commitContributionRoot(db(), chain, Date.now())).toBe("sent");
    expect(await commitContributionRoot(db(), chain, Date.now())).toBe("none");
    const roots = await json<{ committed: { root: Hex; count: number; tx: string } }>(await call("/v1/contributions/root"));
    expect(roots.committed.count).toBeGreaterThanOrEqual(4);
    const testChain = JSON.parse(env.TEST_CHAIN) as { rpc: string; contract: `0x${string}` };
    const client = createPublicClient({ transport: http(testChain.rpc) });
    for (const id of [ids[1], ids[3]]) {
      const proof = await json<{ leaf: Hex; root: Hex; proof: Hex[]; serviceRecordInRoot: boolean }>(
        await call(`/v1/contributions/${id}/proof`),
      );
      expect(proof.root).toBe(roots.committed.root);
      expect(proof.serviceRecordInRoot).toBe(id === ids[3]);
      expect(verifyProof(proof.leaf, proof.proof, proof.root)).toBe(true);
      expect(
        await client.readContract({
          address: testChain.contract,
          abi: proofRegistryAbi,
          functionName: "verifyContribution",
          args: [proof.root, proof.leaf, proof.proof],
        }),
      ).toBe(true);
      const forged = `0x${"ab".repeat(32)}` as Hex;
      expect(
        await client.readContract({
          address: testChain.contract,
          abi: proofRegistryAbi,
          functionName: "verifyContribution",
          args: [proof.root, forged, proof.proof],
        }),
      ).toBe(false);
    }
  });
});
