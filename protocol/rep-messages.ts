/**
 * EIP-712 messages REP holders sign (same domain as the economy messages): encumbering REP in an
 * availability stake, releasing it, and voting in a batch's validation pool. Like the economy
 * messages they carry the signer's own operation `id` (stored as `<signer>/<id>`, so a replay is
 * "already done") and a deadline of at most 24 h.
 */
import { hostRegistryDomain, type SigningDomain } from "./host-registration.js";

export const repTypes = {
  RepEncumber: [
    { name: "holder", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  RepRelease: [
    { name: "holder", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  RepVote: [
    { name: "voter", type: "address" },
    /** The pool: the batch id. */
    { name: "pool", type: "string" },
    { name: "accept", type: "bool" },
    /** Liquid REP staked on the vote (escrowed until the pool resolves). */
    { name: "stake", type: "uint256" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export type RepAction = keyof typeof repTypes;

export const REP_SIGNER_FIELD: Record<RepAction, "holder" | "voter"> = {
  RepEncumber: "holder",
  RepRelease: "holder",
  RepVote: "voter",
};

interface TypedDataSigner {
  signTypedData: (parameters: never) => Promise<`0x${string}`>;
}

/**
 * Signs a REP message and returns the body the API takes: `{ message, signature }`.
 *
 * @example
 * const body = await signRepMessage(account, domain, "RepVote", {
 *   voter: account.address, pool: batchId, accept: true, stake: 10n, id: "vote-1", deadline,
 * });
 * await fetch(`${gateway}/v1/rep/pools/${batchId}/votes`, { method: "POST", body: JSON.stringify(body) });
 */
export async function signRepMessage(
  signer: TypedDataSigner,
  domain: SigningDomain,
  primaryType: RepAction,
  message: Record<string, unknown>,
) {
  const signature = await signer.signTypedData({
    domain: hostRegistryDomain(domain),
    types: repTypes,
    primaryType,
    message,
  } as never);
  const json = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return { message: json, signature };
}
