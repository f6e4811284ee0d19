/**
 * `/v1/licences`: the staking-equivalent licence registry and `/v1/network`: the phase.
 * Minting and phase moves take the admin token; transfer, bind and redeem are signed by the
 * holder (EIP-712 `LicenceAction`).
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { getLicence, listLicences } from "../db/licences.js";
import { bindLicence, mintLicence, redeemLicence, transferLicence } from "../economy/licences.js";
import { apiError } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import { holderValue, OPERATION_ID, operationResponse, pageLimit, stringField } from "../http/fields.js";
import { readEconomyAction } from "../http/signed.js";
import { requireAdmin } from "../middleware/auth.js";

const ACTIONS = new Set(["transfer", "bind", "redeem"]);

export const licencesApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const cursor = c.req.query("cursor");
    const after = cursor === undefined ? undefined : Number(cursor);
    if (after !== undefined && !Number.isSafeInteger(after))
      throw apiError("invalid_field", '"cursor" is not a cursor from a previous page');
    const holder = c.req.query("holder")?.toLowerCase();
    return c.json(
      await listLicences(c.var.db, {
        holder,
        boundTo: c.req.query("boundTo"),
        after,
        limit: pageLimit(c.req.query("limit")),
      }),
    );
  })
  .get("/:id", async (c) => {
    const licence = await getLicence(c.var.db, c.req.param("id"));
    if (!licence) throw apiError("unknown_licence", `No licence "${c.req.param("id")}"`);
    return c.json(licence);
  })
  .post("/", requireAdmin, async (c) => {
    const body = await readJsonObject(c.req.raw, 4 * 1024);
    const holder = holderValue(stringField(body, "holder", { max: 64 }));
    const r = { id: stringField(body, "id", { max: 64, pattern: OPERATION_ID }), holder };
    const outcome = await mintLicence(c.var.db, c.var.config, r, Date.now());
    return operationResponse(`admin/licence/${r.id}`, outcome, { licence: await getLicence(c.var.db, r.id) });
  })
  .post("/:id/actions", async (c) => {
    const db = c.var.db;
    const config = c.var.config;
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
      throw apiError("licence_mismatch", "The signed licence differs from the licence in the path");
    if (!ACTIONS.has(action)) throw apiError("invalid_field", '"action" must be "transfer", "bind" or "redeem"');
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
