/**
 * EIP-712 messages of governance, in the same domain as the economy's (protocol/economy-messages.ts):
 * proposing, voting, delegating, cancelling, and the council's rejection and spend approval.
 * `countSignedBallots` reruns what the gateway does with ballots: anyone holding a proposal's
 * snapshot and its signed ballots can recompute the tally.
 */
import { type Address, type Hex, verifyTypedData } from "viem";
import { type Ballot, ballotRefusal, type PowerEntry, type Support, type Tally, type TallyRules, tally } from "./governance.js";
import { hostRegistryDomain, type SigningDomain } from "./host-registration.js";

export const governanceTypes = {
  Propose: [
    { name: "proposer", type: "address" },
    { name: "kind", type: "string" },
    { name: "title", type: "string" },
    { name: "description", type: "string" },
    /** The kind's payload as JSON text (docs/governance.md lists each kind's fields). */
    { name: "payload", type: "string" },
    /** Ids of earlier proposals this one builds on. */
    { name: "citations", type: "string[]" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  Vote: [
    { name: "voter", type: "address" },
    { name: "proposal", type: "string" },
    /** 0 against, 1 for, 2 abstain. */
    { name: "support", type: "uint8" },
    /** Quadratic mode: the number of votes (cost votes^2 voice credits); 0 otherwise. */
    { name: "votes", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
  Delegate: [
    { name: "holder", type: "address" },
    /** The delegate's address, or "" to undelegate. */
    { name: "delegate", type: "string" },
    { name: "id", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  CancelProposal: [
    { name: "proposer", type: "address" },
    { name: "proposal", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  CouncilReject: [
    { name: "member", type: "address" },
    { name: "proposal", type: "string" },
    { name: "reason", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
  CouncilApprove: [
    { name: "member", type: "address" },
    { name: "proposal", type: "string" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export type GovernanceAction = keyof typeof governanceTypes;

/** The message field naming the signer of each action. */
export const GOVERNANCE_SIGNER_FIELD: Record<GovernanceAction, string> = {
  Propose: "proposer",
  Vote: "voter",
  Delegate: "holder",
  CancelProposal: "proposer",
  CouncilReject: "member",
  CouncilApprove: "member",
};

interface TypedDataSigner {
  signTypedData: (parameters: never) => Promise<Hex>;
}

/**
 * Signs a governance message and returns the body the API takes: `{ message, signature }`.
 *
 * @example
 * const body = await signGovernanceMessage(account, domain, "Vote", {
 *   voter: account.address, proposal: "prop_0123456789abcdef", support: 1, votes: 0n, deadline,
 * });
 * await fetch(`${gateway}/v1/governance/votes`, { method: "POST", body: JSON.stringify(body) });
 */
export async function signGovernanceMessage(
  signer: TypedDataSigner,
  domain: SigningDomain,
  primaryType: GovernanceAction,
  message: Record<string, unknown>,
) {
  const signature = await signer.signTypedData({
    domain: hostRegistryDomain(domain),
    types: governanceTypes,
    primaryType,
    message,
  } as never);
  const json = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return { message: json, signature };
}

/** A vote as received: the signed message, its signature and when it arrived (unix ms). */
export interface SignedBallot {
  message: { voter: Address; proposal: string; support: number; votes: bigint; deadline: bigint };
  signature: Hex;
  receivedAt: number;
}

/** Whether `ballot` carries a valid signature of its voter over it, in `domain`. */
export async function ballotSignatureValid(ballot: SignedBallot, domain: SigningDomain): Promise<boolean> {
  try {
    return await verifyTypedData({
      address: ballot.message.voter,
      domain: hostRegistryDomain(domain),
      types: governanceTypes,
      primaryType: "Vote",
      message: ballot.message,
      signature: ballot.signature,
    } as Parameters<typeof verifyTypedData>[0]);
  } catch {
    return false;
  }
}

/**
 * Counts signed ballots in arrival order as the gateway does: a ballot is refused when its
 * signature is not its voter's, it names another proposal, it arrived outside the voting window
 * or after its own deadline, or `ballotRefusal` refuses it (no power, a second vote, ...).
 */
export async function countSignedBallots(
  proposal: { id: string; votingStarts: number; votingEnds: number },
  snapshot: readonly PowerEntry[],
  ballots: readonly SignedBallot[],
  rules: TallyRules,
  domain: SigningDomain,
): Promise<{ tally: Tally; counted: Ballot[]; refused: number }> {
  const byHolder = new Map(snapshot.map((e) => [e.holder, e]));
  const voted = new Set<string>();
  const counted: Ballot[] = [];
  let refused = 0;
  for (const b of [...ballots].sort((x, y) => x.receivedAt - y.receivedAt)) {
    const m = b.message;
    const ballot: Ballot = { voter: m.voter.toLowerCase(), support: m.support as Support, votes: m.votes };
    const ok =
      m.proposal === proposal.id &&
      (m.support === 0 || m.support === 1 || m.support === 2) &&
      b.receivedAt >= proposal.votingStarts &&
      b.receivedAt <= proposal.votingEnds &&
      BigInt(Math.floor(b.receivedAt / 1000)) <= m.deadline &&
      (await ballotSignatureValid(b, domain)) &&
      ballotRefusal(ballot, byHolder, voted, rules) === null;
    if (!ok) {
      refused++;
      continue;
    }
    voted.add(ballot.voter);
    counted.push(ballot);
  }
  return { tally: tally(counted, snapshot, rules), counted, refused };
}
