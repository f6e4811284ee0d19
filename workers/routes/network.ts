/**
 * `/v1/network`: the network's phase (testnet -> mainnet -> stabilized), the licence supply and
 * the genesis snapshot written at the move to mainnet. Phase moves take the admin token.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { readNetworkState } from "../db/licences.js";
import { changePhase } from "../economy/licences.js";
import { apiError } from "../errors.js";
import { jsonSafe } from "../http/json-safe.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { jsonAnswer, minorUnits } from "../http/schemas/common.js";
import { OperationSchema, operationAnswer } from "../http/schemas/economy.js";
import { requireAdmin } from "../middleware/auth.js";

const PHASE = z.enum(["testnet", "mainnet", "stabilized"], { error: 'must be "testnet", "mainnet" or "stabilized"' });
const tags = ["economy"];

const NetworkSchema = z
  .object({
    phase: PHASE,
    licencesMinted: z.number().int(),
    licenceMaxSupply: z.number().int(),
    licenceStakeEquivalent: minorUnits,
    genesisHash: z.string().nullable(),
    genesisTx: z.string().nullable(),
    changedAt: z.number().int(),
  })
  .openapi("Network");

const networkRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The phase, the licence supply, the genesis hash and transaction",
  responses: { 200: jsonAnswer(NetworkSchema, "The network") },
});

const genesisRoute = createRoute({
  method: "get",
  path: "/genesis",
  tags,
  summary: "The genesis snapshot written at the move to mainnet",
  responses: {
    200: jsonAnswer(
      z.object({ hash: z.string().nullable(), tx: z.string().nullable(), snapshot: z.unknown() }).openapi("Genesis"),
      "The snapshot",
    ),
  },
});

const PhaseAnswer = OperationSchema.extend({
  network: z.looseObject({ phase: PHASE, licencesMinted: z.number().int(), changedAt: z.number().int() }),
});

const phaseRoute = createRoute({
  method: "post",
  path: "/phase",
  tags,
  summary: "Move the network's phase forward (admin)",
  security: [{ bearer: [] }],
  middleware: [requireAdmin, jsonBody(z.object({ phase: PHASE }).openapi("PhaseChange"), 1024)] as const,
  responses: { 200: jsonAnswer(PhaseAnswer, "Already there"), 201: jsonAnswer(PhaseAnswer, "Moved") },
});

export const networkApp = openApiApp()
  .openapi(networkRoute, async (c) => {
    const config = c.var.config;
    const state = await readNetworkState(c.var.db);
    const answer = jsonSafe({
      phase: state.phase,
      licencesMinted: state.licencesMinted,
      licenceMaxSupply: config.licenceMaxSupply,
      licenceStakeEquivalent: config.licenceStakeEquivalent,
      genesisHash: state.genesisHash,
      genesisTx: state.genesisTx,
      changedAt: state.changedAt,
    });
    return c.json(answer as z.infer<typeof NetworkSchema>, 200);
  })
  .openapi(genesisRoute, async (c) => {
    const state = await readNetworkState(c.var.db);
    if (!state.genesisSnapshot)
      throw apiError("no_genesis", "The network has not moved to mainnet; there is no genesis snapshot yet");
    return c.json({ hash: state.genesisHash, tx: state.genesisTx, snapshot: JSON.parse(state.genesisSnapshot) }, 200);
  })
  .openapi(phaseRoute, async (c) => {
    const to = c.var.body.phase;
    const outcome = await changePhase(c.var.db, c.var.config, to, Date.now());
    return operationAnswer(c, `admin/phase/${to}`, outcome, { network: await readNetworkState(c.var.db) });
  });
