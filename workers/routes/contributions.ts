/**
 * `/v1/contributions`: contribution records (one per proposal; adopted ones are service records),
 * the reward each executed proposal passed along its citations, and any record's inclusion proof
 * against the newest root committed on-chain (`ProofRegistry.contributionRoots`), checkable with
 * `protocol/merkle.ts` `verifyProof` or the contract's `verifyContribution` (docs/rep.md).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { hexToBytes } from "viem";
import { contributionLeafHash } from "../../protocol/citations.js";
import { toHex } from "../../protocol/hex.js";
import { MerkleTree } from "../../protocol/merkle.js";
import {
  type ContributionRow,
  getCitationReward,
  getContribution,
  latestCommittedRoot,
  latestRoot,
  listContributions,
  toRecord,
} from "../db/contributions.js";
import { apiError } from "../errors.js";
import { openApiApp } from "../http/openapi.js";
import { idParam, jsonAnswer, minorUnits, numericCursor, pageLimit } from "../http/schemas/common.js";

const RecordSchema = z
  .object({
    proposalId: z.string(),
    ordinal: z.number().int().openapi({ description: "The record's leaf position in the contribution tree" }),
    contentHash: z.string(),
    author: z.string(),
    citations: z.array(z.string()),
    createdAt: z.number().int(),
    serviceRecord: z.boolean(),
    adoptedAt: z.number().int().nullable(),
  })
  .openapi("ContributionRecord");

const recordJson = (r: ContributionRow): z.infer<typeof RecordSchema> => ({
  proposalId: r.proposalId,
  ordinal: r.ordinal,
  contentHash: r.contentHash,
  author: r.author,
  citations: JSON.parse(r.citations) as string[],
  createdAt: r.createdAt,
  serviceRecord: r.serviceRecord === 1,
  adoptedAt: r.adoptedAt,
});

const RootSchema = z
  .object({
    root: z.string(),
    count: z.number().int(),
    createdAt: z.number().int(),
    tx: z.string().nullable(),
    committedAt: z.number().int().nullable(),
  })
  .openapi("ContributionRoot");

const tags = ["rep"];
const params = z.object({ proposalId: idParam("proposalId", "42") });

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Contribution records in creation order (`cursor`: the last ordinal seen)",
  request: { query: z.object({ cursor: numericCursor, limit: pageLimit }) },
  responses: {
    200: jsonAnswer(
      z.object({ records: z.array(RecordSchema), next: z.number().int().nullable() }).openapi("ContributionPage"),
      "A page",
    ),
  },
});

const rootRoute = createRoute({
  method: "get",
  path: "/root",
  tags,
  summary: "The newest contribution root computed and the newest committed on-chain",
  responses: {
    200: jsonAnswer(
      z.object({ latest: RootSchema.nullable(), committed: RootSchema.nullable() }).openapi("ContributionRoots"),
      "The roots",
    ),
  },
});

const recordRoute = createRoute({
  method: "get",
  path: "/{proposalId}",
  tags,
  summary: "A proposal's contribution record, and the reward it passed along its citations once executed",
  request: { params },
  responses: {
    200: jsonAnswer(
      RecordSchema.extend({
        reward: z
          .object({
            reward: minorUnits,
            toProposer: minorUnits,
            toCitations: minorUnits,
            flows: z.array(z.object({ author: z.string(), amount: minorUnits })),
            paidAt: z.number().int(),
          })
          .nullable(),
      }).openapi("ContributionDetail"),
      "The record",
    ),
  },
});

const proofRoute = createRoute({
  method: "get",
  path: "/{proposalId}/proof",
  tags,
  summary: "The record's inclusion proof against the newest root committed on-chain",
  request: { params },
  responses: {
    200: jsonAnswer(
      z
        .object({
          record: RecordSchema,
          serviceRecordInRoot: z.boolean().openapi({ description: "The service mark as the committed leaf has it" }),
          leaf: z.string(),
          root: z.string(),
          count: z.number().int(),
          proof: z.array(z.string()),
          tx: z.string().nullable(),
          committedAt: z.number().int().nullable(),
        })
        .openapi("ContributionProof"),
      "The proof",
    ),
  },
});

const rootJson = (r: NonNullable<Awaited<ReturnType<typeof latestRoot>>>) => ({
  root: r.root,
  count: r.count,
  createdAt: r.createdAt,
  tx: r.tx,
  committedAt: r.committedAt,
});

async function recordOf(db: Parameters<typeof getContribution>[0], proposalId: string) {
  const r = await getContribution(db, proposalId);
  if (!r) throw apiError("unknown_contribution", `Proposal "${proposalId}" has no contribution record`);
  return r;
}

export const contributionsApp = openApiApp()
  .openapi(listRoute, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const page = await listContributions(c.var.db, { after: cursor, limit });
    return c.json({ records: page.records.map(recordJson), next: page.next }, 200);
  })
  .openapi(rootRoute, async (c) => {
    const [latest, committed] = [await latestRoot(c.var.db), await latestCommittedRoot(c.var.db)];
    return c.json({ latest: latest && rootJson(latest), committed: committed && rootJson(committed) }, 200);
  })
  .openapi(recordRoute, async (c) => {
    const { proposalId } = c.req.valid("param");
    const r = await recordOf(c.var.db, proposalId);
    const reward = await getCitationReward(c.var.db, proposalId);
    return c.json(
      {
        ...recordJson(r),
        reward: reward && {
          reward: String(reward.reward),
          toProposer: String(reward.toProposer),
          toCitations: String(reward.toCitations),
          flows: (JSON.parse(reward.flows) as [string, string][]).map(([author, amount]) => ({ author, amount })),
          paidAt: reward.paidAt,
        },
      },
      200,
    );
  })
  .openapi(proofRoute, async (c) => {
    const { proposalId } = c.req.valid("param");
    const r = await recordOf(c.var.db, proposalId);
    const committed = await latestCommittedRoot(c.var.db);
    if (!committed || committed.count <= r.ordinal)
      throw apiError(
        "contribution_not_committed",
        "No root committed on-chain includes this record yet; try after the next cron run",
      );
    const leaves = (JSON.parse(committed.leaves) as `0x${string}`[]).map((h) => hexToBytes(h));
    const tree = new MerkleTree(leaves);
    const leaf = toHex(leaves[r.ordinal]);
    const record = toRecord(r);
    return c.json(
      {
        record: recordJson(r),
        serviceRecordInRoot: toHex(contributionLeafHash({ ...record, serviceRecord: true })) === leaf,
        leaf,
        root: committed.root,
        count: committed.count,
        proof: tree.proof(r.ordinal),
        tx: committed.tx,
        committedAt: committed.committedAt,
      },
      200,
    );
  });
