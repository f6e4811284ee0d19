/**
 * Signed writes: each builds the EIP-712 message the route verifies (types in
 * `protocol/host-registration.ts` and `protocol/economy-messages.ts`), against the domain the
 * gateway publishes, signs it with the caller's account and sends `{ message, signature }`.
 * The key never leaves the account; the gateway sees only signatures.
 */
import type { Address } from "viem";
import { signEconomyMessage } from "../../../protocol/economy-messages.js";
import { hostIdFor, signHostMessage, toMicrodegrees } from "../../../protocol/host-registration.js";
import type { GatewayApi } from "./api.js";
import { answerOf } from "./errors.js";

/** What signs: a viem local account (`privateKeyToAccount`, `mnemonicToAccount`) or anything with its `address` and `signTypedData`. */
export interface SigningAccount {
  address: Address;
  signTypedData: (parameters: never) => Promise<`0x${string}`>;
}

interface DomainReads {
  getSigningDomain(): Promise<{ chainId: number; verifyingContract: string }>;
  getOperatorNonce(address: string): Promise<bigint>;
}

/** Every signed write's common options. */
export interface SignedWriteParameters {
  account: SigningAccount;
  /** How long the signature stays valid, in seconds (default 600; the gateway takes at most 24 h). */
  validForSeconds?: number;
}

/** An economy write's options: the operation id makes a retry answer "already done" instead of acting twice. */
export interface EconomyWriteParameters extends SignedWriteParameters {
  /** The caller's operation id (default: a random UUID). Reuse it to retry safely. */
  id?: string;
}

const deadlineOf = (validForSeconds = 600) => BigInt(Math.floor(Date.now() / 1000) + validForSeconds);
const jsonBody = (body: unknown) => ({
  headers: { "content-type": "application/json" },
  init: { body: JSON.stringify(body) },
});

async function domainOf(reads: DomainReads) {
  const { chainId, verifyingContract } = await reads.getSigningDomain();
  return { chainId, verifyingContract: verifyingContract as Address };
}

/** Host registry writes, signed by the operator. */
export function hostWrites(api: GatewayApi, reads: DomainReads) {
  return {
    /**
     * Registers a host (EIP-712 `RegisterHost`), staking `stake` minor units from the operator's
     * balance. The host id is known before sending (`hostIdFor(operator, nonce)`).
     *
     * @example
     * const host = await client.registerHost({
     *   account, endpoint: "https://rpc.example.com", services: ["eth-mainnet"], latitude: 50.11, longitude: 8.68, stake: 10_000_000n,
     * });
     */
    async registerHost(
      p: SignedWriteParameters & { endpoint: string; services: string[]; latitude: number; longitude: number; stake: bigint },
    ) {
      const [domain, nonce] = await Promise.all([domainOf(reads), reads.getOperatorNonce(p.account.address)]);
      const message = {
        operator: p.account.address,
        endpoint: p.endpoint,
        services: p.services,
        latitudeE6: toMicrodegrees(p.latitude),
        longitudeE6: toMicrodegrees(p.longitude),
        stake: p.stake,
        nonce,
        deadline: deadlineOf(p.validForSeconds),
      };
      const body = await signHostMessage(p.account, domain, "RegisterHost", message);
      return answerOf(await api.v1.hosts.$post(undefined, jsonBody(body)));
    },
    /**
     * Changes a host's endpoint, location and services (EIP-712 `UpdateHost`).
     *
     * @example
     * await client.updateHost({ account, hostId, endpoint: "https://rpc2.example.com", services: ["eth-mainnet"], latitude: 50.11, longitude: 8.68 });
     */
    async updateHost(
      p: SignedWriteParameters & { hostId: string; endpoint: string; services: string[]; latitude: number; longitude: number },
    ) {
      const [domain, nonce] = await Promise.all([domainOf(reads), reads.getOperatorNonce(p.account.address)]);
      const message = {
        operator: p.account.address,
        hostId: p.hostId,
        endpoint: p.endpoint,
        services: p.services,
        latitudeE6: toMicrodegrees(p.latitude),
        longitudeE6: toMicrodegrees(p.longitude),
        nonce,
        deadline: deadlineOf(p.validForSeconds),
      };
      const body = await signHostMessage(p.account, domain, "UpdateHost", message);
      return answerOf(await api.v1.hosts[":id"].$patch({ param: { id: p.hostId } }, jsonBody(body)));
    },
    /**
     * Leaves the network (EIP-712 `LeaveHost`): no new session chooses the host. Its stake stays
     * bonded until unstaked.
     *
     * @example
     * await client.leaveHost({ account, hostId });
     */
    async leaveHost(p: SignedWriteParameters & { hostId: string }) {
      const [domain, nonce] = await Promise.all([domainOf(reads), reads.getOperatorNonce(p.account.address)]);
      const message = { operator: p.account.address, hostId: p.hostId, nonce, deadline: deadlineOf(p.validForSeconds) };
      const body = await signHostMessage(p.account, domain, "LeaveHost", message);
      return answerOf(await api.v1.hosts[":id"].leave.$post({ param: { id: p.hostId } }, jsonBody(body)));
    },
  };
}

/** Economy writes, signed by the holder. */
export function economyWrites(api: GatewayApi, reads: DomainReads) {
  const signed = async (
    account: SigningAccount,
    action: "Stake" | "Unstake" | "LicenceAction" | "RegisterValidator",
    message: Record<string, unknown>,
  ) => signEconomyMessage(account, await domainOf(reads), action, message);
  const common = (p: EconomyWriteParameters) => ({ id: p.id ?? crypto.randomUUID(), deadline: deadlineOf(p.validForSeconds) });
  return {
    /**
     * Stakes from the signer's balance into a pool: `host:<id>` (its operator only) or
     * `validator:<address>` (a delegation; `delegate` says it shorter).
     *
     * @example
     * await client.stake({ account, pool: `host:${hostId}`, amount: 5_000_000n });
     */
    async stake(p: EconomyWriteParameters & { pool: string; amount: bigint }) {
      const body = await signed(p.account, "Stake", { holder: p.account.address, pool: p.pool, amount: p.amount, ...common(p) });
      return answerOf(await api.v1.stakes.$post(undefined, jsonBody(body)));
    },
    /**
     * Unstakes from a pool into unbonding (still slashable until it matures, `UNBONDING_SECONDS`).
     *
     * @example
     * const { pool } = await client.unstake({ account, pool: `host:${hostId}`, amount: 1_000_000n });
     */
    async unstake(p: EconomyWriteParameters & { pool: string; amount: bigint }) {
      const body = await signed(p.account, "Unstake", {
        holder: p.account.address,
        pool: p.pool,
        amount: p.amount,
        ...common(p),
      });
      return answerOf(await api.v1.stakes.unstake.$post(undefined, jsonBody(body)));
    },
    /**
     * Delegates to a validator: stakes into `validator:<address>`.
     *
     * @example
     * await client.delegate({ account, validator: "0x7099...79c8", amount: 1_000_000n });
     */
    async delegate(p: EconomyWriteParameters & { validator: string; amount: bigint }) {
      const pool = `validator:${p.validator.toLowerCase()}`;
      const body = await signed(p.account, "Stake", { holder: p.account.address, pool, amount: p.amount, ...common(p) });
      return answerOf(await api.v1.stakes.$post(undefined, jsonBody(body)));
    },
    /**
     * Registers the signer as a validator (EIP-712 `RegisterValidator`).
     *
     * @example
     * await client.registerValidator({ account, name: "validator-eu-1" });
     */
    async registerValidator(p: EconomyWriteParameters & { name: string }) {
      const body = await signed(p.account, "RegisterValidator", { validator: p.account.address, name: p.name, ...common(p) });
      return answerOf(await api.v1.validators.$post(undefined, jsonBody(body)));
    },
    /**
     * A licence action signed by its holder: `transfer` (target: the new holder), `bind`
     * (target: `host:<id>` or `validator:<address>`, `""` unbinds) or `redeem` (once stabilized).
     *
     * @example
     * await client.licenceAction({ account, licence: "lic-1", action: "bind", target: `host:${hostId}` });
     */
    async licenceAction(
      p: EconomyWriteParameters & { licence: string; action: "transfer" | "bind" | "redeem"; target?: string },
    ) {
      const body = await signed(p.account, "LicenceAction", {
        holder: p.account.address,
        licence: p.licence,
        action: p.action,
        target: p.target ?? "",
        ...common(p),
      });
      return answerOf(await api.v1.licences[":id"].actions.$post({ param: { id: p.licence } }, jsonBody(body)));
    },
  };
}

/**
 * A host's id before it is registered: derived from the operator and the nonce its
 * `RegisterHost` message carries.
 *
 * @example
 * const id = hostIdOf(account.address, await client.getOperatorNonce(account.address));
 */
export const hostIdOf = (operator: Address, nonce: bigint): string => hostIdFor(operator, nonce);
