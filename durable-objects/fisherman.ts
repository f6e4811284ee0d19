/**
 * Fisherman: one Durable Object per session (docs/protocol.md, "Quality"). While the session runs, its
 * alarm probes every host of the session at jittered intervals and passes the results to the
 * session's `RelaySession` (live routing); when the session's grace window has passed, it writes
 * one report card per host to D1 and stops.
 */
import { DurableObject } from "cloudflare:workers";
import type { ProbeSample } from "../protocol/quality.js";
import { gatewayConfig } from "../workers/config.js";
import { database } from "../workers/db/database.js";
import type { ReportCard } from "../workers/db/quality.js";
import { probeRound } from "../workers/quality/probe-round.js";
import { writeReportCards } from "../workers/quality/report-cards.js";
import type { SessionPlan } from "../workers/sessions/plan-session.js";
import { relaySessionStub } from "../workers/sessions/session-stub.js";

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
CREATE TABLE IF NOT EXISTS rounds (id INTEGER PRIMARY KEY CHECK (id = 1), done INTEGER NOT NULL);`;

/** With traffic to imitate, one round in this many also checks the chain id (when the traffic does not). */
const IDENTITY_EVERY_ROUNDS = 4;

export class Fisherman extends DurableObject<Env> {
  private plan: SessionPlan | null = null;
  private endedAt: number | null = null;
  /** JSON-RPC ids for probes, counting up from a random start like a client's. */
  private nextRpcId = Math.floor(Math.random() * 1000);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(SCHEMA);
      const row = this.ctx.storage.sql
        .exec<{ body: string; ended_at: number | null }>("SELECT body, ended_at FROM plan WHERE id = 1")
        .toArray()[0];
      if (row) {
        this.plan = JSON.parse(row.body);
        this.endedAt = row.ended_at;
      }
    });
  }

  /** Starts watching a session (idempotent): the first probe round comes after a jittered interval. */
  async start(plan: SessionPlan): Promise<void> {
    if (this.plan) return;
    this.ctx.storage.sql.exec("INSERT INTO plan (id, body) VALUES (1, ?)", JSON.stringify(plan));
    this.plan = plan;
    await this.scheduleNext(Date.now());
  }

  private closesAt(plan: SessionPlan): number {
    return plan.endsAt + gatewayConfig(this.env).rolloverGraceSeconds * 1000;
  }

  private async scheduleNext(now: number): Promise<void> {
    if (!this.plan) return;
    const { probeIntervalMinMs: min, probeIntervalMaxMs: max } = gatewayConfig(this.env);
    const next = now + min + Math.random() * Math.max(0, max - min);
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
    if (!plan || this.endedAt !== null) return [];
    const done = this.ctx.storage.sql.exec<{ done: number }>("SELECT done FROM rounds WHERE id = 1").toArray()[0]?.done ?? 0;
    // The session's own read-only traffic, which the probes imitate (JSON-RPC services).
    const shapes = plan.service.kind === "jsonrpc" ? await relaySessionStub(this.env, plan.sessionId).recentShapes() : [];
    const samples = await probeRound({
      service: plan.service,
      hosts: plan.hosts,
      config: gatewayConfig(this.env),
      nextId: () => this.nextRpcId++,
      shapes,
      identityCheck: done % IDENTITY_EVERY_ROUNDS === 0,
    });
    this.ctx.storage.sql.exec("INSERT INTO rounds (id, done) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET done = done + 1");
    for (const s of samples) {
      this.ctx.storage.sql.exec(
        "INSERT INTO samples (host_id, at, probe, ok, latency_ms, first_byte_ms, checks) VALUES (?, ?, ?, ?, ?, ?, ?)",
        s.hostId,
        s.at,
        s.probe,
        s.ok ? 1 : 0,
        s.latencyMs,
        s.firstByteMs ?? null,
        JSON.stringify(s.checks),
      );
    }
    await relaySessionStub(this.env, plan.sessionId).observeProbes(
      samples.map((s) => ({ hostId: s.hostId, ok: s.ok && Object.values(s.checks).every((v) => v > 0), latencyMs: s.latencyMs })),
      Date.now(),
    );
    return samples;
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
      }));
  }

  /**
   * Ends the session: writes one report card per host to D1 and stops probing. Running it again
   * writes nothing new (cards are keyed by session and host). `now` must be past the session's end.
   */
  async endSession(now = Date.now()): Promise<ReportCard[]> {
    const plan = this.plan;
    if (!plan) return [];
    if (now < plan.endsAt) throw new Error(`session ${plan.sessionId} has not ended`);
    const cards = await writeReportCards(database(this.env), gatewayConfig(this.env), plan, this.samples(), now);
    if (this.endedAt === null) {
      this.endedAt = now;
      this.ctx.storage.sql.exec("UPDATE plan SET ended_at = ? WHERE id = 1", now);
      await this.ctx.storage.deleteAlarm();
    }
    return cards;
  }
}
