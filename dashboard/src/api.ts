/**
 * The gateway's public read routes the dashboard shows, with the fields it reads. Same origin:
 * the Worker serves the dashboard next to the API.
 */

export interface HostJson {
  id: string;
  operator: string;
  endpoint: string;
  latitude: number;
  longitude: number;
  status: "active" | "left";
  services: string[];
  stake: string;
}

export interface ReputationJson {
  hostId: string;
  reputation: number;
  jailed: boolean;
  cards: number;
}

export interface ReportCardJson {
  sessionId: string;
  hostId: string;
  epoch: number;
  score: number;
  status: string;
  createdAt: number;
}

export interface RelayMinuteJson {
  minute: number;
  relays: number;
  failures: number;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
}

export interface RelayMetricsJson {
  from: number;
  to: number;
  minuteMs: number;
  services: { serviceId: string; relays: number; failures: number; minutes: RelayMinuteJson[] }[];
}

export type BatchState = "pending" | "submitted" | "committed" | "verified" | "expired" | "failed";

export interface BatchJson {
  id: string;
  state: BatchState;
  relayCount: number;
  sessionCount: number;
  computeUnits: number;
  commitTx: string | null;
  finalTx: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface BatchDetailJson extends BatchJson {
  sessions: { sessionId: string; ordinal: number; relayCount: number }[];
}

export interface SupplyJson {
  minted: string;
  burned: string;
  supply: string;
  treasury: string;
  rewardPool: string;
}

export interface SettlementJson {
  batchId: string;
  outcome: "paid" | "expired" | "prover_not_active";
  computeUnits: number;
  charged: number;
  hosts: number;
  treasury: number;
  validators: number;
  fisherman: number;
  chainPartner: number;
  burned: number;
  settledAt: number;
}

async function read<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const api = {
  hosts: () => read<{ hosts: HostJson[]; next: string | null }>("/v1/hosts?limit=200"),
  reputation: (id: string) => read<ReputationJson>(`/v1/hosts/${encodeURIComponent(id)}/reputation`),
  reportCards: (hostId: string) =>
    read<{ cards: ReportCardJson[]; next: string | null }>(`/v1/report-cards?host=${encodeURIComponent(hostId)}&limit=200`),
  relayMetrics: () => read<RelayMetricsJson>("/v1/metrics/relays"),
  batches: () => read<{ batches: BatchJson[]; next: string | null }>("/v1/batches?limit=25"),
  batch: (id: string) => read<BatchDetailJson>(`/v1/batches/${encodeURIComponent(id)}`),
  supply: () => read<SupplyJson>("/v1/ledger/supply"),
  settlements: () => read<{ settlements: SettlementJson[]; next: string | null }>("/v1/settlements?limit=25"),
};

/** The public inclusion proof of a session's receipt (the session's first receipt is index 0). */
export const proofPath = (sessionId: string, index = 0) =>
  `/v1/sessions/${encodeURIComponent(sessionId)}/receipts/${index}/proof`;
