/**
 * `/v1/network`: the network's phase (testnet -> mainnet -> stabilized), the licence supply and
 * the genesis snapshot written at the move to mainnet. Phase moves take the admin token.
 */
import { Hono } from "hono";
import type { NetworkPhase } from "../../protocol/licences.js";
import type { AppEnv } from "../app-env.js";
import { readNetworkState } from "../db/licences.js";
import { changePhase } from "../economy/licences.js";
import { apiError } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import { jsonSafe, operationResponse } from "../http/fields.js";
import { requireAdmin } from "../middleware/auth.js";

export const networkApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const config = c.var.config;
    const state = await readNetworkState(c.var.db);
    return c.json(
      jsonSafe({
        phase: state.phase,
        licencesMinted: state.licencesMinted,
        licenceMaxSupply: config.licenceMaxSupply,
        licenceStakeEquivalent: config.licenceStakeEquivalent,
        genesisHash: state.genesisHash,
        genesisTx: state.genesisTx,
        changedAt: state.changedAt,
      }),
    );
  })
  .get("/genesis", async (c) => {
    const state = await readNetworkState(c.var.db);
    if (!state.genesisSnapshot)
      throw apiError("no_genesis", "The network has not moved to mainnet; there is no genesis snapshot yet");
    return c.json({ hash: state.genesisHash, tx: state.genesisTx, snapshot: JSON.parse(state.genesisSnapshot) });
  })
  .post("/phase", requireAdmin, async (c) => {
    const body = await readJsonObject(c.req.raw, 1024);
    const to = body.phase;
    if (to !== "testnet" && to !== "mainnet" && to !== "stabilized") {
      throw apiError("invalid_field", '"phase" must be "testnet", "mainnet" or "stabilized"');
    }
    const outcome = await changePhase(c.var.db, c.var.config, to as NetworkPhase, Date.now());
    return operationResponse(`admin/phase/${to}`, outcome, { network: await readNetworkState(c.var.db) });
  });
