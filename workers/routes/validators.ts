/**
 * `/v1/validators`: the DPoS validator set (stake, active or not, rank) and registration signed
 * by the validator's address (EIP-712 `RegisterValidator`). Holders delegate through
 * `/v1/stakes` into `validator:<address>`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { registerValidator, validatorSet } from "../economy/validators.js";
import { jsonSafe } from "../http/json-safe.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { jsonAnswer, minorUnits } from "../http/schemas/common.js";
import { OperationSchema, operationAnswer } from "../http/schemas/economy.js";
import { RegisterValidatorMessage, signedEnvelope } from "../http/schemas/signed.js";
import { MAX_SIGNED_BODY_BYTES, verifyEconomyAction } from "../http/signed.js";

const tags = ["economy"];

const setRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The validator set: stake, active or not, rank",
  responses: {
    200: jsonAnswer(
      z
        .object({
          size: z.number().int(),
          minimumStake: minorUnits,
          validators: z.array(z.looseObject({ address: z.string(), name: z.string(), stake: minorUnits, active: z.boolean() })),
        })
        .openapi("ValidatorSet"),
      "The set",
    ),
  },
});

const registerRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Register a validator (EIP-712 `RegisterValidator` signed by its address)",
  middleware: [jsonBody(signedEnvelope(RegisterValidatorMessage, "SignedRegisterValidator"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(OperationSchema, "Already done"), 201: jsonAnswer(OperationSchema, "Registered") },
});

export const validatorsApp = openApiApp()
  .openapi(setRoute, async (c) => {
    const config = c.var.config;
    const set = await validatorSet(c.var.db, config);
    return c.json(
      jsonSafe({ size: config.validatorSetSize, minimumStake: config.validatorMinStake, validators: set }) as z.infer<
        (typeof setRoute.responses)[200]["content"]["application/json"]["schema"]
      >,
      200,
    );
  })
  .openapi(registerRoute, async (c) => {
    const now = Date.now();
    const signed = await verifyEconomyAction(c.var.config, "RegisterValidator", c.var.body, now);
    const outcome = await registerValidator(
      c.var.db,
      { id: signed.operation, address: signed.signer, name: signed.values.name },
      now,
    );
    return operationAnswer(c, signed.operation, outcome);
  });
