/**
 * EIP-712 messages holders sign for economy actions, in the same domain as host registration.
 * Each carries the holder's own operation `id`: the gateway stores it as `<holder>/<id>`, so a
 * replayed or retried message is answered "already done" and never moves value twice. The
 * deadline (at most 24 h ahead) bounds how long a signature is usable.
 */
import { hostRegistryDomain, type SigningDomain } from "./host-registration.js";

export const economyTypes = {
  Transfer: [
    { name: "from", type: "address" },
    { name: "to", type: "string" },
    { name: "amount", type: "uint256" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  Stake: [
    { name: "holder", type: "address" },
    { name: "pool", type: "string" },
    { name: "amount", type: "uint256" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  Unstake: [
    { name: "holder", type: "address" },
    { name: "pool", type: "string" },
    { name: "amount", type: "uint256" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  RegisterValidator: [
    { name: "validator", type: "address" },
    { name: "name", type: "string" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  LicenceAction: [
    { name: "holder", type: "address" },
    { name: "licence", type: "string" },
    /** "transfer" (target: the new holder), "bind" (target: host:<id> or validator:<address>, "" to unbind) or "redeem". */
    { name: "action", type: "string" },
    { name: "target", type: "string" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export type EconomyAction = keyof typeof economyTypes;

/** The message field naming the signer of each action. */
export const SIGNER_FIELD: Record<EconomyAction, string> = {
  Transfer: "from",
  Stake: "holder",
  Unstake: "holder",
  RegisterValidator: "validator",
  LicenceAction: "holder",
};

interface TypedDataSigner {
  signTypedData: (parameters: never) => Promise<`0x${string}`>;
}

/**
 * Signs an economy message and returns the body the API takes: `{ message, signature }`.
 *
 * @example
 * const body = await signEconomyMessage(account, domain, "Stake", {
 *   holder: account.address, pool: `host:${hostId}`, amount: 5_000_000n, id: "stake-1", deadline,
 * });
 * await fetch(`${gateway}/v1/stakes`, { method: "POST", body: JSON.stringify(body) });
 */
export async function signEconomyMessage(
  signer: TypedDataSigner,
  domain: SigningDomain,
  primaryType: EconomyAction,
  message: Record<string, unknown>,
) {
  const signature = await signer.signTypedData({
    domain: hostRegistryDomain(domain),
    types: economyTypes,
    primaryType,
    message,
  } as never);
  const json = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return { message: json, signature };
}
