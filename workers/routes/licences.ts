/**
 * `/v1/licences`: the staking-equivalent licence registry and `/v1/network`: the phase.
 * Minting and phase moves take the admin token; transfer, bind and redeem are signed by the
 * holder (EIP-712 `LicenceAction`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getLicence, listLicences } from "../db/licences.js";
import { bindLicence, mintLicence, redeemLicence, transferLicence } from "../economy/licences.js";
import { apiError } from "../errors.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { holder, jsonAnswer, numericCursor, operationId, pageLimit } from "../http/schemas/common.js";
import { OperationSchema, operationAnswer } from "../http/schemas/economy.js";
import { LicenceActionMessage, signedEnvelope } from "../http/schemas/signed.js";
import { MAX_SIGNED_BODY_BYTES, verifyEconomyAction } from "../http/signed.js";
import { requireAdmin } from "../middleware/auth.js";

export const LicenceSchema = z
  .object({
    id: z.string(),
    serial: z.number().int(),
    holder: z.string(),
    boundTo: z.string().nullable(),
    state: z.enum(["live", "liquidated", "redeemed"]),
    mintedAt: z.number().int(),
    endedAt: z.number().int().nullable(),
    version: z.number().int(),
    unbindingFrom: z.string().nullable(),
    unbindingUntil: z.number().int().nullable(),
  })
  .openapi("Licence");

const tags = ["economy"];
const licenceId = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const LicenceAnswer = OperationSchema.extend({ licence: LicenceSchema.nullable() });

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Licences, by serial, paginated",
  request: {
    query: z.object({
      holder: z.string().optional(),
      boundTo: z.string().optional().openapi({ description: "`host:<id>` or `validator:<address>`" }),
      cursor: numericCursor,
      limit: pageLimit,
    }),
  },
  responses: {
    200: jsonAnswer(
      z.object({ licences: z.array(LicenceSchema), next: z.number().int().nullable() }).openapi("LicencePage"),
      "A page",
    ),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "One licence",
  request: { params: licenceId },
  responses: { 200: jsonAnswer(LicenceSchema, "The licence") },
});

const mintRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Mint a licence (admin; testnet only)",
  security: [{ bearer: [] }],
  middleware: [requireAdmin, jsonBody(z.object({ id: operationId, holder }).openapi("MintLicence"), 4 * 1024)] as const,
  responses: { 200: jsonAnswer(LicenceAnswer, "Already done"), 201: jsonAnswer(LicenceAnswer, "Minted") },
});

const actionRoute = createRoute({
  method: "post",
  path: "/{id}/actions",
  tags,
  summary: "Transfer, bind or redeem a licence (EIP-712 `LicenceAction` signed by its holder)",
  request: { params: licenceId },
  middleware: [jsonBody(signedEnvelope(LicenceActionMessage, "SignedLicenceAction"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(LicenceAnswer, "Already done"), 201: jsonAnswer(LicenceAnswer, "Done") },
});

export const licencesApp = openApiApp()
  .openapi(listRoute, async (c) => {
    const { holder, boundTo, cursor, limit } = c.req.valid("query");
    return c.json(await listLicences(c.var.db, { holder: holder?.toLowerCase(), boundTo, after: cursor, limit }), 200);
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const licence = await getLicence(c.var.db, id);
    if (!licence) throw apiError("unknown_licence", `No licence "${id}"`);
    return c.json(licence, 200);
  })
  .openapi(mintRoute, async (c) => {
    const r = c.var.body;
    const outcome = await mintLicence(c.var.db, c.var.config, r, Date.now());
    return operationAnswer(c, `admin/licence/${r.id}`, outcome, { licence: await getLicence(c.var.db, r.id) });
  })
  .openapi(actionRoute, async (c) => {
    const db = c.var.db;
    const config = c.var.config;
    const now = Date.now();
    const signed = await verifyEconomyAction(config, "LicenceAction", c.var.body, now);
    const { licence, action, target } = signed.values;
    if (licence !== c.req.valid("param").id)
      throw apiError("licence_mismatch", "The signed licence differs from the licence in the path");
    const base = { id: signed.operation, holder: signed.signer, licence };
    let outcome: { alreadyDone: boolean; result?: unknown };
    if (action === "transfer") {
      const to = holder.safeParse(target);
      if (!to.success) throw apiError("invalid_field", 'Field "target" must be a 20-byte hex address or a requestor id');
      outcome = await transferLicence(db, { ...base, to: to.data }, now);
    } else if (action === "bind") {
      outcome = await bindLicence(db, config, { ...base, target: target === "" ? null : target }, now);
    } else {
      outcome = await redeemLicence(db, config, base, now);
    }
    return operationAnswer(c, signed.operation, outcome, { licence: await getLicence(db, licence) });
  });
