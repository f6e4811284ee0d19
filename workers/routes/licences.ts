/**
 * `/v1/licences`: the staking-equivalent licence registry and `/v1/network`: the phase.
 * Minting and phase moves take the admin token; transfer, bind and redeem are signed by the
 * holder (EIP-712 `LicenceAction`).
 */
import { Hono } from "hono";
import type { NetworkPhase } from "../../protocol/licences.js";
import type { AppEnv } from "../app-env.js";
import { requireAdmin } from "../auth.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { getLicence, listLicences, readNetworkState } from "../db/licences.js";
import { bindLicence, changePhase, mintLicence, redeemLicence, transferLicence } from "../economy/licences.js";
import { badRequest, notFound } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import { holderValue, jsonSafe, OPERATION_ID, operationResponse, pageLimit, stringField } from "../http/fields.js";
import { readEconomyAction } from "../http/signed.js";

const ACTIONS = new Set(["transfer", "bind", "redeem"]);

export const licencesApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const cursor = c.req.query("cursor");
    const after = cursor === undefined ? undefined : Number(cursor);
    if (after !== undefined && !Number.isSafeInteger(after))
      throw badRequest("invalid_field", '"cursor" is not a cursor from a previous page');
    const holder = c.req.query("holder")?.toLowerCase();
    return c.json(
      await listLicences(database(c.env), {
        holder,
        boundTo: c.req.query("boundTo"),
        after,
        limit: pageLimit(c.req.query("limit")),
      }),
    );
  })
  .get("/:id", async (c) => {
    const licence = await getLicence(database(c.env), c.req.param("id"));
    if (!licence) throw notFound("unknown_licence", `No licence "${c.req.param("id")}"`);
    return c.json(licence);
  })
  .post("/", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    const body = await readJsonObject(c.req.raw, 4 * 1024);
    const holder = holderValue(stringField(body, "holder", { max: 64 }));
    const r = { id: stringField(body, "id", { max: 64, pattern: OPERATION_ID }), holder };
    const outcome = await mintLicence(database(c.env), gatewayConfig(c.env), r, Date.now());
    return operationResponse(`admin/licence/${r.id}`, outcome, { licence: await getLicence(database(c.env), r.id) });
  })
  .post("/:id/actions", async (c) => {
    const db = database(c.env);
    const config = gatewayConfig(c.env);
    const now = Date.now();
    const signed = await readEconomyAction(
      c.req.raw,
      config,
      "LicenceAction",
      (m) => ({
        licence: stringField(m, "licence", { max: 64 }),
        action: stringField(m, "action", { max: 16 }),
        target: typeof m.target === "string" && m.target.length <= 80 ? m.target : "",
      }),
      now,
    );
    const { licence, action, target } = signed.values;
    if (licence !== c.req.param("id"))
      throw badRequest("licence_mismatch", "The signed licence differs from the licence in the path");
    if (!ACTIONS.has(action)) throw badRequest("invalid_field", '"action" must be "transfer", "bind" or "redeem"');
    const base = { id: signed.operation, holder: signed.signer, licence };
    let outcome: { alreadyDone: boolean; result?: unknown };
    if (action === "transfer") {
      outcome = await transferLicence(db, { ...base, to: holderValue(target, "target") }, now);
    } else if (action === "bind") {
      outcome = await bindLicence(db, config, { ...base, target: target === "" ? null : target }, now);
    } else {
      outcome = await redeemLicence(db, config, base, now);
    }
    return operationResponse(signed.operation, outcome, { licence: await getLicence(db, licence) });
  });

export const networkApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const config = gatewayConfig(c.env);
    const state = await readNetworkState(database(c.env));
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
    const state = await readNetworkState(database(c.env));
    if (!state.genesisSnapshot)
      throw notFound("no_genesis", "The network has not moved to mainnet; there is no genesis snapshot yet");
    return c.json({ hash: state.genesisHash, tx: state.genesisTx, snapshot: JSON.parse(state.genesisSnapshot) });
  })
  .post("/phase", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    const body = await readJsonObject(c.req.raw, 1024);
    const to = body.phase;
    if (to !== "testnet" && to !== "mainnet" && to !== "stabilized") {
      throw badRequest("invalid_field", '"phase" must be "testnet", "mainnet" or "stabilized"');
    }
    const outcome = await changePhase(database(c.env), gatewayConfig(c.env), to as NetworkPhase, Date.now());
    return operationResponse(`admin/phase/${to}`, outcome, { network: await readNetworkState(database(c.env)) });
  });
