/**
 * Cron: once the network is on mainnet, commit the licence genesis snapshot's hash to
 * `ProofRegistry.commitGenesis`. Checks the chain first, so a retry after a lost answer adopts
 * the hash already there instead of sending again; a chain outage only delays it.
 */
import type { Hex } from "viem";
import { onChainGenesisHash, type RegistryChain, sendGenesis } from "../chain/registry-client.js";
import type { Database } from "../db/database.js";
import { readNetworkState, recordGenesisTx } from "../db/licences.js";

const ZERO = `0x${"0".repeat(64)}`;

export async function anchorGenesis(db: Database, chain: RegistryChain | null): Promise<"sent" | "adopted" | "none"> {
  const state = await readNetworkState(db);
  if (!chain || !state.genesisHash || state.genesisTx) return "none";
  const onChain = await onChainGenesisHash(chain);
  if (onChain !== ZERO) {
    if (onChain.toLowerCase() !== state.genesisHash.toLowerCase()) {
      throw new Error(`the contract holds genesis ${onChain}, not this network's ${state.genesisHash}`);
    }
    await recordGenesisTx(db, "adopted");
    return "adopted";
  }
  await recordGenesisTx(db, await sendGenesis(chain, state.genesisHash as Hex));
  return "sent";
}
