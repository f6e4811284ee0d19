/**
 * Releasing jailed hosts (cron): once a term's cooldown has passed, the host is probed the way a
 * fisherman would probe it, for each service it serves. Passing every probe (usable answers, every
 * check at 1) releases it from the next epoch; failing postpones the next try by another cooldown.
 *
 * Hosts are probed side by side (a few at a time), and every probe round is bounded by
 * `PROBE_TIMEOUT_MS`, so one host that never finishes its answer holds nobody else up.
 */
import { toHex } from "../../protocol/hex.js";
import { sessionEpoch } from "../../protocol/session.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { getHost } from "../db/hosts.js";
import { closeJailTerm, type JailTerm, jailTermsDueForRelease, postponeRelease } from "../db/quality.js";
import { getService } from "../db/services.js";
import { probeRound } from "./probe-round.js";

/** Hosts probed at once. */
const RELEASE_CONCURRENCY = 8;

export async function releaseJailedHosts(env: Env, now: number): Promise<{ released: string[]; kept: string[] }> {
  const db = database(env);
  const config = gatewayConfig(env);
  const released: string[] = [];
  const kept: string[] = [];
  let rpcId = 1;

  async function passesProbes(term: JailTerm): Promise<boolean | null> {
    const host = await getHost(db, term.hostId);
    if (!host || host.status === "left") return null;
    const verdicts = await Promise.all(
      host.services.map(async (serviceId) => {
        const service = await getService(db, serviceId);
        if (!service) return true;
        const { samples } = await probeRound({
          service: { kind: service.kind, chainId: service.chainId, model: service.model },
          hosts: [{ id: host.id, endpoint: host.endpoint, latitude: host.latitude, longitude: host.longitude, reputation: 0 }],
          config,
          nextId: () => rpcId++,
          // Not a session's probes: nothing is committed, so a fresh seed per release attempt.
          planSeed: toHex(crypto.getRandomValues(new Uint8Array(32))),
          round: 0,
        });
        return samples.length > 0 && samples.every((s) => s.ok && Object.values(s.checks).every((v) => v === 1));
      }),
    );
    return host.services.length > 0 && verdicts.every(Boolean);
  }

  const queue = await jailTermsDueForRelease(db, now);
  const worker = async () => {
    for (let term = queue.shift(); term; term = queue.shift()) {
      const passed = await passesProbes(term).catch((error) => {
        console.error("jail release probe failed", term.hostId, error);
        return false;
      });
      if (passed === null) continue;
      if (passed) {
        await closeJailTerm(
          db,
          term.id,
          now,
          sessionEpoch(now, config.sessionSeconds) + 1,
          "passed release probes after cooldown",
        );
        released.push(term.hostId);
      } else {
        await postponeRelease(db, term.id, now + config.jailCooldownSeconds * 1000);
        kept.push(term.hostId);
      }
    }
  };
  await Promise.all(Array.from({ length: RELEASE_CONCURRENCY }, worker));
  return { released, kept };
}
