/**
 * Fisherman: one Durable Object per session (docs/protocol.md, "Quality"). While the session runs, its
 * alarm probes every host of the session at jittered intervals and passes the results to the
 * session's `RelaySession` (live routing); when the session's grace window has passed, it writes
 * one report card per host to D1, reveals its probe plan seed and stops.
 *
 * Committed probe plans: when it starts, it draws a secret 32-byte plan seed, keeps it in its own
 * storage and returns the commitment the session record carries; every choice of every round is
 * drawn from the seed (`protocol/probe-plan.ts`). Nothing of the plan leaves the object before the
 * session's end: `planReveal` answers only after it.
 */
import { DurableObject } from "cloudflare:workers";
import { type Hex, toHex } from "../protocol/hex.js";
import { planDraws, probePlanCommitment } from "../protocol/probe-plan.js";
import type { ProbeSample } from "../protocol/quality.js";
import { QUORUM_PROBE_PREFIX } from "../protocol/relay-policy.js";
import { gatewayConfig } from "../workers/config.js";
import { database } from "../workers/db/database.js";
import type { ReportCard } from "../workers/db/quality.js";
import { revealProbePlan } from "../workers/db/sessions.js";
import { probeRound } from "../workers/quality/probe-round.js";
import { writeReportCards } from "../workers/quality/report-cards.js";
import type { SessionPlan } from "../workers/sessions/plan-session.js";
import { relaySessionStub } from "../workers/sessions/session-stub.js";
import { checkInteger, checkString } from "./rpc-input.js";

/** Most samples the relays' quorum reads may add to one session (each is one row). */
const MAX_RELAY_SAMPLES = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, ended_at INTEGER);
CREATE TABLE IF NOT EXISTS samples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  probe TEXT NOT NULL,
  ok INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  first_byte_ms INTEGER,
  checks TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (id INTEGER PRIMARY KEY CHECK (id = 1), done INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS probe_plan (id INTEGER PRIMARY KEY CHECK (id = 1), seed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS probe_rounds (round INTEGER PRIMARY KEY, body TEXT NOT NULL);`;

/** Columns added to `samples` for committed probe plans (objects created before them get them on load). */
const PLAN_SAMPLE_COLUMNS = ["round INTEGER", "seq INTEGER", "request TEXT"];

/** What `planReveal` gives once the session has ended: the rounds' inputs and every sample. */
export interface FishermanReveal {
  seed: string;
  /** Each round's `RevealedRound` as stored (JSON: its shapes' parameters are any JSON, which RPC types cannot say). */
  rounds: string[];
  samples: ProbeSample[];
}

export class Fisherman extends DurableObject<Env> {
  private plan: SessionPlan | null = null;
  private planSeed: Hex | null = null;
  private endedAt: number | null = null;
  /**
   * Set when `endSession` begins: a round still in flight then is not recorded, so the cards, the
   * revealed rounds and the samples always agree (its planned probes form a suffix that was never run).
   */
  private ending = false;
  /** JSON-RPC ids for probes, counting up from a random start like a client's. */
  private nextRpcId = Math.floor(Math.random() * 1000);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(SCHEMA);
      const columns = new Set(
        this.ctx.storage.sql
          .exec<{ name: string }>("PRAGMA table_info(samples)")
          .toArray()
          .map((c) => c.name),
      );
      for (const column of PLAN_SAMPLE_COLUMNS) {
        if (!columns.has(column.split(" ")[0])) this.ctx.storage.sql.exec(`ALTER TABLE samples ADD COLUMN ${column}`);
      }
      this.planSeed =
        (this.ctx.storage.sql.exec<{ seed: string }>("SELECT seed FROM probe_plan WHERE id = 1").toArray()[0]?.seed as Hex) ??
        null;
      const row = this.ctx.storage.sql
        .exec<{ body: string; ended_at: number | null }>("SELECT body, ended_at FROM plan WHERE id = 1")
        .toArray()[0];
      if (row) {
        this.plan = JSON.parse(row.body);
        this.endedAt = row.ended_at;
      }
      if (row && !this.planSeed) {
        // Started before plans were committed: a seed of its own now, with no commitment in the
        // session record, so a validator refuses its cards (docs/protocol.md).
        this.planSeed = toHex(crypto.getRandomValues(new Uint8Array(32)));
        this.ctx.storage.sql.exec("INSERT INTO probe_plan (id, seed) VALUES (1, ?)", this.planSeed);
      }
    });
  }

  /**
   * Starts watching a session (idempotent): draws the secret plan seed, schedules the first probe
   * round after a jittered interval, and returns the plan commitment for the session record.
   */
  async start(plan: SessionPlan): Promise<Hex> {
    if (!this.plan) {
      const seed = toHex(crypto.getRandomValues(new Uint8Array(32)));
      this.ctx.storage.transactionSync(() => {
        this.ctx.storage.sql.exec("INSERT INTO plan (id, body) VALUES (1, ?)", JSON.stringify(plan));
        this.ctx.storage.sql.exec("INSERT INTO probe_plan (id, seed) VALUES (1, ?)", seed);
      });
      this.plan = plan;
      this.planSeed = seed;
      await this.scheduleNext(Date.now());
    }
    return probePlanCommitment(this.seed(), this.plan.seed as Hex);
  }

  private seed(): Hex {
    if (!this.planSeed) throw new Error("fisherman: no probe plan seed");
    return this.planSeed;
  }

  private roundsDone(): number {
    return this.ctx.storage.sql.exec<{ done: number }>("SELECT done FROM rounds WHERE id = 1").toArray()[0]?.done ?? 0;
  }

  private closesAt(plan: SessionPlan): number {
    return plan.endsAt + gatewayConfig(this.env).rolloverGraceSeconds * 1000;
  }

  private async scheduleNext(now: number): Promise<void> {
    if (!this.plan) return;
    const { probeIntervalMinMs: min, probeIntervalMaxMs: max } = gatewayConfig(this.env);
    const next = now + planDraws(this.seed(), this.roundsDone(), "", "interval").between(min, max);
    await this.ctx.storage.setAlarm(Math.min(next, this.closesAt(this.plan)));
  }

  override async alarm(): Promise<void> {
    if (!this.plan || this.endedAt !== null) return;
    const now = Date.now();
    if (now >= this.closesAt(this.plan)) {
      await this.endSession(now);
      return;
    }
    await this.probe();
    await this.scheduleNext(Date.now());
  }

  /** Runs one probe round now, stores the samples and tells the session's router. */
  async probe(): Promise<ProbeSample[]> {
    const plan = this.plan;
    if (!plan || this.endedAt !== null || this.ending) return [];
    // The round's number is taken before anything is awaited, so two rounds never share one.
    const round = this.roundsDone();
    this.ctx.storage.sql.exec("INSERT INTO rounds (id, done) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET done = done + 1");
    // The session's own read-only traffic, which the probes imitate (JSON-RPC services).
    const shapes = plan.service.kind === "jsonrpc" ? await relaySessionStub(this.env, plan.sessionId).recentShapes() : [];
    const { samples, record } = await probeRound({
      service: plan.service,
      hosts: plan.hosts,
      config: gatewayConfig(this.env),
      nextId: () => this.nextRpcId++,
      shapes,
      planSeed: this.seed(),
      round,
    });
    if (this.ending || this.endedAt !== null) return samples;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO probe_rounds (round, body) VALUES (?, ?)", round, JSON.stringify(record));
      for (const s of samples) {
        this.ctx.storage.sql.exec(
          "INSERT INTO samples (host_id, at, probe, ok, latency_ms, first_byte_ms, checks, round, seq, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          s.hostId,
          s.at,
          s.probe,
          s.ok ? 1 : 0,
          s.latencyMs,
          s.firstByteMs ?? null,
          JSON.stringify(s.checks),
          s.round ?? null,
          s.seq ?? null,
          s.request ?? null,
        );
      }
    });
    await relaySessionStub(this.env, plan.sessionId).observeProbes(
      samples.map((s) => ({ hostId: s.hostId, ok: s.ok && Object.values(s.checks).every((v) => v > 0), latencyMs: s.latencyMs })),
      Date.now(),
    );
    return samples;
  }

  /**
   * Records correctness samples the relay path observed (a host in a quorum read's minority:
   * `workers/relay/engine-samples.ts`). Only `quorum:` samples of the session's own hosts, while
   * the session runs; they are outside the probe rounds, and the cards count them like any sample.
   */
  recordRelaySamples(samples: ProbeSample[]): number {
    const plan = this.plan;
    if (!plan || this.endedAt !== null || this.ending || !Array.isArray(samples)) return 0;
    const hosts = new Set(plan.hosts.map((h) => h.id));
    const stored = this.ctx.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM samples WHERE round IS NULL AND probe LIKE 'quorum:%'")
      .one().n;
    let recorded = 0;
    for (const s of samples.slice(0, Math.max(0, MAX_RELAY_SAMPLES - stored))) {
      const m = "recordRelaySamples";
      const probe = checkString(m, "probe", s?.probe, 160);
      if (!probe.startsWith(QUORUM_PROBE_PREFIX) || !hosts.has(s.hostId)) continue;
      this.ctx.storage.sql.exec(
        "INSERT INTO samples (host_id, at, probe, ok, latency_ms, first_byte_ms, checks, round, seq, request) VALUES (?, ?, ?, 1, ?, NULL, ?, NULL, NULL, ?)",
        s.hostId,
        checkInteger(m, "at", s.at, 0, Number.MAX_SAFE_INTEGER),
        probe,
        checkInteger(m, "latencyMs", s.latencyMs, 0, 3_600_000),
        JSON.stringify({ quorum: 0 }),
        checkString(m, "request", s.request ?? "", 1024),
      );
      recorded += 1;
    }
    return recorded;
  }

  /** Every sample so far, in order. */
  samples(): ProbeSample[] {
    return this.ctx.storage.sql
      .exec<{
        host_id: string;
        at: number;
        probe: string;
        ok: number;
        latency_ms: number;
        first_byte_ms: number | null;
        checks: string;
        round: number | null;
        seq: number | null;
        request: string | null;
      }>("SELECT * FROM samples ORDER BY id")
      .toArray()
      .map((r) => ({
        hostId: r.host_id,
        at: r.at,
        probe: r.probe,
        ok: r.ok === 1,
        latencyMs: r.latency_ms,
        ...(r.first_byte_ms === null ? {} : { firstByteMs: r.first_byte_ms }),
        checks: JSON.parse(r.checks),
        ...(r.round === null ? {} : { round: r.round }),
        ...(r.seq === null ? {} : { seq: r.seq }),
        ...(r.request === null ? {} : { request: r.request }),
      }));
  }

  /** The rounds' inputs as recorded (`RevealedRound` JSON), in round order. */
  private rounds(): string[] {
    return this.ctx.storage.sql
      .exec<{ body: string }>("SELECT body FROM probe_rounds ORDER BY round")
      .toArray()
      .map((r) => r.body);
  }

  /**
   * The plan seed, the rounds' inputs and every sample, once the session has ended (its report
   * cards written, no probe left to send); null before, so no host can learn the plan early.
   */
  planReveal(): FishermanReveal | null {
    if (this.endedAt === null) return null;
    return { seed: this.seed(), rounds: this.rounds(), samples: this.samples() };
  }

  /**
   * Ends the session: writes one report card per host to D1 and stops probing. Running it again
   * writes nothing new (cards are keyed by session and host). `now` must be past the session's end.
   */
  async endSession(now = Date.now()): Promise<ReportCard[]> {
    const plan = this.plan;
    if (!plan) return [];
    if (now < plan.endsAt) throw new Error(`session ${plan.sessionId} has not ended`);
    this.ending = true;
    const db = database(this.env);
    const cards = await writeReportCards(db, gatewayConfig(this.env), plan, this.samples(), now);
    if (this.endedAt === null) {
      this.endedAt = now;
      this.ctx.storage.sql.exec("UPDATE plan SET ended_at = ? WHERE id = 1", now);
      await this.ctx.storage.deleteAlarm();
    }
    // The cards are written and no round runs after this: the plan can be checked now.
    if (this.planSeed) await revealProbePlan(db, plan.sessionId, this.planSeed, now);
    return cards;
  }
}
