/**
 * Signed requests' bodies: `{ message, signature }`, an EIP-712 message (types in
 * `protocol/host-registration.ts` and `protocol/economy-messages.ts`) with integers as decimal
 * strings. The schemas read the fields the signature covers; `http/signed.ts` checks it.
 */
import { z } from "@hono/zod-openapi";
import { address, amount, holder, operationId, serviceList, signature, text } from "./common.js";

/** The envelope of a signed message. */
export const signedEnvelope = <M extends z.ZodType>(message: M, name: string) => z.object({ message, signature }).openapi(name);

const latitudeE6 = z
  .number({ error: "must be an integer from -90000000 to 90000000" })
  .int({ error: "must be an integer from -90000000 to 90000000" })
  .min(-90_000_000, { error: "must be an integer from -90000000 to 90000000" })
  .max(90_000_000, { error: "must be an integer from -90000000 to 90000000" });
const longitudeE6 = z
  .number({ error: "must be an integer from -180000000 to 180000000" })
  .int({ error: "must be an integer from -180000000 to 180000000" })
  .min(-180_000_000, { error: "must be an integer from -180000000 to 180000000" })
  .max(180_000_000, { error: "must be an integer from -180000000 to 180000000" });

/** Host registry messages, signed by the operator. */
export const RegisterHostMessage = z.object({
  operator: address,
  endpoint: text(2048),
  services: serviceList,
  latitudeE6,
  longitudeE6,
  stake: amount(),
  nonce: amount(),
  deadline: amount(),
});

export const UpdateHostMessage = z.object({
  operator: address,
  hostId: text(64),
  endpoint: text(2048),
  services: serviceList,
  latitudeE6,
  longitudeE6,
  nonce: amount(),
  deadline: amount(),
});

export const LeaveHostMessage = z.object({ operator: address, hostId: text(64), nonce: amount(), deadline: amount() });

/** Economy messages, signed by the holder (the field of `SIGNER_FIELD`); `id` is the signer's operation id. */
export const TransferMessage = z.object({
  from: address,
  to: holder,
  amount: amount(),
  id: operationId,
  deadline: amount(),
});

export const StakeMessage = z.object({ holder: address, pool: text(80), amount: amount(), id: operationId, deadline: amount() });

export const RegisterValidatorMessage = z.object({ validator: address, name: text(64), id: operationId, deadline: amount() });

export const LicenceActionMessage = z.object({
  holder: address,
  licence: text(64),
  action: z.enum(["transfer", "bind", "redeem"], { error: 'must be "transfer", "bind" or "redeem"' }),
  /** transfer: the new holder; bind: `host:<id>` or `validator:<address>` ("" unbinds); redeem: "". */
  target: z.string().max(80).optional().catch("").default("").openapi({ type: "string", maxLength: 80, default: "" }),
  id: operationId,
  deadline: amount(),
});
