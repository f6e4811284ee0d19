/**
 * Signed requests: an EIP-712 message and its signature, `{ message, signature }` (read by the
 * schemas of `schemas/signed.ts`), with the signer's address, a nonce (one use, in order, per
 * address) and a deadline of at most 24 h. Host registration and the economy's holder actions
 * share these checks; every check runs before the nonce is spent, so a refused request changes
 * nothing.
 */
import { type Address, type Hex, verifyTypedData } from "viem";
import { type EconomyAction, economyTypes, SIGNER_FIELD } from "../../protocol/economy-messages.js";
import { hostRegistryDomain, MAX_SIGNATURE_LIFETIME_SECONDS } from "../../protocol/host-registration.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { consumeOperatorNonce, nextOperatorNonce } from "../db/hosts.js";
import { apiError } from "../errors.js";

/** The cap of a signed request's body. */
export const MAX_SIGNED_BODY_BYTES = 16 * 1024;

export interface SignedEnvelope {
  signature: Hex;
  signer: Address;
  nonce: bigint;
  deadline: bigint;
}

/**
 * Verifies a signed economy action (protocol/economy-messages.ts) read by its schema: the
 * deadline, then the signature over the message's fields. Returns the signer and the operation id
 * namespaced by the signer.
 */
export async function verifyEconomyAction<M extends { id: string; deadline: bigint }>(
  config: GatewayConfig,
  action: EconomyAction,
  body: { message: M; signature: Hex },
  nowMs: number,
): Promise<{ signer: Address; operation: string; values: M }> {
  const { message } = body;
  const signer = (message as Record<string, unknown>)[SIGNER_FIELD[action]] as Address;
  checkDeadline(message.deadline, nowMs);
  const envelope = { signature: body.signature, signer, nonce: 0n, deadline: message.deadline };
  await checkTypedSignature(config, economyTypes, action, envelope, message, "holder");
  return { signer, operation: `${signer}/${message.id}`, values: message };
}

/** Refuses expired deadlines and deadlines so far ahead that a leaked signature would live on. */
export function checkDeadline(deadline: bigint, nowMs: number): void {
  const now = BigInt(Math.floor(nowMs / 1000));
  if (deadline < now) throw apiError("signature_expired", "The signed message's deadline has passed");
  if (deadline > now + BigInt(MAX_SIGNATURE_LIFETIME_SECONDS)) {
    throw apiError("deadline_too_far", `The deadline may be at most ${MAX_SIGNATURE_LIFETIME_SECONDS} s ahead`);
  }
}

/** Verifies that `envelope.signer` signed `message` as `primaryType` of `types` in the gateway's domain. */
export async function checkTypedSignature(
  config: GatewayConfig,
  types: Record<string, readonly { name: string; type: string }[]>,
  primaryType: string,
  envelope: SignedEnvelope,
  message: Record<string, unknown>,
  signerRole: string,
): Promise<void> {
  let valid = false;
  try {
    valid = await verifyTypedData({
      address: envelope.signer,
      domain: hostRegistryDomain(config.signingDomain),
      types,
      primaryType,
      message,
      signature: envelope.signature,
    } as Parameters<typeof verifyTypedData>[0]);
  } catch {
    valid = false;
  }
  if (!valid)
    throw apiError("bad_signature", `The signature does not match a ${primaryType} message signed by the ${signerRole}`);
}

/** Refuses a message whose nonce is not the signer's next one, without spending it. */
export async function checkNextNonce(db: Database, envelope: SignedEnvelope): Promise<void> {
  const expected = await nextOperatorNonce(db, envelope.signer);
  if (expected !== envelope.nonce) {
    throw apiError(
      "nonce_mismatch",
      `Nonce ${envelope.nonce} is not the operator's next nonce (${expected}); the message was already used or is out of order`,
    );
  }
}

/** Spends the nonce (atomically: two requests with one signature cannot both pass). */
export async function spendNonce(db: Database, envelope: SignedEnvelope): Promise<void> {
  if (!(await consumeOperatorNonce(db, envelope.signer, envelope.nonce))) await checkNextNonce(db, envelope);
}
