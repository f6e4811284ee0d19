/**
 * Turning a session's probe samples into report cards (one per host), written to D1 once, and
 * jailing hosts whose recent cards call for it. Safe to run twice: cards are keyed by
 * (session, host) and a host has at most one open jail term.
 */
import {
  DEFAULT_JAIL,
  DEFAULT_LATENCY_PROFILES,
  jailReason,
  type ProbeSample,
  samplesHash,
  scoreReportCard,
} from "../../protocol/quality.js";
import { sessionEpoch } from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { insertReportCard, lastReleaseOf, openJailTerm, type ReportCard, scoredCardsOf } from "../db/quality.js";
import type { SessionPlan } from "../sessions/plan-session.js";

export function reportCardFor(
  plan: SessionPlan,
  hostId: string,
  samples: readonly ProbeSample[],
  config: GatewayConfig,
  now: number,
): ReportCard {
  const figures = scoreReportCard(samples, DEFAULT_LATENCY_PROFILES[plan.service.kind], {
    minSamples: config.reportCardMinSamples,
  });
  return {
    sessionId: plan.sessionId,
    hostId,
    serviceId: plan.serviceId,
    epoch: plan.epoch,
    samples: figures.samples,
    availability: figures.availability,
    latencyP50Ms: figures.latencyP50Ms,
    latencyP90Ms: figures.latencyP90Ms,
    latencyScore: figures.latencyScore,
    correctness: figures.correctness,
    freshness: figures.freshness,
    identityFailureRate: figures.identityFailureRate,
    score: figures.score,
    status: figures.status,
    samplesHash: samplesHash(samples),
    createdAt: now,
  };
}

/**
 * Jails the host when its cards since its last release call for it (`jailReason`). The term
 * starts with the next epoch, so sessions already running are left alone and every session's
 * host set stays recomputable.
 */
export async function jailIfDue(
  db: Database,
  config: GatewayConfig,
  hostId: string,
  epoch: number,
  now: number,
): Promise<string | null> {
  const since = await lastReleaseOf(db, hostId);
  const cards = (await scoredCardsOf(db, hostId, epoch - DEFAULT_JAIL.consecutiveEpochs, now)).filter((c) => c.createdAt > since);
  const reason = jailReason(cards);
  if (!reason) return null;
  await openJailTerm(db, {
    hostId,
    reason,
    jailedAt: now,
    fromEpoch: sessionEpoch(now, config.sessionSeconds) + 1,
    releaseAfter: now + config.jailCooldownSeconds * 1000,
  });
  return reason;
}

/** Writes every host's card for the session and applies the jail rule; returns the cards. */
export async function writeReportCards(
  db: Database,
  config: GatewayConfig,
  plan: SessionPlan,
  samples: readonly ProbeSample[],
  now: number,
): Promise<ReportCard[]> {
  const cards: ReportCard[] = [];
  for (const host of plan.hosts) {
    const card = reportCardFor(
      plan,
      host.id,
      samples.filter((s) => s.hostId === host.id),
      config,
      now,
    );
    await insertReportCard(db, card);
    if (card.status === "scored") await jailIfDue(db, config, host.id, plan.epoch, now);
    cards.push(card);
  }
  return cards;
}
