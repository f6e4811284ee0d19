/**
 * RelaySession: one Durable Object per session (docs/architecture.md). What it exchanges with
 * the Worker is in `workers/sessions/session-messages.ts`. It admits relays
 * against the session's quota, picks hosts for each relay and keeps exactly one receipt per
 * admitted relay in its SQLite storage.
 *
 * Exactly-once receipts: `admit` writes the receipt (outcome `pending`) in the same synchronous
 * step that assigns the relay index, so a relay cannot be admitted without its receipt; the
 * Worker's `complete` call then fills in the result. Durable Objects run one call at a time
 * between awaits, and neither method awaits after it reads state, so concurrent relays never
 * share an index or overspend the quota.
 */
import { DurableObject } from "cloudflare:workers";
import {
  admitThrough,
  type BreakerParameters,
  type BreakerState,
  newBreaker,
  recordFailure,
  recordProbeSuccess,
  recordSuccess,
} from "../protocol/breaker.js";
import { isServed, RECEIPT_OUTCOMES, type ReceiptLeaf, sessionTree } from "../protocol/commitments.js";
import { type GeoPoint, isGeoPoint } from "../protocol/geo.js";
import type { Hex } from "../protocol/hex.js";
import type { MerkleTree } from "../protocol/merkle.js";
import { DEFAULT_LATENCY_PROFILES, latencyScore } from "../protocol/quality.js";
import { rankHosts, updateQuality } from "../protocol/routing.js";
import { epochStartMs, type SessionCoordinates } from "../protocol/session.js";
import { gatewayConfig } from "../workers/config.js";
import { database } from "../workers/db/database.js";
import { recordSession } from "../workers/db/sessions.js";
import { planSession, type SessionHost, type SessionPlan } from "../workers/sessions/plan-session.js";
import type {
  AdmitInput,
  AdmitResult,
  CompleteInput,
  HostObservation,
  Receipt,
  SessionClosure,
  SessionUsage,
} from "../workers/sessions/session-messages.js";
import { fishermanStub } from "../workers/sessions/session-stub.js";
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
  completed_at INTEGER
);
CREATE TABLE IF NOT EXISTS host_live (host_id TEXT PRIMARY KEY, quality REAL NOT NULL, breaker TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS host_counters (
  host_id TEXT PRIMARY KEY,
  relays INTEGER NOT NULL DEFAULT 0,
  compute_units INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0
);`;

/** Live routing state of one host in this session, kept in memory and written through to `host_live`. */
interface HostLiveState {
  quality: number;
  breaker: BreakerState;
}

const MAX_TIME = 2 ** 48; // Unix milliseconds, far beyond any real time
const MAX_ID_LENGTH = 128;

function checkObservations(method: string, observations: unknown): HostObservation[] {
  if (!Array.isArray(observations) || observations.length > 64) {
    throw new InvalidRpcInput(method, "observations", "a list of at most 64 observations");
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

function checkAdmitInput(input: AdmitInput): void {
  const m = "admit";
  const c = input?.coordinates;
  checkString(m, "coordinates.requestorId", c?.requestorId, MAX_ID_LENGTH);
  checkString(m, "coordinates.serviceId", c?.serviceId, MAX_ID_LENGTH);
  checkInteger(m, "coordinates.epoch", c?.epoch, 0, MAX_TIME);
  if (typeof input.requestorStake !== "bigint" || input.requestorStake < 0n) {
    throw new InvalidRpcInput(m, "requestorStake", "a non-negative bigint");
  }
  checkInteger(m, "computeUnits", input.computeUnits, 1, UINT32_MAX);
  if (input.caller !== null && !(input.caller && isGeoPoint(input.caller.latitude, input.caller.longitude))) {
    throw new InvalidRpcInput(m, "caller", "null or a latitude/longitude in degrees");
  }
  checkDigest(m, "requestDigest", input.requestDigest);
  checkInteger(m, "now", input.now, 0, MAX_TIME);
}

function checkCompleteInput(input: CompleteInput): void {
  const m = "complete";
  checkInteger(m, "relayIndex", input?.relayIndex, 0, Number.MAX_SAFE_INTEGER);
  if (input.hostId !== null) checkString(m, "hostId", input.hostId, MAX_ID_LENGTH);
  checkDigest(m, "responseDigest", input.responseDigest);
  checkInteger(m, "status", input.status, 100, 599);
  checkOneOf(m, "outcome", input.outcome, ["ok", "failed", "cancelled"] as const);
  checkInteger(m, "latencyMs", input.latencyMs, 0, MAX_TIME);
  checkInteger(m, "attempts", input.attempts, 0, 64);
  checkObservations(m, input.observations);
  checkInteger(m, "now", input.now, 0, MAX_TIME);
}

export class RelaySession extends DurableObject<Env> {
  private plan: SessionPlan | null = null;
  private closure: SessionClosure | null = null;
  private tree: MerkleTree | null = null;
  private relayCount = 0;
  private usedComputeUnits = 0;
  private live = new Map<string, HostLiveState>();
  /** Relays admitted and not yet completed: relay index to admission time (memory only). */
  private inFlight = new Map<number, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(SCHEMA);
      const row = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM plan WHERE id = 1").toArray()[0];
      if (row) this.adoptPlan(JSON.parse(row.body));
      const closed = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM closure WHERE id = 1").toArray()[0];
      if (closed) this.closure = JSON.parse(closed.body);
      const totals = this.ctx.storage.sql
        .exec<{ relays: number; used: number }>(
          "SELECT COUNT(*) AS relays, COALESCE(SUM(CASE WHEN outcome = 'failed' THEN 0 ELSE compute_units END), 0) AS used FROM receipts",
        )
        .one();
      this.relayCount = totals.relays;
      this.usedComputeUnits = totals.used;
    });
  }

  /**
   * Returns the session's plan, opening the session from the registry on first use. Opening
   * holds every other call back, so concurrent first relays all see the same plan.
   */
  async open(coordinates: SessionCoordinates, requestorStake: bigint): Promise<SessionPlan> {
    if (this.plan) return this.plan;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.plan) return;
      const db = database(this.env);
      const plan = await planSession(db, gatewayConfig(this.env), coordinates, requestorStake);
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
      });
      this.ctx.storage.sql.exec("INSERT INTO plan (id, body) VALUES (1, ?)", JSON.stringify(plan));
      this.adoptPlan(plan);
      if (plan.hosts.length) await fishermanStub(this.env, plan.sessionId).start(plan);
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

  /** Hosts for one relay, best first: available hosts by distance and quality, then the rest. */
  private candidates(plan: SessionPlan, caller: GeoPoint | null, relayIndex: number, now: number): SessionHost[] {
    const routable = plan.hosts.map((host) => {
      const live = this.live.get(host.id) as HostLiveState;
      const b = live.breaker;
      const available = now >= b.retryAfterUntil && (b.state === "closed" || (!b.trialInFlight && now >= b.openUntil));
      return { ...host, quality: live.quality, available };
    });
    const ranked = rankHosts(routable, caller, relayIndex);
    // The first choice is the one that will be tried: if its breaker is recovering, this is its trial.
    const first = ranked[0] && this.live.get(ranked[0].id);
    if (first && ranked[0].available && first.breaker.state !== "closed") {
      admitThrough(first.breaker, now);
      this.saveLive(ranked[0].id, first);
    }
    return ranked.map(({ quality: _q, available: _a, ...host }) => host);
  }

  private observe(observations: readonly HostObservation[], now: number, probe = false): void {
    const plan = this.plan;
    if (!plan) return;
    const profile = DEFAULT_LATENCY_PROFILES[plan.service.kind];
    const breaker = this.breakerParameters();
    for (const o of observations) {
      const live = this.live.get(o.hostId);
      if (!live) continue;
      live.quality = updateQuality(live.quality, o.ok ? latencyScore(o.latencyMs, profile) : 0);
      if (o.ok && probe) recordProbeSuccess(live.breaker);
      else if (o.ok) recordSuccess(live.breaker, breaker);
      else recordFailure(live.breaker, now, breaker, o.retryAfterMs);
      this.saveLive(o.hostId, live);
    }
  }

  /** Probe results from the session's fisherman: they move quality and let healed hosts back in. */
  observeProbes(observations: HostObservation[], now: number): void {
    const checked = checkObservations("observeProbes", observations);
    this.observe(checked, checkInteger("observeProbes", "now", now, 0, MAX_TIME), true);
  }

  /**
   * True when one more relay may be in flight. Entries older than the longest a relay can take
   * are dropped first: a Worker that died mid-relay must not hold its slot for ever.
   */
  private roomInFlight(now: number): boolean {
    const config = gatewayConfig(this.env);
    if (this.inFlight.size < config.sessionMaxInFlight) return true;
    const stale = now - config.relayDeadlineMs - config.streamMaxMs;
    for (const [index, admittedAt] of this.inFlight) if (admittedAt < stale) this.inFlight.delete(index);
    return this.inFlight.size < config.sessionMaxInFlight;
  }

  /**
   * Admits one relay: checks the window, the in-flight limit and the quota, stores its pending
   * receipt, orders the hosts. A session is opened only by a relay of its own epoch: a request
   * that names an ended session in the rollover grace window reaches it only if it was opened
   * (else a requestor could open last epoch's session with a fresh quota).
   */
  async admit(input: AdmitInput): Promise<AdmitResult> {
    checkAdmitInput(input);
    const config = gatewayConfig(this.env);
    if (!this.plan && input.now >= epochStartMs(input.coordinates.epoch + 1, config.sessionSeconds)) {
      return { ok: false, reason: "session_closed" };
    }
    const plan = await this.open(input.coordinates, input.requestorStake);
    const grace = config.rolloverGraceSeconds * 1000;
    if (this.closure || input.now >= plan.endsAt + grace) return { ok: false, reason: "session_closed" };
    if (plan.hosts.length === 0) return { ok: false, reason: "no_hosts" };
    if (!this.roomInFlight(input.now)) return { ok: false, reason: "busy", retryAfterSeconds: 1 };
    if (this.usedComputeUnits + input.computeUnits > plan.quota) {
      return {
        ok: false,
        reason: "quota_exhausted",
        retryAfterSeconds: Math.max(1, Math.ceil((plan.endsAt - input.now) / 1000)),
      };
    }
    const relayIndex = this.relayCount;
    this.ctx.storage.sql.exec(
      "INSERT INTO receipts (relay_index, request_digest, compute_units, created_at) VALUES (?, ?, ?, ?)",
      relayIndex,
      input.requestDigest,
      input.computeUnits,
      input.now,
    );
    this.relayCount += 1;
    this.usedComputeUnits += input.computeUnits;
    this.inFlight.set(relayIndex, input.now);
    return {
      ok: true,
      sessionId: plan.sessionId,
      relayIndex,
      candidates: this.candidates(plan, input.caller, relayIndex, input.now),
    };
  }

  /**
   * Completes a pending receipt; a second completion of the same relay changes nothing, and so
   * does any completion after the session closed (a relay still streaming then is committed as
   * pending).
   */
  complete(input: CompleteInput): boolean {
    checkCompleteInput(input);
    this.inFlight.delete(input.relayIndex);
    if (this.closure) return false;
    const receipt = this.ctx.storage.sql
      .exec<{ compute_units: number }>(
        "SELECT compute_units FROM receipts WHERE relay_index = ? AND outcome = 'pending'",
        input.relayIndex,
      )
      .toArray()[0];
    if (!receipt) return false;
    this.ctx.storage.sql.exec(
      `UPDATE receipts SET host_id = ?, response_digest = ?, status = ?, outcome = ?, latency_ms = ?, attempts = ?, completed_at = ?
       WHERE relay_index = ?`,
      input.hostId,
      input.responseDigest,
      input.status,
      input.outcome,
      input.latencyMs,
      input.attempts,
      input.now,
      input.relayIndex,
    );
    const served = isServed(input.outcome);
    if (!served) this.usedComputeUnits -= receipt.compute_units;
    if (input.hostId && served) {
      this.ctx.storage.sql.exec(
        `INSERT INTO host_counters (host_id, relays, compute_units) VALUES (?, 1, ?)
         ON CONFLICT (host_id) DO UPDATE SET relays = relays + 1, compute_units = compute_units + excluded.compute_units`,
        input.hostId,
        receipt.compute_units,
      );
    }
    for (const o of input.observations) {
      if (o.ok) continue;
      this.ctx.storage.sql.exec(
        `INSERT INTO host_counters (host_id, failures) VALUES (?, 1)
         ON CONFLICT (host_id) DO UPDATE SET failures = failures + 1`,
        o.hostId,
      );
    }
    this.observe(input.observations, input.now);
    return true;
  }

  /** Quota and counts so far, or null when the session never opened. */
  usage(): SessionUsage | null {
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
      usedComputeUnits: this.usedComputeUnits,
      relays: this.relayCount,
      hosts,
    };
  }

  /**
   * Closes the session once its grace window has passed: folds every receipt into the session's
   * Merkle root (protocol/commitments.ts). Idempotent: later calls return the same closure.
   */
  close(now: number): SessionClosure {
    checkInteger("close", "now", now, 0, MAX_TIME);
    if (this.closure) return this.closure;
    const plan = this.plan;
    if (plan && now < plan.endsAt + gatewayConfig(this.env).rolloverGraceSeconds * 1000) {
      throw new Error(`session ${plan.sessionId} is still open`);
    }
    const leaves = plan ? this.receiptLeaves(plan) : [];
    this.tree = leaves.length ? sessionTree(leaves) : null;
    const closure: SessionClosure = {
      closedAt: now,
      sessionRoot: this.tree?.root ?? null,
      relayCount: leaves.length,
      computeUnits: leaves.reduce((n, r) => n + (isServed(r.outcome) ? r.computeUnits : 0), 0),
      hosts: this.ctx.storage.sql
        .exec<{ host_id: string; relays: number; compute_units: number }>(
          "SELECT host_id, relays, compute_units FROM host_counters WHERE relays > 0 ORDER BY host_id",
        )
        .toArray()
        .map((r) => ({ hostId: r.host_id, relays: r.relays, computeUnits: r.compute_units })),
    };
    this.ctx.storage.sql.exec("INSERT INTO closure (id, body) VALUES (1, ?)", JSON.stringify(closure));
    this.closure = closure;
    return closure;
  }

  private receiptLeaves(plan: SessionPlan): ReceiptLeaf[] {
    return this.ctx.storage.sql
      .exec<ReceiptRow>("SELECT * FROM receipts ORDER BY relay_index")
      .toArray()
      .map((row) => ({ ...toReceipt(row), sessionSeed: plan.seed }));
  }

  /** A receipt of a closed session with its proof to the session root, or null. */
  receiptProof(relayIndex: number): { leaf: ReceiptLeaf; proof: Hex[]; sessionRoot: Hex } | null {
    checkInteger("receiptProof", "relayIndex", relayIndex, 0, Number.MAX_SAFE_INTEGER);
    const plan = this.plan;
    if (!plan || !this.closure?.sessionRoot || relayIndex < 0 || relayIndex >= this.closure.relayCount) return null;
    const leaves = this.receiptLeaves(plan);
    this.tree ??= sessionTree(leaves);
    return { leaf: leaves[relayIndex], proof: this.tree.proof(relayIndex), sessionRoot: this.closure.sessionRoot };
  }

  /** Receipts in relay order, a page at a time. */
  receipts(after = -1, limit = 100): Receipt[] {
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
  };
}
