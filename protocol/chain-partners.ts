/**
 * Chain partners (docs/economy.md, "Chain partners"): a service may name a partner holder, who
 * receives that service's part of a settlement's chain-partner share instead of the system
 * chain-partner account.
 *
 * A batch's chain-partner share (`REWARD_SPLIT_BPS`) is computed on what was charged; it is
 * divided among the batch's services in proportion to what each was due (compute units x price):
 * a partnered service's part is `floor(share x due(service) / due(batch))`, paid to its partner.
 * Services without a partner, and every rounding remainder, leave their part with
 * `system:chain_partner`, so the parts always add up to the share exactly.
 */

export interface ServiceDue {
  service: string;
  partner: string | null;
  due: bigint;
}

/** Each partner's part of `share` (partners named by several services are summed), sorted by partner, and the rest. */
export function partnerParts(share: bigint, services: readonly ServiceDue[]): { parts: Map<string, bigint>; rest: bigint } {
  const parts = new Map<string, bigint>();
  const total = services.reduce((n, s) => n + (s.due > 0n ? s.due : 0n), 0n);
  if (share <= 0n || total === 0n) return { parts, rest: share > 0n ? share : 0n };
  let paid = 0n;
  for (const s of [...services].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))) {
    if (!s.partner || s.due <= 0n) continue;
    const part = (share * s.due) / total;
    if (part <= 0n) continue;
    parts.set(s.partner, (parts.get(s.partner) ?? 0n) + part);
    paid += part;
  }
  const sorted = new Map([...parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { parts: sorted, rest: share - paid };
}
