/**
 * Public quality reads: `/v1/report-cards` (per session and host) and
 * `/v1/hosts/{id}/reputation` (reputation as of an epoch, derived from the cards, with its jail
 * terms), so anyone can check the scores and recompute the weights selection used.
 */
import { Hono } from "hono";
import { DEFAULT_REPUTATION, reputationAsOf } from "../../protocol/quality.js";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import type { AppEnv } from "../app-env.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { getHost } from "../db/hosts.js";
import { jailTermsOf, listReportCards, scoredCardsOf } from "../db/quality.js";
import { badRequest, notFound } from "../errors.js";
import { pageLimit } from "../http/fields.js";

function parseCursor(raw: string | undefined) {
  if (!raw) return undefined;
  const [epoch, sessionId, hostId] = raw.split(":");
  if (!Number.isSafeInteger(Number(epoch)) || !sessionId || !hostId)
    throw badRequest("invalid_field", '"cursor" is not a cursor from a previous page');
  return { epoch: Number(epoch), sessionId, hostId };
}

export const reportCardsApp = new Hono<AppEnv>().get("/", async (c) => {
  const page = await listReportCards(database(c.env), {
    host: c.req.query("host"),
    session: c.req.query("session"),
    after: parseCursor(c.req.query("cursor")),
    limit: pageLimit(c.req.query("limit")),
  });
  return c.json(page);
});

export const reputationApp = new Hono<AppEnv>().get("/:id/reputation", async (c) => {
  const db = database(c.env);
  const config = gatewayConfig(c.env);
  const host = await getHost(db, c.req.param("id"));
  if (!host) throw notFound("unknown_host", `No host "${c.req.param("id")}"`);
  const raw = c.req.query("epoch");
  const epoch = raw === undefined ? sessionEpoch(Date.now(), config.sessionSeconds) : Number(raw);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw badRequest("invalid_field", '"epoch" must be a non-negative integer');
  const epochStart = epochStartMs(epoch, config.sessionSeconds);
  const cards = await scoredCardsOf(db, host.id, epoch - DEFAULT_REPUTATION.windowEpochs, epochStart - 1);
  const jail = await jailTermsOf(db, host.id);
  const jailed = jail.some((t) => t.fromEpoch <= epoch && (t.untilEpoch === null || t.untilEpoch > epoch));
  return c.json({
    hostId: host.id,
    epoch,
    reputation: reputationAsOf(cards, { epoch, epochStart }),
    parameters: DEFAULT_REPUTATION,
    jailed,
    cards: cards.length,
    jail,
  });
});
