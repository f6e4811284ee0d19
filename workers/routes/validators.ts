/**
 * `/v1/validators`: the DPoS validator set (stake, active or not, rank) and registration signed
 * by the validator's address (EIP-712 `RegisterValidator`). Holders delegate through
 * `/v1/stakes` into `validator:<address>`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { registerValidator, validatorSet } from "../economy/validators.js";
import { jsonSafe, operationResponse, stringField } from "../http/fields.js";
import { readEconomyAction } from "../http/signed.js";

export const validatorsApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const config = c.var.config;
    const set = await validatorSet(c.var.db, config);
    return c.json(jsonSafe({ size: config.validatorSetSize, minimumStake: config.validatorMinStake, validators: set }));
  })
  .post("/", async (c) => {
    const now = Date.now();
    const signed = await readEconomyAction(
      c.req.raw,
      c.var.config,
      "RegisterValidator",
      (m) => ({ name: stringField(m, "name", { max: 64 }) }),
      now,
    );
    const outcome = await registerValidator(
      c.var.db,
      { id: signed.operation, address: signed.signer, name: signed.values.name },
      now,
    );
    return operationResponse(signed.operation, outcome);
  });
