/**
 * `@conductor-relay/sdk`: talk to a Conductor Relay gateway from Node or a browser.
 *
 * - relays: `conductorTransport` (viem), `conductorProvider` (`@conductor-relay/sdk/ethers`),
 *   `conductorOpenAI` (`@conductor-relay/sdk/openai`);
 * - reads and signed writes: `createConductorClient`, typed from the Worker's own route schemas;
 * - verification: `verifyReceiptProof`, `verifyBatchId` (with `protocol/`);
 * - signing: `signHostMessage`, `signEconomyMessage`, `hostIdOf`.
 *
 * Governance messages (proposals, votes) are not signed here: the gateway has no governance API
 * yet (DESIGN.md section 10 is not built), so there is nothing to sign them for.
 *
 * @example
 * import { conductorTransport, createConductorClient } from "@conductor-relay/sdk";
 */
export { signEconomyMessage } from "../../../protocol/economy-messages.js";
export { signHostMessage } from "../../../protocol/host-registration.js";
export {
  type Batch,
  type ConductorClient,
  type ConductorClientConfig,
  createConductorClient,
  type Host,
  type ReceiptPage,
  type ReceiptProof,
  type ReportCardPage,
  type Session,
} from "./client.js";
export { answerOf, ConductorApiError, type ConductorErrorType } from "./errors.js";
export { type ConductorTransportParameters, conductorTransport } from "./transport.js";
export { type ServiceParameters, serviceUrl } from "./urls.js";
export { type ReceiptProofInput, type ReceiptProofVerification, verifyBatchId, verifyReceiptProof } from "./verify.js";
export { type EconomyWriteParameters, hostIdOf, type SignedWriteParameters, type SigningAccount } from "./writes.js";
