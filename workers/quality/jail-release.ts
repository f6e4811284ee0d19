/**
 * Releasing jailed hosts (cron): once a term's cooldown has passed, the host is probed the way a
 * fisherman would probe it, for each service it serves. Passing every probe (usable answers, every
 * check at 1) releases it from the next epoch; failing postpones the next try by another cooldown.
 */
import { sessionEpoch } from "../../protocol/session.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { getHost } from "../db/hosts.js";
import { closeJailTerm, jailTermsDueForRelease, postponeRelease } from "../db/quality.js";
import { getService } from "../db/services.js";
import { probeRound } from "./probe-round.js";

export async function releaseJailedHosts(env: Env, now: number): Promise<{ released: string[]; kept: string[] }> {
  const db = database(env);
  const config = gatewayConfig(env);
  const released: string[] = [];
  const kept: string[] = [];
  let rpcId = 1;
  for (const term of await jailTermsDueForRelease(db, now)) {
    const host = await getHost(db, term.hostId);
    if (!host || host.status === "left") continue;
    let passed = host.services.length > 0;
    for (const serviceId of host.services) {
      const service = await getService(db, serviceId);
      if (!service) continue;
      const samples = await probeRound({
        service: { kind: service.kind, chainId: service.chainId, model: service.model },
        hosts: [{ id: host.id, endpoint: host.endpoint, latitude: host.latitude, longitude: host.longitude, reputation: 0 }],
        config,
        nextId: () => rpcId++,
      });
      passed &&= samples.length > 0 && samples.every((s) => s.ok && Object.values(s.checks).every((v) => v === 1));
    }
    if (passed) {
      await closeJailTerm(db, term.id, now, sessionEpoch(now, config.sessionSeconds) + 1, "passed release probes after cooldown");
      released.push(host.id);
    } else {
      await postponeRelease(db, term.id, now + config.jailCooldownSeconds * 1000);
      kept.push(host.id);
    }
  }
  return { released, kept };
}
