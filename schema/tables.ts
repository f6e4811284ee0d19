/**
 * Drizzle table definitions mirroring `schema/migrations` (the SQL files are the source of
 * truth applied to D1 and libSQL; these give the repository layer typed queries).
 * test/node/schema-drift.test.ts checks that they mirror them: tables, columns, keys, indexes.
 */
import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  unique,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

export const services = sqliteTable("services", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["jsonrpc", "http"] }).notNull(),
  chainId: integer("chain_id"),
  model: text("model"),
  defaultComputeUnits: integer("default_compute_units").notNull().default(1),
  /** JSON object: method name to compute units. */
  methodComputeUnits: text("method_compute_units").notNull().default("{}"),
  /** What a requestor is charged per compute unit, in DB-CPTM minor units. */
  pricePerComputeUnit: integer("price_per_compute_unit").notNull().default(10),
  /** JSON array: refused-namespace methods (or `prefix*`) this service forwards anyway. */
  allowedMethods: text("allowed_methods").notNull().default("[]"),
  createdAt: integer("created_at").notNull(),
  /** The chain partner holder (0010) paid this service's partner share of settlements; null: `system:chain_partner`. */
  partner: text("partner"),
  /** JSON object: the relay engine's policy (hedging, quorum methods, attempt overrides); `{}` is the defaults. */
  relayPolicy: text("relay_policy").notNull().default("{}"),

  /** Inference metering (0012): prompt + completion tokens per compute unit; 0 charges per request. */
  tokensPerComputeUnit: integer("tokens_per_compute_unit").notNull().default(0),
  /** SLA (0012): report-card availability and latency scores below these credit the requestor; 0 is no SLA. */
  slaMinAvailability: real("sla_min_availability").notNull().default(0),
  slaMinLatency: real("sla_min_latency").notNull().default(0),
});

export const operators = sqliteTable("operators", {
  address: text("address").primaryKey(),
  nextNonce: integer("next_nonce").notNull().default(0),
});

export const hosts = sqliteTable(
  "hosts",
  {
    id: text("id").primaryKey(),
    operator: text("operator")
      .notNull()
      .references(() => operators.address),
    endpoint: text("endpoint").notNull(),
    latitude: real("latitude").notNull(),
    longitude: real("longitude").notNull(),
    status: text("status", { enum: ["active", "left"] })
      .notNull()
      .default("active"),
    activeSince: integer("active_since").notNull(),
    leftAt: integer("left_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("hosts_operator").on(t.operator)],
);

export const hostServices = sqliteTable(
  "host_services",
  {
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.serviceId] }), index("host_services_service").on(t.serviceId, t.hostId)],
);

export const requestors = sqliteTable(
  "requestors",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    /** What settlement could not charge and cron has not collected yet, in minor units (0005; the sum of its `debt_entries`). */
    debt: integer("debt").notNull().default(0),
  },
  (t) => [index("requestors_in_debt").on(t.debt).where(sql`${t.debt} > 0`)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    requestorId: text("requestor_id")
      .notNull()
      .references(() => requestors.id),
    /** SHA-256 of the key, hex; the key itself is shown once and never stored. */
    keyHash: text("key_hash").notNull().unique(),
    /** The first characters of the key, so a person can tell keys apart. */
    prefix: text("prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
    /** "relay", "account" or "account,relay" (0005): what the key may do. */
    scopes: text("scopes").notNull().default("relay"),
    /** The key's standing requirements (0012): JSON of protocol/market.ts `Requirements`, '' for none. */
    requirements: text("requirements").notNull().default(""),
  },
  (t) => [index("api_keys_requestor").on(t.requestorId)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    requestorId: text("requestor_id")
      .notNull()
      .references(() => requestors.id),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id),
    epoch: integer("epoch").notNull(),
    seed: text("seed").notNull(),
    algorithm: text("algorithm").notNull(),
    /** JSON array of host ids, best first. */
    hostIds: text("host_ids").notNull(),
    quota: integer("quota").notNull(),
    startsAt: integer("starts_at").notNull(),
    endsAt: integer("ends_at").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Set by cron when the session is closed and its receipts folded into `sessionRoot`. */
    closedAt: integer("closed_at"),
    sessionRoot: text("session_root"),
    relayCount: integer("relay_count"),
    /** Compute units of the session's successful relays. */
    computeUnits: integer("compute_units"),
    batchId: text("batch_id"),
    /**
     * keccak256(abi.encode(version, planSeed, sessionSeed)) of the fisherman's secret probe plan
     * seed (0007), set when the session opens; null when the session has no hosts.
     */
    probePlanCommitment: text("probe_plan_commitment"),
    /** The plan seed, revealed once the fisherman has finished (after the grace window). */
    probePlanSeed: text("probe_plan_seed"),
    probePlanRevealedAt: integer("probe_plan_revealed_at"),
    /** The canonical requirements text the seed was computed from (0012): '' for a plain session. */
    requirements: text("requirements").notNull().default(""),
    /** JSON object host id -> offered price per compute unit, frozen when the session opened (0012). */
    hostPrices: text("host_prices").notNull().default("{}"),
  },
  (t) => [
    unique().on(t.requestorId, t.serviceId, t.epoch, t.requirements),
    index("sessions_ends_at").on(t.endsAt),
    index("sessions_open").on(t.closedAt, t.endsAt),
    index("sessions_unbatched").on(t.batchId, t.closedAt),
  ],
);

export const reportCards = sqliteTable(
  "report_cards",
  {
    sessionId: text("session_id").notNull(),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id),
    serviceId: text("service_id").notNull(),
    epoch: integer("epoch").notNull(),
    samples: integer("samples").notNull(),
    availability: real("availability").notNull(),
    latencyP50Ms: integer("latency_p50_ms"),
    latencyP90Ms: integer("latency_p90_ms"),
    latencyScore: real("latency_score"),
    correctness: real("correctness"),
    freshness: real("freshness"),
    identityFailureRate: real("identity_failure_rate").notNull(),
    score: real("score"),
    status: text("status", { enum: ["scored", "insufficient_samples"] }).notNull(),
    /** SHA-256 over the card's samples (canonical JSON lines), committing to what was measured. */
    samplesHash: text("samples_hash").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.hostId] }),
    index("report_cards_host").on(t.hostId, t.epoch),
    index("report_cards_epoch").on(t.epoch),
  ],
);

export const hostJail = sqliteTable(
  "host_jail",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id),
    reason: text("reason").notNull(),
    jailedAt: integer("jailed_at").notNull(),
    fromEpoch: integer("from_epoch").notNull(),
    releaseAfter: integer("release_after").notNull(),
    releasedAt: integer("released_at"),
    untilEpoch: integer("until_epoch"),
    releaseReason: text("release_reason"),
    /** When the economy slashed the host for this jail term. */
    slashedAt: integer("slashed_at"),
  },
  (t) => [
    index("host_jail_host").on(t.hostId, t.fromEpoch),
    // At most one open jail term per host.
    uniqueIndex("host_jail_open").on(t.hostId).where(sql`${t.untilEpoch} IS NULL`),
  ],
);

export const batches = sqliteTable(
  "batches",
  {
    /** keccak256 of the batch's content (protocol/commitments.ts `batchIdOf`). */
    id: text("id").primaryKey(),
    root: text("root").notNull(),
    reportCardRoot: text("report_card_root").notNull(),
    relayCount: integer("relay_count").notNull(),
    computeUnits: integer("compute_units").notNull(),
    sessionCount: integer("session_count").notNull(),
    state: text("state", { enum: ["pending", "submitted", "committed", "verified", "expired", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
    commitTx: text("commit_tx"),
    committedBlock: integer("committed_block"),
    /** The transaction that verified or expired the batch, when the gateway saw it. */
    finalTx: text("final_tx"),
    /** The address whose proof verified the batch (from the contract's BatchVerified event). */
    prover: text("prover"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("batches_state").on(t.state, t.nextAttemptAt)],
);

export const batchSessions = sqliteTable(
  "batch_sessions",
  {
    batchId: text("batch_id")
      .notNull()
      .references(() => batches.id),
    ordinal: integer("ordinal").notNull(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id),
    sessionSeed: text("session_seed").notNull(),
    sessionRoot: text("session_root").notNull(),
    relayCount: integer("relay_count").notNull(),
    computeUnits: integer("compute_units").notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.ordinal] }), unique().on(t.sessionId)],
);

// Economy v0 (0004_economy.sql): ledger, stake pools, validators, licences, settlement.

export const operations = sqliteTable("operations", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  /** Canonical JSON of what was asked: a retry must ask the same. */
  request: text("request").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["system", "balance", "pool", "licence", "clearing"] }).notNull(),
    owner: text("owner"),
    mayGoNegative: integer("may_go_negative").notNull().default(0),
    debitsPosted: integer("debits_posted").notNull().default(0),
    creditsPosted: integer("credits_posted").notNull().default(0),
    debitsPending: integer("debits_pending").notNull().default(0),
    creditsPending: integer("credits_pending").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("accounts_owner").on(t.owner)],
);

export const transfers = sqliteTable(
  "transfers",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    debitAccount: text("debit_account")
      .notNull()
      .references(() => accounts.id),
    creditAccount: text("credit_account")
      .notNull()
      .references(() => accounts.id),
    amount: integer("amount").notNull(),
    phase: text("phase", { enum: ["single", "pending", "post", "void"] }).notNull(),
    /** The pending transfer this one posts or voids; unique, so a pending transfer has one outcome. */
    pendingId: text("pending_id")
      .unique()
      .references((): AnySQLiteColumn => transfers.id),
    code: text("code").notNull(),
    reference: text("reference"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("transfers_debit").on(t.debitAccount, t.seq),
    index("transfers_credit").on(t.creditAccount, t.seq),
    index("transfers_reference").on(t.reference),
  ],
);

export const stakePools = sqliteTable("stake_pools", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["host", "requestor", "validator"] }).notNull(),
  subject: text("subject").notNull(),
  totalShares: integer("total_shares").notNull().default(0),
  version: integer("version").notNull().default(0),
  createdAt: integer("created_at").notNull(),
});

export const stakePositions = sqliteTable(
  "stake_positions",
  {
    poolId: text("pool_id")
      .notNull()
      .references(() => stakePools.id),
    holder: text("holder").notNull(),
    shares: integer("shares").notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.holder] }), index("stake_positions_holder").on(t.holder)],
);

export const unbondings = sqliteTable(
  "unbondings",
  {
    id: text("id").primaryKey(),
    poolId: text("pool_id")
      .notNull()
      .references(() => stakePools.id),
    holder: text("holder").notNull(),
    transferId: text("transfer_id")
      .notNull()
      .references(() => transfers.id),
    amount: integer("amount").notNull(),
    startedAt: integer("started_at").notNull(),
    maturesAt: integer("matures_at").notNull(),
    state: text("state", { enum: ["unbonding", "returned", "slashed_out"] }).notNull(),
    endedAt: integer("ended_at"),
  },
  (t) => [
    index("unbondings_due").on(t.state, t.maturesAt),
    index("unbondings_pool").on(t.poolId, t.state),
    index("unbondings_holder").on(t.holder, t.startedAt),
  ],
);

export const validators = sqliteTable("validators", {
  address: text("address").primaryKey(),
  name: text("name").notNull(),
  registeredAt: integer("registered_at").notNull(),
});

export const networkState = sqliteTable("network_state", {
  id: integer("id").primaryKey(),
  phase: text("phase", { enum: ["testnet", "mainnet", "stabilized"] }).notNull(),
  licencesMinted: integer("licences_minted").notNull(),
  licenceCap: integer("licence_cap").notNull(),
  changedAt: integer("changed_at").notNull(),
  genesisHash: text("genesis_hash"),
  genesisSnapshot: text("genesis_snapshot"),
  genesisTx: text("genesis_tx"),
});

export const licences = sqliteTable(
  "licences",
  {
    id: text("id").primaryKey(),
    serial: integer("serial").notNull().unique(),
    holder: text("holder").notNull(),
    boundTo: text("bound_to"),
    state: text("state", { enum: ["live", "liquidated", "redeemed"] }).notNull(),
    mintedAt: integer("minted_at").notNull(),
    endedAt: integer("ended_at"),
    /** Optimistic lock (0005): every change checks the version it read (`stale_licence`). */
    version: integer("version").notNull().default(0),
    /** The pool it was unbound from, still liable to that pool's slashes until `unbindingUntil` (Unix ms). */
    unbindingFrom: text("unbinding_from"),
    unbindingUntil: integer("unbinding_until"),
  },
  (t) => [
    index("licences_holder").on(t.holder, t.serial),
    index("licences_bound").on(t.boundTo, t.state),
    index("licences_unbinding").on(t.unbindingFrom, t.unbindingUntil),
  ],
);

export const sessionHosts = sqliteTable(
  "session_hosts",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id),
    hostId: text("host_id").notNull(),
    relays: integer("relays").notNull(),
    computeUnits: integer("compute_units").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.hostId] })],
);

export const settlements = sqliteTable("settlements", {
  batchId: text("batch_id")
    .primaryKey()
    .references(() => batches.id),
  outcome: text("outcome", { enum: ["paid", "expired", "prover_not_active"] }).notNull(),
  prover: text("prover"),
  computeUnits: integer("compute_units").notNull(),
  due: integer("due").notNull(),
  charged: integer("charged").notNull(),
  uncollected: integer("uncollected").notNull(),
  hosts: integer("hosts").notNull(),
  treasury: integer("treasury").notNull(),
  validators: integer("validators").notNull(),
  fisherman: integer("fisherman").notNull(),
  chainPartner: integer("chain_partner").notNull(),
  burned: integer("burned").notNull(),
  withheldByScore: integer("withheld_by_score").notNull(),
  settledAt: integer("settled_at").notNull(),
  /** Where the validators' share went (0005): the prover's pool account or `system:treasury`; null when nothing was paid. */
  validatorShareTo: text("validator_share_to"),
  validatorShareReason: text("validator_share_reason", { enum: ["active_prover", "prover_not_active", "no_prover"] }),
  /** Credited to requestors served below their SLA, from `withheldByScore` (0012, docs/market.md). */
  slaCredits: integer("sla_credits").notNull().default(0),
});

/**
 * Cron work that failed: one row per (step, subject), retried with exponential backoff and
 * quarantined after repeated failures (or at once when the data itself is invalid), so one bad
 * session or batch never blocks the others. Public at `GET /v1/pipeline/failures`.
 */
export const pipelineFailures = sqliteTable(
  "pipeline_failures",
  {
    /** close_session, batch_session, advance_batch, settle_batch, slash_jail, unbond_return, ... */
    step: text("step").notNull(),
    /** The session id, batch id, jail term id or unbonding id the step failed on. */
    subject: text("subject").notNull(),
    attempts: integer("attempts").notNull(),
    lastError: text("last_error").notNull(),
    firstFailedAt: integer("first_failed_at").notNull(),
    lastFailedAt: integer("last_failed_at").notNull(),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    /** Set when the pipeline stopped retrying; an admin may release it for another try. */
    quarantinedAt: integer("quarantined_at"),
  },
  (t) => [primaryKey({ columns: [t.step, t.subject] }), index("pipeline_failures_quarantined").on(t.quarantinedAt)],
);

export const debtEntries = sqliteTable(
  "debt_entries",
  {
    id: text("id").primaryKey(),
    requestorId: text("requestor_id")
      .notNull()
      .references(() => requestors.id),
    /** Positive: recorded at settlement; negative: collected. */
    amount: integer("amount").notNull(),
    reason: text("reason", { enum: ["settlement", "balance_collection", "unbonding_collection"] }).notNull(),
    /** The settled batch, or the collecting operation. */
    reference: text("reference").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("debt_entries_requestor").on(t.requestorId, t.createdAt)],
);

/**
 * Relays per service and minute (0007), for the dashboard's charts: what the sessions' objects
 * learned from their receipt reports, added in one upsert per report (never per relay). Counts,
 * not receipts: the receipts themselves stay in the sessions' objects.
 */
export const relayMinutes = sqliteTable(
  "relay_minutes",
  {
    serviceId: text("service_id").notNull(),
    /** Unix milliseconds of the minute's start; a relay counts in the minute it was admitted in. */
    minute: integer("minute").notNull(),
    /** Reported receipts: served (`ok`, `cancelled`) and `failed`. */
    relays: integer("relays").notNull(),
    /** Receipts with outcome `failed` (no host gave a usable answer). */
    failures: integer("failures").notNull(),
    /** Sum and maximum of the served relays' latency (relays - failures of them). */
    latencySumMs: integer("latency_sum_ms").notNull(),
    latencyMaxMs: integer("latency_max_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceId, t.minute] })],
);

/**
 * REP (0011, docs/rep.md): its own double-entry book, same shape and rules as `accounts` and
 * `transfers`; the migration's checks refuse REP moving between holders and mints outside pools.
 */
export const repAccounts = sqliteTable(
  "rep_accounts",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["system", "liquid", "stake", "pool"] }).notNull(),
    owner: text("owner"),
    mayGoNegative: integer("may_go_negative").notNull().default(0),
    debitsPosted: integer("debits_posted").notNull().default(0),
    creditsPosted: integer("credits_posted").notNull().default(0),
    debitsPending: integer("debits_pending").notNull().default(0),
    creditsPending: integer("credits_pending").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("rep_accounts_owner").on(t.owner)],
);

export const repTransfers = sqliteTable(
  "rep_transfers",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    debitAccount: text("debit_account")
      .notNull()
      .references(() => repAccounts.id),
    creditAccount: text("credit_account")
      .notNull()
      .references(() => repAccounts.id),
    amount: integer("amount").notNull(),
    phase: text("phase", { enum: ["single", "pending", "post", "void"] }).notNull(),
    pendingId: text("pending_id")
      .unique()
      .references((): AnySQLiteColumn => repTransfers.id),
    code: text("code").notNull(),
    /** The pool (batch id or `genesis`) or the release it belongs to. */
    reference: text("reference"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("rep_transfers_debit").on(t.debitAccount, t.seq),
    index("rep_transfers_credit").on(t.creditAccount, t.seq),
    index("rep_transfers_reference").on(t.reference),
  ],
);

/** One validation pool per batch (id = batch id) and the genesis pool; the draw is public. */
export const repPools = sqliteTable(
  "rep_pools",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["batch", "genesis"] }).notNull(),
    seed: text("seed").notNull(),
    /** The last REP transfer the draw's weights include. */
    ledgerSeq: integer("ledger_seq").notNull(),
    /** JSON [[holder, encumbered], ...] sorted by holder. */
    candidates: text("candidates").notNull(),
    totalWeight: integer("total_weight").notNull(),
    producer: text("producer"),
    producerStake: integer("producer_stake").notNull().default(0),
    supply: integer("supply").notNull(),
    quorum: integer("quorum").notNull(),
    opensAt: integer("opens_at").notNull(),
    closesAt: integer("closes_at").notNull(),
    state: text("state", {
      enum: ["open", "accepted", "rejected", "tied", "no_quorum", "no_producer", "genesis"],
    }).notNull(),
    acceptStake: integer("accept_stake").notNull().default(0),
    rejectStake: integer("reject_stake").notNull().default(0),
    voters: integer("voters").notNull().default(0),
    fees: integer("fees").notNull().default(0),
    minted: integer("minted").notNull().default(0),
    forfeited: integer("forfeited").notNull().default(0),
    resolvedAt: integer("resolved_at"),
    /** DB-CPTM paid to the producer when the batch settled. */
    producerReward: integer("producer_reward"),
    version: integer("version").notNull().default(0),
  },
  (t) => [index("rep_pools_state").on(t.state, t.closesAt), index("rep_pools_producer").on(t.producer, t.state)],
);

export const repVotes = sqliteTable(
  "rep_votes",
  {
    poolId: text("pool_id")
      .notNull()
      .references(() => repPools.id),
    voter: text("voter").notNull(),
    accept: integer("accept").notNull(),
    stake: integer("stake").notNull(),
    signature: text("signature").notNull(),
    operation: text("operation").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.voter] })],
);

export const repReleases = sqliteTable(
  "rep_releases",
  {
    id: text("id").primaryKey(),
    holder: text("holder").notNull(),
    transferId: text("transfer_id")
      .notNull()
      .references(() => repTransfers.id),
    amount: integer("amount").notNull(),
    startedAt: integer("started_at").notNull(),
    maturesAt: integer("matures_at").notNull(),
    state: text("state", { enum: ["releasing", "released"] }).notNull(),
    endedAt: integer("ended_at"),
  },
  (t) => [index("rep_releases_due").on(t.state, t.maturesAt), index("rep_releases_holder").on(t.holder, t.startedAt)],
);

/** One immutable record per proposal (triggers refuse changes); adopted ones become service records. */
export const contributionRecords = sqliteTable("contribution_records", {
  proposalId: text("proposal_id").primaryKey(),
  ordinal: integer("ordinal").notNull().unique(),
  contentHash: text("content_hash").notNull(),
  author: text("author").notNull(),
  /** JSON array of cited proposal ids, sorted. */
  citations: text("citations").notNull(),
  createdAt: integer("created_at").notNull(),
  serviceRecord: integer("service_record").notNull().default(0),
  adoptedAt: integer("adopted_at"),
});

export const contributionRoots = sqliteTable(
  "contribution_roots",
  {
    root: text("root").primaryKey(),
    count: integer("count").notNull(),
    /** JSON array of leaf hashes in tree order. */
    leaves: text("leaves").notNull(),
    createdAt: integer("created_at").notNull(),
    tx: text("tx"),
    committedAt: integer("committed_at"),
  },
  (t) => [index("contribution_roots_created").on(t.createdAt)],
);

export const citationRewards = sqliteTable("citation_rewards", {
  proposalId: text("proposal_id").primaryKey(),
  reward: integer("reward").notNull(),
  toProposer: integer("to_proposer").notNull(),
  toCitations: integer("to_citations").notNull(),
  /** JSON [[author, amount], ...]. */
  flows: text("flows").notNull(),
  paidAt: integer("paid_at").notNull(),
});

// Governance v0 (0009_governance.sql): proposals, citations, snapshots, votes, delegations,
// councils, spend approvals and executed parameter changes.

export const proposals = sqliteTable(
  "proposals",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    proposer: text("proposer").notNull(),
    kind: text("kind").notNull(),
    /** The voting mode of the kind when the proposal was made (shown on the proposal). */
    mode: text("mode").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull(),
    /** The kind's payload as the proposer signed it (JSON text). */
    payload: text("payload").notNull(),
    /** keccak256 of the canonical content (protocol/governance.ts `proposalContentHash`). */
    contentHash: text("content_hash").notNull(),
    /** The last stored state (the public state also follows the clock). */
    state: text("state").notNull(),
    createdAt: integer("created_at").notNull(),
    reviewEnds: integer("review_ends").notNull(),
    votingStarts: integer("voting_starts"),
    votingEnds: integer("voting_ends"),
    /** Rules in force when voting opened, kept so a later parameter change cannot change this proposal's count. */
    quorumBps: integer("quorum_bps"),
    supermajorityBps: integer("supermajority_bps"),
    memberMinStake: integer("member_min_stake"),
    outcome: text("outcome"),
    forVotes: integer("for_votes"),
    againstVotes: integer("against_votes"),
    abstainVotes: integer("abstain_votes"),
    participation: integer("participation"),
    eligible: integer("eligible"),
    eta: integer("eta"),
    expiresAt: integer("expires_at"),
    executedAt: integer("executed_at"),
    cancelledAt: integer("cancelled_at"),
    rejectedAt: integer("rejected_at"),
    rejectedBy: text("rejected_by"),
    rejectReason: text("reject_reason"),
    /** Bumped by each transition, -1 (`stale_proposal`) when the state it expected had changed. */
    version: integer("version").notNull().default(0),
  },
  (t) => [index("proposals_state").on(t.state, t.seq), index("proposals_proposer").on(t.proposer, t.createdAt)],
);

export const proposalCitations = sqliteTable(
  "proposal_citations",
  {
    proposalId: text("proposal_id")
      .notNull()
      .references(() => proposals.id),
    citedId: text("cited_id")
      .notNull()
      .references(() => proposals.id),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.citedId] }), index("proposal_citations_cited").on(t.citedId)],
);

export const governanceSnapshots = sqliteTable(
  "governance_snapshots",
  {
    proposalId: text("proposal_id")
      .notNull()
      .references(() => proposals.id),
    holder: text("holder").notNull(),
    power: integer("power").notNull(),
    bonded: integer("bonded").notNull(),
    delegate: text("delegate"),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.holder] })],
);

export const governanceVotes = sqliteTable(
  "governance_votes",
  {
    proposalId: text("proposal_id")
      .notNull()
      .references(() => proposals.id),
    voter: text("voter").notNull(),
    support: integer("support").notNull(),
    votes: integer("votes").notNull(),
    signature: text("signature").notNull(),
    castAt: integer("cast_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.voter] }), index("governance_votes_voter").on(t.voter, t.castAt)],
);

export const governanceDelegations = sqliteTable("governance_delegations", {
  holder: text("holder").primaryKey(),
  delegate: text("delegate").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const councils = sqliteTable("councils", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  /** JSON list of the members' addresses. */
  members: text("members").notNull(),
  signatures: integer("signatures").notNull(),
  proposalId: text("proposal_id")
    .notNull()
    .unique()
    .references(() => proposals.id),
  since: integer("since").notNull(),
});

export const councilApprovals = sqliteTable(
  "council_approvals",
  {
    proposalId: text("proposal_id")
      .notNull()
      .references(() => proposals.id),
    member: text("member").notNull(),
    approvedAt: integer("approved_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.member] })],
);

export const parameterChanges = sqliteTable("parameter_changes", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  /** The new value as a decimal string. */
  value: text("value").notNull(),
  effectiveEpoch: integer("effective_epoch").notNull(),
  proposalId: text("proposal_id")
    .notNull()
    .unique()
    .references(() => proposals.id),
  executedAt: integer("executed_at").notNull(),
});
// Revenue sharing, chain partners, ledger root (0010_revenue_partners_ledger_root.sql).

/** A revenue distribution (its operation id): what it took from the treasury by which rule. */
export const revenueDistributions = sqliteTable("revenue_distributions", {
  id: text("id").primaryKey(),
  rule: text("rule", { enum: ["stake", "activity", "hybrid"] }).notNull(),
  amount: integer("amount").notNull(),
  /** Paid into payouts; `amount - distributed` (rounding dust) stayed in the treasury. */
  distributed: integer("distributed").notNull(),
  holders: integer("holders").notNull(),
  maturesAt: integer("matures_at").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** A time-locked payout: the pending transfer treasury -> holder, posted by cron once mature. */
export const revenuePayouts = sqliteTable(
  "revenue_payouts",
  {
    transferId: text("transfer_id").primaryKey(),
    distribution: text("distribution")
      .notNull()
      .references(() => revenueDistributions.id),
    holder: text("holder").notNull(),
    amount: integer("amount").notNull(),
    stakePart: integer("stake_part").notNull(),
    activityPart: integer("activity_part").notNull(),
    maturesAt: integer("matures_at").notNull(),
    state: text("state", { enum: ["locked", "paid"] }).notNull(),
    paidAt: integer("paid_at"),
  },
  (t) => [index("revenue_payouts_due").on(t.state, t.maturesAt), index("revenue_payouts_holder").on(t.holder, t.maturesAt)],
);

/** A holder's posted balance of an asset from the epoch it changed in (the ledger root's leaves). */
export const ledgerBalanceVersions = sqliteTable(
  "ledger_balance_versions",
  {
    asset: text("asset").notNull(),
    holder: text("holder").notNull(),
    epoch: integer("epoch").notNull(),
    balance: integer("balance").notNull(),
  },
  (t) => [primaryKey({ columns: [t.asset, t.holder, t.epoch] })],
);

/** The ledger root of an epoch and its on-chain commitment. */
export const ledgerRoots = sqliteTable(
  "ledger_roots",
  {
    epoch: integer("epoch").primaryKey(),
    /** Transfers with `seq <= throughSeq` are in this epoch's balances. */
    throughSeq: integer("through_seq").notNull(),
    root: text("root").notNull(),
    holders: integer("holders").notNull(),
    leafVersion: integer("leaf_version").notNull(),
    createdAt: integer("created_at").notNull(),
    state: text("state", { enum: ["pending", "committed"] }).notNull(),
    tx: text("tx"),
    attempts: integer("attempts").notNull().default(0),
    /** Why the last attempt to commit failed; the root stays pending and is retried. */
    lastError: text("last_error"),
    committedAt: integer("committed_at"),
  },
  (t) => [index("ledger_roots_pending").on(t.state, t.epoch)],
);

/** A host's offer for one service (0012, docs/market.md): price, region, models, signed by its operator. */
export const hostOffers = sqliteTable(
  "host_offers",
  {
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id),
    pricePerComputeUnit: integer("price_per_compute_unit").notNull(),
    region: text("region").notNull(),
    /** JSON array of model names. */
    models: text("models").notNull().default("[]"),
    contextLength: integer("context_length").notNull().default(0),
    operator: text("operator").notNull(),
    nonce: integer("nonce").notNull(),
    signature: text("signature").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** The first epoch whose sessions see this offer. */
    fromEpoch: integer("from_epoch").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.serviceId, t.fromEpoch] }),
    index("host_offers_service").on(t.serviceId, t.fromEpoch),
  ],
);
