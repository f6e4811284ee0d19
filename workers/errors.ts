/**
 * The gateway's errors, in one registry: each code has its HTTP status, the JSON-RPC error code
 * used when it answers a JSON-RPC relay, a default message a person can act on, and when it
 * happens. `docs/errors.md` is generated from this table (`npm run docs`); the error boundary in
 * `app.ts` is the only place that turns an `ApiError` into a response.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface ErrorSpec {
  status: ContentfulStatusCode;
  /** JSON-RPC error code when the error answers a JSON-RPC relay. */
  rpc: number;
  /** Default message (most throw sites give a more precise one). */
  message: string;
  /** When it happens, for the documentation. */
  when: string;
  /** Where the error belongs in the documentation. */
  group: "request" | "auth" | "relay" | "registry" | "commitments" | "economy" | "licences" | "server" | "governance";
}

export const ERRORS = {
  malformed_json: {
    status: 400,
    rpc: -32700,
    group: "request",
    message: "The request body is not valid JSON",
    when: "the body does not parse as JSON (or is not the object the route takes)",
  },
  invalid_request: {
    status: 400,
    rpc: -32600,
    group: "request",
    message: "The body is not a JSON-RPC 2.0 call or batch",
    when: "a JSON-RPC relay whose body is not a call or a batch of calls",
  },
  invalid_field: {
    status: 400,
    rpc: -32600,
    group: "request",
    message: "A field of the request is missing or malformed",
    when: "a field, query parameter or path parameter is missing or malformed; the message names it",
  },
  body_too_large: {
    status: 413,
    rpc: -32600,
    group: "request",
    message: "The request body is too large",
    when: "the body is larger than `MAX_REQUEST_BYTES` (or a route's own smaller cap)",
  },
  not_found: { status: 404, rpc: -32601, group: "request", message: "No such route", when: "no route has this path" },
  method_not_allowed: {
    status: 405,
    rpc: -32600,
    group: "request",
    message: "JSON-RPC relays are POST requests",
    when: "a JSON-RPC relay that is not a POST",
  },
  unauthorized: {
    status: 401,
    rpc: -32001,
    group: "auth",
    message: "Missing or invalid API key",
    when: "the key (or the admin token) is missing, unknown or revoked",
  },
  admin_disabled: {
    status: 503,
    rpc: -32000,
    group: "auth",
    message: "No ADMIN_TOKEN is configured on this gateway",
    when: "an admin route on a gateway without the `ADMIN_TOKEN` secret",
  },
  insufficient_scope: {
    status: 403,
    rpc: -32003,
    group: "auth",
    message: "This key lacks the scope this request needs",
    when: "a relay key on an account route, or an account-only key on a relay",
  },
  key_in_url_not_allowed: {
    status: 403,
    rpc: -32003,
    group: "auth",
    message: "A key with the account scope may not appear in a URL",
    when: "a key with the `account` scope in a `/k/{key}/` URL",
  },
  payment_required: {
    status: 402,
    rpc: -32004,
    group: "auth",
    message: "The requestor owes debt; fund its balance",
    when: "a relay (or stake) of a requestor that owes debt from a settlement its balance could not cover",
  },
  bad_signature: {
    status: 401,
    rpc: -32000,
    group: "auth",
    message: "The signature does not match the message and the signer",
    when: "an EIP-712 signature that does not recover to the signer, or was made for another domain",
  },
  signature_expired: {
    status: 401,
    rpc: -32000,
    group: "auth",
    message: "The signed message's deadline has passed",
    when: "a signed message past its `deadline`",
  },
  deadline_too_far: {
    status: 400,
    rpc: -32600,
    group: "auth",
    message: "The deadline is too far ahead",
    when: "a signed message whose `deadline` is more than 24 h ahead",
  },
  nonce_mismatch: {
    status: 409,
    rpc: -32000,
    group: "auth",
    message: "The nonce is not the signer's next one",
    when: "a host-registry message whose nonce was already used or is out of order",
  },
  unknown_service: {
    status: 404,
    rpc: -32601,
    group: "relay",
    message: "No such service",
    when: "a service id that does not exist",
  },
  rpc_method_not_allowed: {
    status: 403,
    rpc: -32004,
    group: "relay",
    message: "This service does not relay this method",
    when: "an admin, debugging, node-account or state-changing method the service's allow list does not name",
  },
  quota_exhausted: {
    status: 429,
    rpc: -32005,
    group: "relay",
    message: "This session's compute-unit quota is spent",
    when: "the session's quota is spent; `Retry-After` says when the next session starts",
  },
  session_busy: {
    status: 429,
    rpc: -32005,
    group: "relay",
    message: "Too many relays of this session are in flight at once",
    when: "more than `SESSION_MAX_IN_FLIGHT` relays of the session at once; `Retry-After: 1`",
  },
  session_closed: {
    status: 409,
    rpc: -32000,
    group: "relay",
    message: "The named session has ended; send without X-Conductor-Session",
    when: "`X-Conductor-Session` names a session past its grace window, or one never opened in its epoch",
  },
  no_host_available: {
    status: 503,
    rpc: -32002,
    group: "relay",
    message: "No host of this session could serve the request",
    when: "the session has no host, or every attempted host failed",
  },
  frame_too_large: {
    status: 413,
    rpc: -32600,
    group: "relay",
    message: "The WebSocket frame is too large",
    when: "a WebSocket frame larger than `WS_MAX_FRAME_BYTES`, or a binary frame (JSON-RPC frames are text); the connection stays open",
  },
  invalid_params: {
    status: 400,
    rpc: -32602,
    group: "relay",
    message: "The call's parameters are not valid",
    when: "`eth_subscribe` naming a kind other than newHeads, logs or newPendingTransactions, or a malformed filter; `eth_subscribe` in a batch",
  },
  too_many_subscriptions: {
    status: 429,
    rpc: -32005,
    group: "relay",
    message: "This connection has as many subscriptions as it may",
    when: "`eth_subscribe` on a WebSocket connection that already has `WS_MAX_SUBSCRIPTIONS` open",
  },
  websocket_only: {
    status: 400,
    rpc: -32600,
    group: "relay",
    message: "Subscriptions need a WebSocket connection",
    when: "`eth_subscribe` or `eth_unsubscribe` sent over HTTP, or a WebSocket upgrade to an HTTP (inference) service",
  },
  not_available_in_v0: {
    status: 501,
    rpc: -32000,
    group: "relay",
    message: "Not available in v0: DB-CPTM lives only in the internal ledger",
    when: "a withdrawal, bridge, cash-out, wallet or payout route",
  },
  service_exists: {
    status: 409,
    rpc: -32000,
    group: "registry",
    message: "A service with this id exists",
    when: "creating a service whose id is taken",
  },
  reserved_service_id: {
    status: 400,
    rpc: -32600,
    group: "registry",
    message: "This id names an API resource",
    when: "a service id that is a resource name under `/v1`",
  },
  endpoint_not_allowed: {
    status: 400,
    rpc: -32600,
    group: "registry",
    message: "The endpoint is refused: hosts must be public http(s) URLs",
    when: "a host endpoint in a private, loopback, link-local or reserved range, or an alias of one",
  },
  stake_required: {
    status: 400,
    rpc: -32600,
    group: "registry",
    message: "A host must stake at least the minimum",
    when: "a registration with a stake below `MIN_HOST_STAKE`",
  },
  host_id_mismatch: {
    status: 400,
    rpc: -32600,
    group: "registry",
    message: "The signed hostId differs from the host in the path",
    when: "an update or leave whose signed host differs from the path",
  },
  host_left: {
    status: 409,
    rpc: -32000,
    group: "registry",
    message: "This host has left the network",
    when: "acting on a host that left",
  },
  unknown_host: { status: 404, rpc: -32601, group: "registry", message: "No such host", when: "a host id that does not exist" },
  not_host_operator: {
    status: 403,
    rpc: -32003,
    group: "registry",
    message: "The signer does not operate this host",
    when: "a signed action on a host by someone other than its operator",
  },
  unknown_requestor: {
    status: 404,
    rpc: -32601,
    group: "registry",
    message: "No such requestor",
    when: "a requestor id that does not exist",
  },
  unknown_key: {
    status: 404,
    rpc: -32601,
    group: "registry",
    message: "No such live key",
    when: "revoking a key that does not exist or is revoked",
  },
  unknown_session: {
    status: 404,
    rpc: -32601,
    group: "commitments",
    message: "No such session",
    when: "a session id that was never opened",
  },
  unknown_receipt: {
    status: 404,
    rpc: -32601,
    group: "commitments",
    message: "No such receipt",
    when: "a relay index the session does not have",
  },
  no_probe_plan: {
    status: 404,
    rpc: -32601,
    group: "commitments",
    message: "This session has no committed probe plan",
    when: "the probe plan of a session that has none (it had no hosts, or opened before plans were committed)",
  },
  not_committed: {
    status: 409,
    rpc: -32000,
    group: "commitments",
    message: "This session is not in a batch yet",
    when: "a proof of a receipt whose session cron has not batched",
  },
  unknown_batch: {
    status: 404,
    rpc: -32601,
    group: "commitments",
    message: "No such batch",
    when: "a batch id that does not exist",
  },
  not_settled: {
    status: 404,
    rpc: -32601,
    group: "commitments",
    message: "The batch is not settled",
    when: "the settlement of a batch not settled (yet)",
  },
  batch_not_final: {
    status: 409,
    rpc: -32000,
    group: "commitments",
    message: "Only verified or expired batches settle",
    when: "settling a batch that is neither verified nor expired",
  },
  unknown_failure: {
    status: 404,
    rpc: -32601,
    group: "commitments",
    message: "No such pipeline failure",
    when: "releasing a pipeline failure that is not recorded",
  },
  invalid_amount: {
    status: 400,
    rpc: -32600,
    group: "economy",
    message: "The amount is not valid",
    when: "an amount of zero, or out of range",
  },
  amount_too_small: {
    status: 400,
    rpc: -32600,
    group: "economy",
    message: "The amount buys no share of this pool",
    when: "a stake too small for one share",
  },
  same_account: {
    status: 400,
    rpc: -32600,
    group: "economy",
    message: "A transfer needs two different accounts",
    when: "a transfer to oneself",
  },
  stake_below_minimum: {
    status: 400,
    rpc: -32600,
    group: "economy",
    message: "What stays staked must be 0 or at least the minimum",
    when: "a stake or unstake that leaves less than the pool kind's minimum (and more than 0)",
  },
  requestor_pool: {
    status: 400,
    rpc: -32600,
    group: "economy",
    message: "Requestors stake with their account key at /v1/requestors/me/stake",
    when: "a signed stake or unstake of a requestor pool",
  },
  insufficient_balance: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The account does not hold enough available DB-CPTM for this",
    when: "a transfer, stake or registration the balance cannot cover",
  },
  insufficient_stake: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The holder's stake is worth less than the amount",
    when: "unstaking more than is held",
  },
  pool_wiped_out: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "This pool's stake was slashed to zero; it takes no new stake",
    when: "staking into a pool slashed to nothing",
  },
  operation_id_reused: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "This operation id was already used for a different request",
    when: "an operation id sent again with another request (the same request answers 200 `alreadyDone`)",
  },
  already_resolved: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "That pending transfer was already posted or voided",
    when: "a second resolution of one pending transfer",
  },
  busy: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The stake pool kept changing; retry the request",
    when: "a stake pool changed under the operation too many times",
  },
  conflict: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The change conflicts with data stored meanwhile; retry the request",
    when: "a write broke a database constraint a concurrent change set up",
  },
  unknown_validator: {
    status: 404,
    rpc: -32601,
    group: "economy",
    message: "No such validator",
    when: "a validator address that is not registered",
  },
  not_validator: {
    status: 403,
    rpc: -32003,
    group: "economy",
    message: "A licence binds only to the holder's own validator",
    when: "binding a licence to someone else's validator",
  },
  unknown_licence: {
    status: 404,
    rpc: -32601,
    group: "licences",
    message: "No such licence",
    when: "a licence id that does not exist",
  },
  not_licence_holder: {
    status: 403,
    rpc: -32003,
    group: "licences",
    message: "The signer does not hold this licence",
    when: "a licence action by someone other than its holder",
  },
  licence_mismatch: {
    status: 400,
    rpc: -32600,
    group: "licences",
    message: "The signed licence differs from the licence in the path",
    when: "a licence action whose signed licence differs from the path",
  },
  licence_ended: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "This licence was redeemed or liquidated",
    when: "acting on a licence that ended",
  },
  licence_bound: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "Unbind the licence first",
    when: "transferring, redeeming or re-binding a bound licence",
  },
  licence_unbinding: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "The licence is unbinding",
    when: "transferring, redeeming or binding a licence before its unbinding period ends",
  },
  licence_not_bound: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "The licence is not bound",
    when: "unbinding a licence that is not bound",
  },
  licence_changed: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "The licence changed meanwhile; read it again",
    when: "the losing one of two racing licence actions",
  },
  licence_supply_exhausted: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "The licence max supply has been minted",
    when: "a mint past `LICENCE_MAX_SUPPLY`",
  },
  licence_minting_closed: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "Licences are minted only in testnet",
    when: "a mint after the network moved to mainnet",
  },
  redemption_closed: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "Licences are redeemable only once the network is stabilized",
    when: "a redemption before the stabilized phase",
  },
  phase_not_allowed: {
    status: 409,
    rpc: -32000,
    group: "licences",
    message: "Phases go testnet -> mainnet -> stabilized",
    when: "a phase move backwards or skipping one",
  },
  no_genesis: {
    status: 404,
    rpc: -32601,
    group: "licences",
    message: "There is no genesis snapshot yet",
    when: "reading the genesis before the move to mainnet",
  },
  insufficient_treasury: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The treasury does not hold enough available DB-CPTM for this distribution",
    when: "a revenue distribution larger than the treasury's available balance",
  },
  invalid_revenue_rule: {
    status: 400,
    rpc: -32602,
    group: "economy",
    message: 'A revenue distribution\'s rule is "stake", "activity" or "hybrid"',
    when: "a revenue distribution with another rule",
  },
  unknown_ledger_root: {
    status: 404,
    rpc: -32601,
    group: "economy",
    message: "No ledger root for that epoch",
    when: "a ledger root or balance proof of an epoch not folded (yet)",
  },
  not_in_ledger_root: {
    status: 404,
    rpc: -32601,
    group: "economy",
    message: "The holder has no balance in that ledger root",
    when: "a balance proof for a holder whose balance account had no posted transfer by that epoch",
  },
  internal_error: {
    status: 500,
    rpc: -32603,
    group: "server",
    message: "The gateway failed to handle this request",
    when: "a bug: the gateway logs it (never with a key from the path)",
  },
  rep_not_transferable: {
    status: 403,
    rpc: -32000,
    group: "economy",
    message: "REP is reputation: it cannot be transferred, only earned in validation pools",
    when: "any request to transfer REP (`POST /v1/rep/transfers`)",
  },
  insufficient_rep: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The holder does not have enough available REP for this",
    when: "encumbering, releasing or staking on a vote more REP than the holder has available",
  },
  unknown_rep_pool: {
    status: 404,
    rpc: -32000,
    group: "economy",
    message: "No validation pool with this id",
    when: "a vote or read naming a batch that has no validation pool",
  },
  rep_pool_closed: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "This validation pool no longer takes votes",
    when: "a vote at or after the pool's `closesAt`, or on a resolved pool (or a pool without a producer)",
  },
  rep_vote_refused: {
    status: 403,
    rpc: -32000,
    group: "economy",
    message: "The producer of a batch cannot vote in its pool",
    when: "the batch's producer votes on its own batch",
  },
  rep_already_voted: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "This holder has already voted in this pool",
    when: "a second vote by the same holder in one pool (with another operation id)",
  },
  rep_producer_busy: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The holder produces a batch whose validation pool is still open; release after it resolves",
    when: "releasing REP while its holder is the producer of an open pool (its encumbered REP is at stake)",
  },
  rep_genesis_done: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "The REP genesis pool has already minted; REP now comes only from batch validation pools",
    when: "a second REP genesis with another allocation, or a genesis after REP exists",
  },
  unknown_contribution: {
    status: 404,
    rpc: -32000,
    group: "economy",
    message: "No contribution record for this proposal",
    when: "a contribution record or inclusion proof of a proposal without a record",
  },
  contribution_not_committed: {
    status: 409,
    rpc: -32000,
    group: "economy",
    message: "This contribution record is not in a committed contribution root yet; try again after the next cron run",
    when: "an inclusion proof asked before any root including the record was computed",
  },
  unknown_proposal: {
    status: 404,
    rpc: -32602,
    group: "governance",
    message: "No such proposal",
    when: "a proposal id that does not exist",
  },
  below_proposal_threshold: {
    status: 403,
    rpc: -32003,
    group: "governance",
    message: "The proposer's voting power is below the proposal threshold",
    when: "a proposal from a holder with less voting power (liquid balance plus bonded stake) than `PROPOSAL_THRESHOLD`",
  },
  invalid_payload: {
    status: 400,
    rpc: -32602,
    group: "governance",
    message: "The proposal's payload does not fit its kind",
    when: "a proposal whose payload is not the kind's JSON (a parameter outside its bounds, an unknown parameter, a bad amount, recipient or council); the message says what",
  },
  unknown_citation: {
    status: 400,
    rpc: -32602,
    group: "governance",
    message: "A cited proposal does not exist",
    when: "a proposal citing an id that is not an earlier proposal",
  },
  citation_not_older: {
    status: 400,
    rpc: -32602,
    group: "governance",
    message: "A proposal may cite only earlier proposals",
    when: "a proposal citing itself, a proposal twice, or one not created before it (citations form a DAG, never a cycle)",
  },
  proposal_state: {
    status: 409,
    rpc: -32003,
    group: "governance",
    message: "The proposal is not in a state that allows this",
    when: "an action the proposal's state does not allow now (cancel or reject after review, vote outside voting, queue before it succeeded, execute before the timelock or after the grace period); the message names the state",
  },
  proposal_changed: {
    status: 409,
    rpc: -32003,
    group: "governance",
    message: "The proposal changed while this ran; read it again",
    when: "another transition of the same proposal landed first",
  },
  not_proposer: {
    status: 403,
    rpc: -32003,
    group: "governance",
    message: "Only the proposer may cancel a proposal",
    when: "a cancellation signed by someone other than the proposer",
  },
  not_council_member: {
    status: 403,
    rpc: -32003,
    group: "governance",
    message: "Only a council member may do this",
    when: "a rejection or spend approval signed by someone not on the council in office",
  },
  no_voting_power: {
    status: 403,
    rpc: -32003,
    group: "governance",
    message: "The voter had no voting power at the snapshot",
    when: "a vote from a holder with no power in the proposal's snapshot (and, in delegated mode, none delegated to it)",
  },
  already_voted: {
    status: 409,
    rpc: -32003,
    group: "governance",
    message: "This holder has already voted on this proposal",
    when: "a second vote by the same holder on one proposal (one vote per holder per proposal)",
  },
  not_a_member: {
    status: 403,
    rpc: -32003,
    group: "governance",
    message: "The voter was not a member at the snapshot",
    when: "a one-person-one-vote ballot from a holder whose bonded stake at the snapshot was below `GOVERNANCE_MEMBER_MIN_STAKE`",
  },
  votes_over_credits: {
    status: 400,
    rpc: -32602,
    group: "governance",
    message: "Quadratic votes cost more voice credits than the voter has",
    when: "a quadratic ballot of n votes where n^2 exceeds the voter's snapshot power",
  },
  invalid_votes: {
    status: 400,
    rpc: -32602,
    group: "governance",
    message: "The ballot's votes do not fit the proposal's mode",
    when: "votes 0 in quadratic mode, or votes other than 0 in the other modes",
  },
  council_signatures_missing: {
    status: 409,
    rpc: -32003,
    group: "governance",
    message: "This treasury spend needs more council signatures",
    when: "executing a treasury spend above `COUNCIL_SPEND_THRESHOLD` before M council members approved it",
  },
  self_delegation: {
    status: 400,
    rpc: -32602,
    group: "governance",
    message: "A holder cannot delegate to itself",
    when: "a delegation naming the signer (send an empty delegate to undelegate)",
  },
  quorum_disagreement: {
    status: 502,
    rpc: -32002,
    group: "relay",
    message: "The hosts asked for a quorum read disagree and no majority formed",
    when: "a method the service's relay policy reads by quorum, answered differently by its hosts with no majority (never a guess)",
  },
  quorum_unavailable: {
    status: 503,
    rpc: -32002,
    group: "relay",
    message: "Too few hosts answered a quorum read to form a majority",
    when: "a method the service's relay policy reads by quorum, when fewer hosts than a majority of `quorumSize` answered",
  },
  offer_price_out_of_bounds: {
    status: 400,
    rpc: -32600,
    group: "registry",
    message: "The offered price per compute unit is outside the allowed bounds",
    when: "a `PublishOffer` price below `marketMinPrice` or above `marketMaxPrice` as governed for the epoch the offer takes effect in (defaults `MARKET_MIN_PRICE`, `MARKET_MAX_PRICE`)",
  },
  host_not_serving_service: {
    status: 409,
    rpc: -32000,
    group: "registry",
    message: "The host does not serve this service",
    when: "an offer for a service the host is not registered for",
  },
  invalid_requirement: {
    status: 400,
    rpc: -32602,
    group: "relay",
    message: "A requirement is malformed",
    when: "an `X-Conductor-Region`, `-Model`, `-Min-Score`, `-Max-Price` or `-Priority` header (or a key's requirements) that does not parse; the message names it",
  },
  requirements_unsatisfiable: {
    status: 422,
    rpc: -32003,
    group: "relay",
    message: "No host meets the requirements",
    when: "session selection kept no host: the message and the `X-Conductor-Excluded-By` header name the requirement that excluded every host",
  },
  too_many_requirement_sets: {
    status: 429,
    rpc: -32005,
    group: "relay",
    message:
      "This requestor already has 8 sessions with other requirements for this service in this epoch; reuse one of them or wait for the next session",
    when: "a relay whose requirements would open a ninth distinct requirement set for the requestor, service and epoch (each opens a session and its fisherman)",
  },
  invalid_max_tokens: {
    status: 400,
    rpc: -32602,
    group: "relay",
    message: "max_tokens must be a positive integer",
    when: 'a relay to a token-metered service whose `max_tokens` or `max_completion_tokens` is there but not a positive integer below 2^31 (docs/market.md, "Token metering")',
  },
  parameter_bounds_conflict: {
    status: 409,
    rpc: -32003,
    group: "governance",
    message: "The parameter change would put a governed minimum above its maximum",
    when: "a `parameter_change` proposal, or its execution, that would leave `marketMinPrice` above `marketMaxPrice` once every executed change (pending ones included) holds; the message names both values",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  /** JSON-RPC error code used when the error answers a JSON-RPC relay. */
  readonly rpcCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    /** Extra response headers, such as `Retry-After`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERRORS[code].status;
    this.rpcCode = ERRORS[code].rpc;
  }
}

/**
 * An error of the registry, with a message that says what exactly went wrong and how to fix it.
 *
 * @example
 * throw apiError("unknown_host", `No host "${id}"`);
 */
export const apiError = (code: ErrorCode, message?: string, headers?: Record<string, string>) =>
  new ApiError(code, message, headers);

export const unauthorized = (message?: string) =>
  apiError("unauthorized", message, { "WWW-Authenticate": 'Bearer realm="conductor-relay"' });
export const payloadTooLarge = (limit: number) => apiError("body_too_large", `Request body is larger than ${limit} bytes`);
export const quotaExhausted = (retryAfterSeconds: number) =>
  apiError("quota_exhausted", `This session's compute-unit quota is spent; a new session starts in ${retryAfterSeconds} s`, {
    "Retry-After": String(retryAfterSeconds),
  });
export const sessionBusy = (retryAfterSeconds: number) =>
  apiError(
    "session_busy",
    `Too many relays of this session are in flight at once; retry in ${retryAfterSeconds} s or send fewer at a time`,
    { "Retry-After": String(retryAfterSeconds) },
  );

/**
 * A requestor owes DB-CPTM from settled relays (its balance could not cover them): its keys do
 * not relay and it cannot stake more until cron has collected the debt from its balance.
 */
export const paymentRequired = (requestorId: string, debt: bigint) =>
  apiError(
    "payment_required",
    `Requestor ${requestorId} owes ${debt} minor units (${dbCptm(debt)} DB-CPTM) for relays settled when its balance could not cover them. Fund its ledger balance (balance:${requestorId}, e.g. a transfer to "${requestorId}"): the next cron run collects the debt, after which its keys relay and it can stake again`,
  );

/** Minor units as DB-CPTM (6 decimals), e.g. 40000n -> "0.04". */
function dbCptm(minor: bigint): string {
  const fraction = (minor % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${minor / 1_000_000n}${fraction ? `.${fraction}` : ""}`;
}
