/**
 * RelaySession: one Durable Object per session (docs/architecture.md, "Leases"). It opens the
 * session (its plan: hosts, quota, time bounds), hands out **leases** (ranges of relay indexes
 * and slices of the quota) to the isolates that serve the session's relays, takes their receipt
 * **reports**, keeps the live routing state every isolate starts from, and at close folds every
 * index into the session's Merkle root. What it exchanges with the Worker is in
 * `workers/sessions/session-messages.ts`.
 *
 * Invariants:
 * - The quota is never overspent: a lease's compute units are reserved from it when granted, and
 *   only what its isolate gives back unused returns to it.
 * - Every relay index below the next unleased one has exactly one receipt at close: the one its
 *   isolate reported (idempotently, by index), `unreported` when a lease's isolate never reported
 *   it (it died, or the relay was still running), or `void` when it was given back unused and not
 *   leased again. So every admitted relay has exactly one receipt, and the contract's challenge
 *   (`relayIndex = hash % relayCount`) always finds a leaf.
 * - Durable Objects run one call at a time between awaits; no method awaits after it reads the
 *   state it changes, so two isolates never share an index or a unit of quota.
 */
import { DurableObject } from "cloudflare:workers";
import { bytesToHex } from "@noble/hashes/utils.js";
import { type BreakerParameters, type BreakerState, newBreaker } from "../protocol/breaker.js";
import { isServed, RECEIPT_OUTCOMES, type ReceiptLeaf, receiptLeafHash, ZERO_HASH } from "../protocol/commitments.js";
import type { Hex } from "../protocol/hex.js";
import {
  MAX_KEPT_SHAPES,
  MAX_REPORTED_SHAPES,
  MAX_SHAPE_PARAMS_BYTES,
  shapeKey,
  type TrafficShape,
  trafficShapeOf,
} from "../protocol/probe-shapes.js";
import { DEFAULT_LATENCY_PROFILES } from "../protocol/quality.js";
import { sessionQuota } from "../protocol/quota.js";
import { observeHost } from "../protocol/routing.js";
import { epochStartMs, type SessionCoordinates } from "../protocol/session.js";
import { gatewayConfig } from "../workers/config.js";
import { database } from "../workers/db/database.js";
import { addRelayMinutes, type CountedRelay, relayMinuteCounts } from "../workers/db/relay-minutes.js";
import { recordSession } from "../workers/db/sessions.js";
import { planSession, type SessionPlan, sessionIdFor } from "../workers/sessions/plan-session.js";
import {
  closeMarginMs,
  type HostObservation,
  type HostRouting,
  type Lease,
  type LeaseRequest,
  type LeaseResult,
  type ObjectCallCounts,
  type Receipt,
  type ReceiptReport,
  type ReportedReceipt,
  type SessionClosure,
  type SessionUsage,
} from "../workers/sessions/session-messages.js";
import { fishermanStub, relaySessionStub } from "../workers/sessions/session-stub.js";
import { buildStoredSessionTree, storedProof } from "../workers/sessions/session-tree.js";
import { checkBoolean, checkDigest, checkInteger, checkOneOf, checkString, InvalidRpcInput, UINT32_MAX } from "./rpc-input.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS closure (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
  relay_index INTEGER PRIMARY KEY,
  host_id TEXT,
  request_digest TEXT NOT NULL,
  response_digest TEXT,
  status INTEGER NOT NULL DEFAULT 0,
  outcome TEXT NOT NULL DEFAULT 'pending',
  latency_ms INTEGER,
  compute_units INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  completed_at INTEGER,
  leaf_hash BLOB,
  leaf_position INTEGER,
  prompt_tokens INTEGER,
  completion_tokens INTEGER
);
CREATE TABLE IF NOT EXISTS host_live (host_id TEXT PRIMARY KEY, quality REAL NOT NULL, breaker TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS host_counters (
  host_id TEXT PRIMARY KEY,
  relays INTEGER NOT NULL DEFAULT 0,
  compute_units INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS leases (
  id TEXT PRIMARY KEY,
  first INTEGER NOT NULL,
  end INTEGER NOT NULL,
  compute_units INTEGER NOT NULL,
  consumed INTEGER NOT NULL DEFAULT 0,
  granted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  returned_at INTEGER
);
CREATE TABLE IF NOT EXISTS free_ranges (first INTEGER PRIMARY KEY, end INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY CHECK (id = 1), next_index INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS traffic_shapes (key TEXT PRIMARY KEY, method TEXT NOT NULL, params TEXT NOT NULL, seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requirement_sets (requirements TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS quota_pool (id INTEGER PRIMARY KEY CHECK (id = 1), quota INTEGER, lent INTEGER NOT NULL, borrowed INTEGER NOT NULL);`;

/** Live routing state of one host in this session, kept in memory and written through to `host_live`. */
interface HostLiveState {
  quality: number;
  breaker: BreakerState;
}

/** A lease as the object keeps it: its range (cut when its tail is given back) and its quota slice. */
interface LeaseRow {
  id: string;
  first: number;
  end: number;
  /** Reserved from the quota (less what was given back unused). */
  computeUnits: number;
  /** Compute units of the served relays reported under it. */
  consumed: number;
  grantedAt: number;
  expiresAt: number;
  returnedAt: number | null;
}

/** The plain session of a session with requirements: the one whose object holds the requestor's quota for the service and epoch. */
function baseCoordinates(plan: SessionPlan): SessionCoordinates {
  return { requestorId: plan.requestorId, serviceId: plan.serviceId, epoch: plan.epoch };
}

const MAX_TIME = 2 ** 48;
/** Distinct requirement sets (sessions with requirements) one requestor may open per service and epoch. */
export const MAX_REQUIREMENT_SETS = 8; // Unix milliseconds, far beyond any real time
const MAX_ID_LENGTH = 128;
/** Most relay indexes in one lease, and most receipts or observations in one report. */
export const MAX_LEASE_RELAYS = 8_192;
const MAX_REPORT_ITEMS = 10_000;
/** How long a lease lasts; its isolate takes a new one after (and the session's end cuts it short). */
const LEASE_TTL_MS = 30_000;

function checkObservations(method: string, observations: unknown): HostObservation[] {
  if (!Array.isArray(observations) || observations.length > MAX_REPORT_ITEMS) {
    throw new InvalidRpcInput(method, "observations", `a list of at most ${MAX_REPORT_ITEMS} observations`);
  }
  return observations.map((o: Partial<HostObservation>) => ({
    hostId: checkString(method, "observations.hostId", o?.hostId, MAX_ID_LENGTH),
    ok: checkBoolean(method, "observations.ok", o?.ok),
    latencyMs: checkInteger(method, "observations.latencyMs", o?.latencyMs, 0, MAX_TIME),
    ...(o?.retryAfterMs === undefined
      ? {}
      : { retryAfterMs: checkInteger(method, "observations.retryAfterMs", o.retryAfterMs, 0, MAX_TIME) }),
  }));
}

function checkReceipt(m: string, r: ReportedReceipt): void {
  checkInteger(m, "receipts.relayIndex", r?.relayIndex, 0, Number.MAX_SAFE_INTEGER);
  if (r.hostId !== null) checkString(m, "receipts.hostId", r.hostId, MAX_ID_LENGTH);
  checkDigest(m, "receipts.requestDigest", r.requestDigest);
  checkDigest(m, "receipts.responseDigest", r.responseDigest);
  checkInteger(m, "receipts.status", r.status, 100, 599);
  checkOneOf(m, "receipts.outcome", r.outcome, ["ok", "failed", "cancelled"] as const);
  checkInteger(m, "receipts.latencyMs", r.latencyMs, 0, MAX_TIME);
  checkInteger(m, "receipts.computeUnits", r.computeUnits, 1, UINT32_MAX);
  checkInteger(m, "receipts.attempts", r.attempts, 0, 64);
  checkInteger(m, "receipts.createdAt", r.createdAt, 0, MAX_TIME);
  checkInteger(m, "receipts.completedAt", r.completedAt, 0, MAX_TIME);
  // A stored receipt sent back (null counts) is a receipt without tokens, like one that omits them.
  if ((r.promptTokens == null) !== (r.completionTokens == null)) {
    throw new InvalidRpcInput(m, "receipts.promptTokens", "both token counts or neither");
  }
  if (r.promptTokens != null) {
    checkInteger(m, "receipts.promptTokens", r.promptTokens, 0, UINT32_MAX);
    checkInteger(m, "receipts.completionTokens", r.completionTokens, 0, UINT32_MAX);
  }
  if (r.releasedComputeUnits != null) {
    checkInteger(m, "receipts.releasedComputeUnits", r.releasedComputeUnits, 1, UINT32_MAX);
  }
}

function checkReport(m: string, report: ReceiptReport): void {
  if (typeof report !== "object" || report === null) throw new InvalidRpcInput(m, "report", "a receipt report");
  if (!Array.isArray(report.receipts) || report.receipts.length > MAX_REPORT_ITEMS) {
    throw new InvalidRpcInput(m, "receipts", `a list of at most ${MAX_REPORT_ITEMS} receipts`);
  }
  for (const r of report.receipts) checkReceipt(m, r);
  checkObservations(m, report.observations);
  if (!Array.isArray(report.returned) || report.returned.length > 64) {
    throw new InvalidRpcInput(m, "returned", "a list of at most 64 lease returns");
  }
  for (const r of report.returned) {
    checkString(m, "returned.leaseId", r?.leaseId, MAX_ID_LENGTH);
    checkInteger(m, "returned.from", r.from, 0, Number.MAX_SAFE_INTEGER);
    checkInteger(m, "returned.unusedComputeUnits", r.unusedComputeUnits, 0, Number.MAX_SAFE_INTEGER);
  }
  if (report.shapes === undefined) return;
  if (!Array.isArray(report.shapes) || report.shapes.length > MAX_REPORTED_SHAPES) {
    throw new InvalidRpcInput(m, "shapes", `a list of at most ${MAX_REPORTED_SHAPES} call shapes`);
  }
  for (const shape of report.shapes) {
    if (typeof shape !== "object" || shape === null || trafficShapeOf(shape) === null) {
      throw new InvalidRpcInput(
        m,
        "shapes",
        `replayable read-only calls with parameters of at most ${MAX_SHAPE_PARAMS_BYTES} bytes`,
      );
    }
  }
}

function checkLeaseRequest(input: LeaseRequest): void {
  const m = "lease";
  const c = input?.coordinates;
  checkString(m, "coordinates.requestorId", c?.requestorId, MAX_ID_LENGTH);
  checkString(m, "coordinates.serviceId", c?.serviceId, MAX_ID_LENGTH);
  checkInteger(m, "coordinates.epoch", c?.epoch, 0, MAX_TIME);
  if (c.requirements !== undefined) checkString(m, "coordinates.requirements", c.requirements, 1024);
  if (typeof input.requestorStake !== "bigint" || input.requestorStake < 0n) {
    throw new InvalidRpcInput(m, "requestorStake", "a non-negative bigint");
  }
  checkInteger(m, "relays", input.relays, 1, MAX_LEASE_RELAYS);
  checkInteger(m, "minimumComputeUnits", input.minimumComputeUnits, 1, UINT32_MAX);
  checkInteger(m, "computeUnits", input.computeUnits, input.minimumComputeUnits, Number.MAX_SAFE_INTEGER);
  checkInteger(m, "now", input.now, 0, MAX_TIME);
  if (input.report !== undefined) checkReport(m, input.report);
}

export class RelaySession extends DurableObject<Env> {
  private plan: SessionPlan | null = null;
  private closure: SessionClosure | null = null;
  private live = new Map<string, HostLiveState>();
  /** Every lease of the session, by first index (ranges never overlap). */
  private leases: LeaseRow[] = [];
  private leaseById = new Map<string, LeaseRow>();
  private nextIndex = 0;
  private reportedRelays = 0;
  private servedComputeUnits = 0;
  private calls: ObjectCallCounts = {};
  /**
   * Quota shared between a requestor's sessions of one service and epoch (docs/market.md): the
   * plain session's object holds the pool (`poolQuota`, set from its plan or the first share) and
   * has lent `lent` units to sessions with requirements; a session with requirements admits only
   * what it has `borrowed` from it. So requirements never multiply a requestor's quota.
   */
  private poolQuota: number | null = null;
  private lent = 0;
  private borrowed = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(SCHEMA);
      this.addTreeColumns();
      const row = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM plan WHERE id = 1").toArray()[0];
      if (row) this.adoptPlan(JSON.parse(row.body));
      const closed = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM closure WHERE id = 1").toArray()[0];
      if (closed) this.closure = JSON.parse(closed.body);
      for (const l of this.ctx.storage.sql.exec<Record<string, number | string | null>>("SELECT * FROM leases ORDER BY first")) {
        const lease: LeaseRow = {
          id: l.id as string,
          first: l.first as number,
          end: l.end as number,
          computeUnits: l.compute_units as number,
          consumed: l.consumed as number,
          grantedAt: l.granted_at as number,
          expiresAt: l.expires_at as number,
          returnedAt: l.returned_at as number | null,
        };
        this.leases.push(lease);
        this.leaseById.set(lease.id, lease);
      }
      const pool = this.ctx.storage.sql
        .exec<{ quota: number | null; lent: number; borrowed: number }>(
          "SELECT quota, lent, borrowed FROM quota_pool WHERE id = 1",
        )
        .toArray()[0];
      if (pool) {
        this.poolQuota = pool.quota;
        this.lent = pool.lent;
        this.borrowed = pool.borrowed;
      }
      this.nextIndex =
        this.ctx.storage.sql.exec<{ next_index: number }>("SELECT next_index FROM counters WHERE id = 1").toArray()[0]
          ?.next_index ?? 0;
      const totals = this.ctx.storage.sql
        .exec<{ relays: number; served: number }>(
          `SELECT COUNT(*) AS relays,
             COALESCE(SUM(CASE WHEN outcome IN ('ok', 'cancelled') THEN compute_units ELSE 0 END), 0) AS served
           FROM receipts WHERE outcome IN ('ok', 'failed', 'cancelled')`,
        )
        .one();
      this.reportedRelays = totals.relays;
      this.servedComputeUnits = totals.served;
    });
  }

  /** Objects made before session trees were stored lack the receipts' tree columns: add them. */
  private addTreeColumns(): void {
    const sql = this.ctx.storage.sql;
    const columns = new Set(
      sql
        .exec<{ name: string }>("PRAGMA table_info(receipts)")
        .toArray()
        .map((c) => c.name),
    );
    if (!columns.has("leaf_hash")) sql.exec("ALTER TABLE receipts ADD COLUMN leaf_hash BLOB");
    if (!columns.has("leaf_position")) sql.exec("ALTER TABLE receipts ADD COLUMN leaf_position INTEGER");
    // Objects made before token metering (receipt leaf format 2).
    if (!columns.has("prompt_tokens")) sql.exec("ALTER TABLE receipts ADD COLUMN prompt_tokens INTEGER");
    if (!columns.has("completion_tokens")) sql.exec("ALTER TABLE receipts ADD COLUMN completion_tokens INTEGER");
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  /**
   * Returns the session's plan, opening the session from the registry on first use. Opening
   * holds every other call back, so concurrent first relays all see the same plan.
   */
  async open(coordinates: SessionCoordinates, requestorStake: bigint): Promise<SessionPlan> {
    this.count("open");
    return this.openPlan(coordinates, requestorStake);
  }

  private async openPlan(coordinates: SessionCoordinates, requestorStake: bigint): Promise<SessionPlan> {
    if (this.plan) return this.plan;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.plan) return;
      const db = database(this.env);
      const plan = await planSession(db, gatewayConfig(this.env), coordinates, requestorStake);
      // The fisherman starts first: its probe plan commitment is in the session record from the start.
      const probePlanCommitment = plan.hosts.length ? await fishermanStub(this.env, plan.sessionId).start(plan) : null;
      await recordSession(db, {
        id: plan.sessionId,
        requestorId: plan.requestorId,
        serviceId: plan.serviceId,
        epoch: plan.epoch,
        seed: plan.seed,
        algorithm: plan.algorithm,
        hostIds: JSON.stringify(plan.hosts.map((h) => h.id)),
        quota: plan.quota,
        startsAt: plan.startsAt,
        endsAt: plan.endsAt,
        createdAt: Date.now(),
        probePlanCommitment,
        requirements: plan.requirements ?? "",
        hostPrices: JSON.stringify(Object.fromEntries(plan.hosts.map((h) => [h.id, h.price ?? 0]))),
      });
      this.ctx.storage.sql.exec("INSERT INTO plan (id, body) VALUES (1, ?)", JSON.stringify(plan));
      this.adoptPlan(plan);
    });
    return this.plan as unknown as SessionPlan;
  }

  private adoptPlan(plan: SessionPlan): void {
    this.plan = plan;
    const breaker = this.breakerParameters();
    for (const host of plan.hosts) this.live.set(host.id, { quality: host.reputation, breaker: newBreaker(breaker) });
    // A Durable Object is evicted when idle; what routing learned survives in storage.
    for (const row of this.ctx.storage.sql.exec<{ host_id: string; quality: number; breaker: string }>(
      "SELECT * FROM host_live",
    )) {
      if (this.live.has(row.host_id)) this.live.set(row.host_id, { quality: row.quality, breaker: JSON.parse(row.breaker) });
    }
  }

  private saveLive(hostId: string, live: HostLiveState): void {
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO host_live (host_id, quality, breaker) VALUES (?, ?, ?)",
      hostId,
      live.quality,
      JSON.stringify(live.breaker),
    );
  }

  private breakerParameters(): BreakerParameters {
    const config = gatewayConfig(this.env);
    return {
      threshold: config.breakerThreshold,
      cooldownMs: config.breakerCooldownMs,
      maxCooldownMs: config.breakerCooldownMs * 12,
    };
  }

  private routing(): HostRouting[] {
    return [...this.live].map(([id, l]) => ({ id, quality: l.quality, breaker: l.breaker }));
  }

  private observe(observations: readonly HostObservation[], now: number, probe = false): void {
    const plan = this.plan;
    if (!plan) return;
    const profile = DEFAULT_LATENCY_PROFILES[plan.service.kind];
    const breaker = this.breakerParameters();
    const touched = new Set<string>();
    for (const o of observations) {
      const live = this.live.get(o.hostId);
      if (!live) continue;
      observeHost(live, o, now, profile, breaker, probe);
      touched.add(o.hostId);
    }
    for (const id of touched) this.saveLive(id, this.live.get(id) as HostLiveState);
  }

  /** Probe results from the session's fisherman: they move quality and let healed hosts back in. */
  observeProbes(observations: HostObservation[], now: number): void {
    this.count("observeProbes");
    const checked = checkObservations("observeProbes", observations);
    this.observe(checked, checkInteger("observeProbes", "now", now, 0, MAX_TIME), true);
  }

  /** Quota reserved by leases (each less what it gave back) plus nothing else: the quota's use. */
  private reservedQuota(): number {
    let total = 0;
    for (const l of this.leases) total += Math.max(l.computeUnits, l.consumed);
    return total;
  }

  /** The lease holding a relay index, or undefined. */
  private leaseOf(relayIndex: number): LeaseRow | undefined {
    let lo = 0;
    let hi = this.leases.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const l = this.leases[mid];
      if (relayIndex < l.first) hi = mid - 1;
      else if (relayIndex >= l.end) lo = mid + 1;
      else return l;
    }
    return undefined;
  }

  private saveLease(l: LeaseRow): void {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO leases (id, first, end, compute_units, consumed, granted_at, expires_at, returned_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      l.id,
      l.first,
      l.end,
      l.computeUnits,
      l.consumed,
      l.grantedAt,
      l.expiresAt,
      l.returnedAt,
    );
  }

  /** Takes `count` indexes: from the lowest range given back first, else past every index leased so far. */
  private allocate(count: number): { first: number; end: number } {
    const free = this.ctx.storage.sql
      .exec<{ first: number; end: number }>("SELECT first, end FROM free_ranges ORDER BY first LIMIT 1")
      .toArray()[0];
    if (free) {
      const end = Math.min(free.end, free.first + count);
      this.ctx.storage.sql.exec("DELETE FROM free_ranges WHERE first = ?", free.first);
      if (end < free.end) this.ctx.storage.sql.exec("INSERT INTO free_ranges (first, end) VALUES (?, ?)", end, free.end);
      return { first: free.first, end };
    }
    const first = this.nextIndex;
    this.nextIndex += count;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO counters (id, next_index) VALUES (1, ?)", this.nextIndex);
    return { first, end: this.nextIndex };
  }

  private insertLease(lease: LeaseRow): void {
    let at = this.leases.length;
    while (at > 0 && this.leases[at - 1].first > lease.first) at--;
    this.leases.splice(at, 0, lease);
    this.leaseById.set(lease.id, lease);
    this.saveLease(lease);
  }

  /**
   * Grants a lease: a range of relay indexes and a slice of the quota, for an isolate to admit
   * relays against without calling the object per relay. The request carries the isolate's
   * report (receipts, observations, its previous lease's unused tail), applied first. A slice is
   * at most a quarter of what is left (and never less than the waiting relay's cost), so near the
   * end of a quota leases shrink to single relays and no isolate sits on quota another needs.
   *
   * A session is opened only by a relay of its own epoch: naming an ended session in the rollover
   * grace window reaches it only if it was opened (else a requestor could open last epoch's
   * session with a fresh quota).
   */
  async lease(request: LeaseRequest): Promise<LeaseResult> {
    this.count("lease");
    checkLeaseRequest(request);
    const config = gatewayConfig(this.env);
    const { now } = request;
    if (!this.plan && now >= epochStartMs(request.coordinates.epoch + 1, config.sessionSeconds)) {
      return { ok: false, reason: "session_closed" };
    }
    const wanted = request.coordinates.requirements;
    if (!this.plan && wanted) {
      // Each requirement set opens a session (and its fisherman): the plain session's object caps how many.
      const base = {
        requestorId: request.coordinates.requestorId,
        serviceId: request.coordinates.serviceId,
        epoch: request.coordinates.epoch,
      };
      if (!(await relaySessionStub(this.env, sessionIdFor(base)).registerRequirements(base, wanted))) {
        return { ok: false, reason: "too_many_requirement_sets" };
      }
    }
    const plan = await this.openPlan(request.coordinates, request.requestorStake);
    if (request.report) this.ctx.waitUntil(this.countRelays(this.applyReport(request.report, now)));
    const grace = config.rolloverGraceSeconds * 1000;
    if (this.closure || now >= plan.endsAt + grace) return { ok: false, reason: "session_closed" };
    if (plan.hosts.length === 0) {
      return plan.excludedBy ? { ok: false, reason: "no_hosts", excludedBy: plan.excludedBy } : { ok: false, reason: "no_hosts" };
    }
    if (plan.requirements && this.quotaLimit(plan) - this.reservedQuota() < request.minimumComputeUnits) {
      // Borrow from the plain session's pool first (one call per lease, never per relay).
      const want = Math.max(request.minimumComputeUnits, request.computeUnits);
      const granted = await relaySessionStub(this.env, sessionIdFor(baseCoordinates(plan))).shareQuota(
        baseCoordinates(plan),
        request.requestorStake,
        want,
        request.minimumComputeUnits,
        now,
      );
      if (granted > 0) this.changePool({ borrowed: granted });
    }
    const reserved = this.reservedQuota();
    const available = this.quotaLimit(plan) - reserved;
    if (available < request.minimumComputeUnits) {
      // Quota held by other isolates' leases comes back within seconds; spent quota at the next session.
      const heldElsewhere = reserved > this.servedComputeUnits;
      const retryAfterSeconds = heldElsewhere ? 1 : Math.max(1, Math.ceil((plan.endsAt - now) / 1000));
      return { ok: false, reason: "quota_exhausted", retryAfterSeconds };
    }
    const cap = Math.max(request.minimumComputeUnits, Math.floor(available / 4));
    const computeUnits = Math.min(request.computeUnits, available, cap);
    // No more indexes than the slice pays for at the waiting relay's cost: indexes a lease cannot
    // use would come back as a gap below the next lease (void receipts at close).
    const relays = Math.min(request.relays, MAX_LEASE_RELAYS, Math.floor(computeUnits / request.minimumComputeUnits));
    const range = this.allocate(relays);
    const lease: LeaseRow = {
      id: crypto.randomUUID(),
      first: range.first,
      end: range.end,
      computeUnits,
      consumed: 0,
      grantedAt: now,
      expiresAt: Math.min(now + LEASE_TTL_MS, plan.endsAt + grace),
      returnedAt: null,
    };
    this.insertLease(lease);
    const granted: Lease = {
      id: lease.id,
      sessionId: plan.sessionId,
      first: lease.first,
      end: lease.end,
      computeUnits,
      expiresAt: lease.expiresAt,
    };
    return {
      ok: true,
      lease: granted,
      hosts: plan.hosts,
      service: plan.service,
      endsAt: plan.endsAt,
      routing: this.routing(),
    };
  }

  /**
   * Records one of the requestor's requirement sets for this plain session's service and epoch;
   * false when `MAX_REQUIREMENT_SETS` others are already recorded (docs/market.md).
   */
  registerRequirements(coordinates: SessionCoordinates, requirements: string): boolean {
    this.count("registerRequirements");
    checkString("registerRequirements", "coordinates.requestorId", coordinates?.requestorId, MAX_ID_LENGTH);
    checkString("registerRequirements", "requirements", requirements, 1024);
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM requirement_sets WHERE requirements = ?", requirements).toArray().length) return true;
    const count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM requirement_sets").one().n;
    if (count >= MAX_REQUIREMENT_SETS) return false;
    sql.exec("INSERT INTO requirement_sets (requirements) VALUES (?)", requirements);
    return true;
  }

  /** What this session may reserve: its plan's quota less what it lent, or (with requirements) what it borrowed. */
  private quotaLimit(plan: SessionPlan): number {
    if (plan.requirements) return this.borrowed;
    return Math.min(plan.quota, this.poolQuota ?? plan.quota) - this.lent;
  }

  private changePool({ lent = 0, borrowed = 0 }: { lent?: number; borrowed?: number }): void {
    this.lent += lent;
    this.borrowed += borrowed;
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO quota_pool (id, quota, lent, borrowed) VALUES (1, ?, ?, ?)",
      this.poolQuota,
      this.lent,
      this.borrowed,
    );
  }

  /**
   * Lends up to `want` compute units of the plain session's quota to one of the requestor's
   * sessions with requirements (at most a quarter of what is left, never less than `minimum`,
   * else nothing); `want` < 0 gives `-want` back. Called by the other session's object, once
   * per lease it cannot cover.
   */
  shareQuota(coordinates: SessionCoordinates, requestorStake: bigint, want: number, minimum: number, now: number): number {
    this.count("shareQuota");
    const m = "shareQuota";
    checkString(m, "coordinates.requestorId", coordinates?.requestorId, MAX_ID_LENGTH);
    checkString(m, "coordinates.serviceId", coordinates?.serviceId, MAX_ID_LENGTH);
    checkInteger(m, "coordinates.epoch", coordinates?.epoch, 0, MAX_TIME);
    checkInteger(m, "want", Math.abs(want), 0, Number.MAX_SAFE_INTEGER);
    checkInteger(m, "minimum", minimum, 0, UINT32_MAX);
    checkInteger(m, "now", now, 0, MAX_TIME);
    if (want < 0) {
      this.changePool({ lent: -Math.min(-want, this.lent) });
      return 0;
    }
    const config = gatewayConfig(this.env);
    if (this.closure || now >= epochStartMs(coordinates.epoch + 1, config.sessionSeconds) + config.rolloverGraceSeconds * 1000)
      return 0;
    if (this.poolQuota === null) this.poolQuota = this.plan?.quota ?? sessionQuota(requestorStake, config.stakePerComputeUnit);
    const quota = Math.min(this.poolQuota, this.plan?.quota ?? this.poolQuota);
    const available = quota - this.lent - this.reservedQuota();
    if (available < minimum || available <= 0) return 0;
    const granted = Math.min(want, available, Math.max(minimum, Math.floor(available / 4)));
    this.changePool({ lent: granted });
    return granted;
  }

  /** Gives back to the plain session what this session with requirements borrowed and no lease holds. */
  private returnBorrowed(): void {
    const plan = this.plan;
    if (!plan?.requirements) return;
    const spare = this.borrowed - this.reservedQuota();
    if (spare <= 0) return;
    this.changePool({ borrowed: -spare });
    const base = baseCoordinates(plan);
    this.ctx.waitUntil(
      relaySessionStub(this.env, sessionIdFor(base))
        .shareQuota(base, 0n, -spare, 0, Date.now())
        .then(
          () => undefined,
          (error: unknown) => console.error("borrowed quota not given back", plan.sessionId, String(error)),
        ),
    );
  }

  /** Takes a batch of receipts and observations (idempotent by relay index) and gives back unused lease tails. */
  report(report: ReceiptReport, now: number): { accepted: number; routing: HostRouting[] } {
    this.count("report");
    checkReport("report", report);
    checkInteger("report", "now", now, 0, MAX_TIME);
    const accepted = this.applyReport(report, now);
    this.ctx.waitUntil(this.countRelays(accepted));
    return { accepted: accepted.length, routing: this.routing() };
  }

  /**
   * Adds a report's newly accepted relays to the service's per-minute counts in D1 (the
   * dashboard's charts): one write per report, never per relay, in the background (`waitUntil`),
   * so neither a report's answer nor a lease a relay may be waiting for waits on it. A failed
   * write loses only those counts, never a receipt.
   */
  private async countRelays(accepted: readonly CountedRelay[]): Promise<void> {
    if (!this.plan || accepted.length === 0) return;
    try {
      await addRelayMinutes(database(this.env), relayMinuteCounts(this.plan.serviceId, accepted));
    } catch (error) {
      console.error("relay minutes not counted", this.plan.sessionId, error);
    }
  }

  /**
   * Inserts receipts not stored yet, in one statement (one `exec` per report, not one per
   * receipt: the per-call cost was most of a report's SQL time); answers the relay indexes it
   * inserted. Each receipt's leaf is hashed here, as it arrives, so closing the session only sorts
   * and folds hashes (session-tree.ts).
   */
  private insertReceipts(receipts: readonly ReportedReceipt[], sessionSeed: Hex): Set<number> {
    const inserted = new Set<number>();
    if (receipts.length === 0) return inserted;
    const rows = receipts.map((r) => [
      r.relayIndex,
      r.hostId,
      r.requestDigest,
      r.responseDigest,
      r.status,
      r.outcome,
      r.latencyMs,
      r.computeUnits,
      r.attempts,
      r.createdAt,
      r.completedAt,
      bytesToHex(receiptLeafHash({ ...r, sessionSeed })),
      r.promptTokens ?? null,
      r.completionTokens ?? null,
    ]);
    const cursor = this.ctx.storage.sql.exec<{ relay_index: number }>(
      `INSERT OR IGNORE INTO receipts (relay_index, host_id, request_digest, response_digest, status, outcome, latency_ms,
         compute_units, attempts, created_at, completed_at, leaf_hash, prompt_tokens, completion_tokens)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6,
         value ->> 7, value ->> 8, value ->> 9, value ->> 10, unhex(value ->> 11), value ->> 12, value ->> 13
       FROM json_each(?) ORDER BY key
       RETURNING relay_index`,
      JSON.stringify(rows),
    );
    for (const row of cursor) inserted.add(row.relay_index);
    return inserted;
  }

  /** Applies a report; answers the receipts it accepted (a retried report's are not accepted twice). */
  private applyReport(report: ReceiptReport, now: number): CountedRelay[] {
    const accepted: CountedRelay[] = [];
    if (!this.plan || this.closure) return accepted; // after close, nothing changes: late relays stay unreported
    const touched = new Set<LeaseRow>();
    const sessionSeed = this.plan.seed;
    const servedByHost = new Map<string, { relays: number; computeUnits: number }>();
    const inLease: { receipt: ReportedReceipt; lease: LeaseRow }[] = [];
    for (const r of report.receipts) {
      const lease = this.leaseOf(r.relayIndex);
      if (!lease) {
        console.warn("report: relay index outside every lease", this.plan.sessionId, r.relayIndex);
        continue;
      }
      inLease.push({ receipt: r, lease });
    }
    const inserted = this.insertReceipts(
      inLease.map(({ receipt }) => receipt),
      sessionSeed,
    );
    for (const { receipt: r, lease } of inLease) {
      // Reported before (a retry of a report, or twice in one): changes nothing.
      if (!inserted.delete(r.relayIndex)) continue;
      accepted.push(r);
      this.reportedRelays += 1;
      if (r.releasedComputeUnits) {
        // Reserved under a lease its isolate has moved on from, and not charged: back to the quota.
        lease.computeUnits = Math.max(lease.consumed, lease.computeUnits - r.releasedComputeUnits);
        touched.add(lease);
      }
      if (isServed(r.outcome)) {
        lease.consumed += r.computeUnits;
        touched.add(lease);
        this.servedComputeUnits += r.computeUnits;
        if (r.hostId) {
          const served = servedByHost.get(r.hostId) ?? { relays: 0, computeUnits: 0 };
          served.relays += 1;
          served.computeUnits += r.computeUnits;
          servedByHost.set(r.hostId, served);
        }
      }
    }
    // One write per host per report, not per receipt.
    for (const [hostId, served] of servedByHost) {
      this.ctx.storage.sql.exec(
        `INSERT INTO host_counters (host_id, relays, compute_units) VALUES (?, ?, ?)
         ON CONFLICT (host_id) DO UPDATE SET relays = relays + excluded.relays, compute_units = compute_units + excluded.compute_units`,
        hostId,
        served.relays,
        served.computeUnits,
      );
    }
    for (const o of report.observations) {
      if (o.ok) continue;
      this.ctx.storage.sql.exec(
        `INSERT INTO host_counters (host_id, failures) VALUES (?, 1)
         ON CONFLICT (host_id) DO UPDATE SET failures = failures + 1`,
        o.hostId,
      );
    }
    this.observe(report.observations, now);
    for (const shape of report.shapes ?? []) {
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO traffic_shapes (key, method, params, seen) VALUES (?, ?, ?, ?)",
        shapeKey(shape),
        shape.method,
        JSON.stringify(shape.params),
        now,
      );
    }
    if (report.shapes?.length) {
      this.ctx.storage.sql.exec(
        "DELETE FROM traffic_shapes WHERE key NOT IN (SELECT key FROM traffic_shapes ORDER BY seen DESC, key LIMIT ?)",
        MAX_KEPT_SHAPES,
      );
    }
    for (const back of report.returned) {
      const lease = this.leaseById.get(back.leaseId);
      if (!lease || lease.returnedAt !== null) continue;
      const from = Math.max(lease.first, Math.min(back.from, lease.end));
      if (from < lease.end) this.ctx.storage.sql.exec("INSERT INTO free_ranges (first, end) VALUES (?, ?)", from, lease.end);
      lease.end = from;
      lease.computeUnits = Math.max(lease.consumed, lease.computeUnits - back.unusedComputeUnits);
      lease.returnedAt = now;
      touched.add(lease);
    }
    for (const lease of touched) this.saveLease(lease);
    if (report.returned.length) this.returnBorrowed();
    return accepted;
  }

  /**
   * The session's recent read-only call shapes (at most `MAX_KEPT_SHAPES`, in key order), which
   * its fisherman imitates. Never public: a host that could read them could tell probes apart.
   */
  recentShapes(): TrafficShape[] {
    this.count("recentShapes");
    return this.ctx.storage.sql
      .exec<{ method: string; params: string }>("SELECT method, params FROM traffic_shapes ORDER BY key")
      .toArray()
      .map((r) => ({ method: r.method, params: JSON.parse(r.params) }));
  }

  /** Quota and counts so far, or null when the session never opened. */
  usage(): SessionUsage | null {
    this.count("usage");
    if (!this.plan) return null;
    const counters = new Map(
      this.ctx.storage.sql
        .exec<{ host_id: string; relays: number; compute_units: number; failures: number }>("SELECT * FROM host_counters")
        .toArray()
        .map((r) => [r.host_id, r]),
    );
    const hosts = this.plan.hosts.map((host) => {
      const c = counters.get(host.id);
      const live = this.live.get(host.id) as HostLiveState;
      return {
        hostId: host.id,
        relays: c?.relays ?? 0,
        computeUnits: c?.compute_units ?? 0,
        failures: c?.failures ?? 0,
        quality: live.quality,
        breaker: live.breaker.state,
      };
    });
    return {
      sessionId: this.plan.sessionId,
      quota: this.plan.quota,
      usedComputeUnits: this.servedComputeUnits,
      reservedComputeUnits: Math.max(0, this.reservedQuota() - this.servedComputeUnits),
      relays: this.reportedRelays,
      leasedRelays: this.leases.reduce((n, l) => n + (l.end - l.first), 0),
      hosts,
    };
  }

  /** Calls answered since the object started, by method (the benchmark counts them per relay). */
  callCounts(): ObjectCallCounts {
    return { ...this.calls };
  }

  /**
   * Closes the session once its grace window and the receipt-report margin have passed: every
   * index gets its receipt (reported, `unreported` or `void`), and all of them are folded into
   * the session's Merkle root (protocol/commitments.ts). Idempotent: later calls return the same
   * closure.
   */
  close(now: number): SessionClosure {
    this.count("close");
    checkInteger("close", "now", now, 0, MAX_TIME);
    if (this.closure) return this.closure;
    const plan = this.plan;
    const config = gatewayConfig(this.env);
    if (plan && now < plan.endsAt + config.rolloverGraceSeconds * 1000 + closeMarginMs(config)) {
      throw new Error(`session ${plan.sessionId} is still open`);
    }
    const { unreported, voided } = plan ? this.fillEveryIndex(now) : { unreported: 0, voided: 0 };
    if (plan) this.hashUnhashedReceipts(plan);
    // The tree goes to storage a block at a time: memory stays a few megabytes whatever the receipts.
    const tree = buildStoredSessionTree(this.ctx.storage.sql);
    const served = this.ctx.storage.sql
      .exec<{ units: number }>(
        "SELECT COALESCE(SUM(compute_units), 0) AS units FROM receipts WHERE outcome IN ('ok', 'cancelled')",
      )
      .one();
    const closure: SessionClosure = {
      closedAt: now,
      sessionRoot: tree.root,
      relayCount: tree.leafCount,
      computeUnits: served.units,
      hosts: this.ctx.storage.sql
        .exec<{ host_id: string; relays: number; compute_units: number }>(
          "SELECT host_id, relays, compute_units FROM host_counters WHERE relays > 0 ORDER BY host_id",
        )
        .toArray()
        .map((r) => ({ hostId: r.host_id, relays: r.relays, computeUnits: r.compute_units })),
      unreported,
      voided,
    };
    this.ctx.storage.sql.exec("INSERT INTO closure (id, body) VALUES (1, ?)", JSON.stringify(closure));
    this.closure = closure;
    return closure;
  }

  /**
   * Gives every index below the next unleased one a receipt: ranges given back and not leased
   * again are dropped when they sit at the top, else `void`; indexes of a lease never reported
   * are `unreported`.
   */
  private fillEveryIndex(now: number): { unreported: number; voided: number } {
    const sql = this.ctx.storage.sql;
    for (;;) {
      const top = sql.exec<{ first: number }>("SELECT first FROM free_ranges WHERE end = ?", this.nextIndex).toArray()[0];
      if (!top) break;
      sql.exec("DELETE FROM free_ranges WHERE first = ?", top.first);
      this.nextIndex = top.first;
    }
    sql.exec("INSERT OR REPLACE INTO counters (id, next_index) VALUES (1, ?)", this.nextIndex);
    const blank = (index: number, outcome: "unreported" | "void", createdAt: number) =>
      sql.exec(
        `INSERT OR IGNORE INTO receipts (relay_index, request_digest, status, outcome, compute_units, created_at)
         VALUES (?, ?, 0, ?, 0, ?)`,
        index,
        ZERO_HASH,
        outcome,
        createdAt,
      ).rowsWritten;
    let voided = 0;
    for (const range of sql.exec<{ first: number; end: number }>("SELECT first, end FROM free_ranges").toArray()) {
      for (let i = range.first; i < range.end; i++) voided += blank(i, "void", now);
    }
    let unreported = 0;
    for (const lease of this.leases) {
      const reported = new Set(
        sql
          .exec<{ relay_index: number }>(
            "SELECT relay_index FROM receipts WHERE relay_index >= ? AND relay_index < ?",
            lease.first,
            lease.end,
          )
          .toArray()
          .map((r) => r.relay_index),
      );
      for (let i = lease.first; i < lease.end; i++) if (!reported.has(i)) unreported += blank(i, "unreported", lease.grantedAt);
    }
    return { unreported, voided };
  }

  /**
   * Hashes the receipts stored without a leaf hash: the `unreported` and `void` ones written at
   * close, and receipts an object reported before it kept hashes. A page at a time.
   */
  private hashUnhashedReceipts(plan: SessionPlan): void {
    const sql = this.ctx.storage.sql;
    for (;;) {
      const page = sql.exec<ReceiptRow>("SELECT * FROM receipts WHERE leaf_hash IS NULL LIMIT 4096").toArray();
      if (!page.length) return;
      for (const row of page) {
        const leaf = receiptLeafHash({ ...toReceipt(row), sessionSeed: plan.seed });
        sql.exec("UPDATE receipts SET leaf_hash = ? WHERE relay_index = ?", leaf, row.relay_index);
      }
    }
  }

  /**
   * A receipt of a closed session with its proof to the session root, or null: one receipt read
   * and the rows of its sibling nodes (session-tree.ts), whatever the session's size.
   */
  receiptProof(relayIndex: number): { leaf: ReceiptLeaf; proof: Hex[]; sessionRoot: Hex } | null {
    this.count("receiptProof");
    checkInteger("receiptProof", "relayIndex", relayIndex, 0, Number.MAX_SAFE_INTEGER);
    const plan = this.plan;
    if (!plan || !this.closure?.sessionRoot || relayIndex >= this.closure.relayCount) return null;
    const row = this.ctx.storage.sql.exec<ReceiptRow>("SELECT * FROM receipts WHERE relay_index = ?", relayIndex).toArray()[0];
    const found = row && storedProof(this.ctx.storage.sql, relayIndex);
    if (!found) return null;
    return { leaf: { ...toReceipt(row), sessionSeed: plan.seed }, proof: found.proof, sessionRoot: this.closure.sessionRoot };
  }

  /** Receipts in relay order, a page at a time. */
  receipts(after = -1, limit = 100): Receipt[] {
    this.count("receipts");
    checkInteger("receipts", "after", after, -1, Number.MAX_SAFE_INTEGER);
    checkInteger("receipts", "limit", limit, 1, 1000);
    return this.ctx.storage.sql
      .exec<ReceiptRow>("SELECT * FROM receipts WHERE relay_index > ? ORDER BY relay_index LIMIT ?", after, limit)
      .toArray()
      .map(toReceipt);
  }
}

type ReceiptRow = Record<string, string | number | null>;

function toReceipt(r: ReceiptRow): Receipt {
  return {
    relayIndex: r.relay_index as number,
    hostId: r.host_id as string | null,
    requestDigest: r.request_digest as string,
    responseDigest: r.response_digest as string | null,
    status: r.status as number,
    outcome: checkOneOf("receipts", "outcome", r.outcome, RECEIPT_OUTCOMES),
    latencyMs: r.latency_ms as number | null,
    computeUnits: r.compute_units as number,
    attempts: r.attempts as number,
    createdAt: r.created_at as number,
    completedAt: r.completed_at as number | null,
    promptTokens: (r.prompt_tokens ?? null) as number | null,
    completionTokens: (r.completion_tokens ?? null) as number | null,
  };
}
