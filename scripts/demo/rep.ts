// `npm run demo -- rep`: REP on a running `npm run dev` (docs/rep.md), step by step: the genesis
// pool, an encumbrance, a batch's producer drawn (and the draw recomputed from public reads), a
// validation pool vote, its result, and a citation reward. Start the network with short sessions
// and pools so a batch and its pool come and go within a minute or two:
//
//   SESSION_SECONDS=8 ROLLOVER_GRACE_SECONDS=1 REP_POOL_SECONDS=20 npm run dev
//
// The demo's three holders have fixed keys, so running it again reuses the same genesis.
import fs from "node:fs";
import path from "node:path";
import { keccak256, type LocalAccount, toBytes } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { citationRewardFlow } from "../../protocol/citations.js";
import type { SigningDomain } from "../../protocol/host-registration.js";
import type { Transfer } from "../../protocol/ledger.js";
import { drawProducer, encumberedWeightsAt } from "../../protocol/rep.js";
import { signRepMessage } from "../../protocol/rep-messages.js";

interface DevInfo {
  gateway: string;
  adminToken: string;
  signingDomain: SigningDomain;
  requestor: { apiKey: string };
  sessionSeconds: number;
}

const say = (line = "") => console.log(line);
const step = (n: number, title: string) => say(`\n${n}. ${title}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const holder = (name: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`conductor-relay rep demo ${name}`)));

export async function run(args: string[]): Promise<void> {
  const file = path.resolve(args[0] ?? ".conductor/dev.json");
  if (!fs.existsSync(file)) throw new Error(`${file} not found: start the network first (npm run dev)`);
  const dev = JSON.parse(fs.readFileSync(file, "utf8")) as DevInfo;
  const api = async <T>(p: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${dev.gateway}${p}`, {
      ...init,
      headers: { "content-type": "application/json", ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const post = <T>(p: string, body: unknown, headers: Record<string, string> = {}) =>
    api<T>(p, { method: "POST", body: JSON.stringify(body), headers });
  const deadline = () => BigInt(Math.floor(Date.now() / 1000) + 3600);
  const runId = Date.now().toString(36);
  const producer = holder("producer");
  const [alice, bob] = [holder("alice"), holder("bob")];
  const who = (a: string) =>
    a === producer.address.toLowerCase()
      ? "producer"
      : a === alice.address.toLowerCase()
        ? "alice"
        : a === bob.address.toLowerCase()
          ? "bob"
          : a;
  const repOf = async (a: LocalAccount) =>
    (await api<{ liquid: string; encumbered: string }>(`/v1/rep/holders/${a.address}`)).body;

  step(1, "Genesis: REP is minted only by validation pools, so the network starts with one genesis pool (admin, once)");
  const allocations = [
    { holder: producer.address.toLowerCase(), amount: "1000" },
    { holder: alice.address.toLowerCase(), amount: "500" },
    { holder: bob.address.toLowerCase(), amount: "300" },
  ];
  const genesis = await post<{ alreadyDone?: boolean; error?: { code: string } }>(
    "/v1/rep/genesis",
    { allocations },
    { authorization: `Bearer ${dev.adminToken}` },
  );
  if (genesis.status >= 400) throw new Error(`genesis: ${JSON.stringify(genesis.body)}`);
  say(`   ${genesis.body.alreadyDone ? "already minted (a previous run)" : "minted"}: producer 1000, alice 500, bob 300 REP`);
  const refused = await post<{ error: { code: string } }>("/v1/rep/transfers", {});
  say(`   POST /v1/rep/transfers -> ${refused.status} ${refused.body.error.code}: REP cannot change hands`);

  step(2, "An encumbrance: the producer puts 600 REP in its availability stake (EIP-712 RepEncumber)");
  const mine = await repOf(producer);
  if (BigInt(mine.encumbered) < 600n) {
    const amount = 600n - BigInt(mine.encumbered);
    const body = await signRepMessage(producer, dev.signingDomain, "RepEncumber", {
      holder: producer.address,
      amount,
      id: `demo-encumber-${runId}`,
      deadline: deadline(),
    });
    const res = await post("/v1/rep/encumber", body);
    if (res.status !== 201) throw new Error(`encumber: ${JSON.stringify(res.body)}`);
  }
  say(`   producer: ${JSON.stringify(await repOf(producer))}`);
  const stakes = (await api<{ stakes: { holder: string; encumbered: string }[] }>("/v1/rep/supply")).body.stakes;
  say(`   availability stakes (the draw's weights): ${stakes.map((s) => `${who(s.holder)} ${s.encumbered}`).join(", ")}`);

  step(3, "A draw: relays make a session, the session a batch, and cron draws the batch's producer");
  const since = Date.now();
  for (let i = 0; i < 5; i++)
    await fetch(`${dev.gateway}/v1/eth-local`, {
      method: "POST",
      headers: { authorization: `Bearer ${dev.requestor.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "eth_blockNumber" }),
    });
  say(`   sent 5 relays; waiting for the session (${dev.sessionSeconds} s) to end and cron to batch it...`);
  type Pool = {
    id: string;
    kind: string;
    seed: `0x${string}`;
    ledgerSeq: number;
    candidates: { holder: string; weight: string }[];
    producer: string | null;
    state: string;
    opensAt: number;
    closesAt: number;
    quorum: string;
    fees: string;
    minted: string;
    acceptStake: string;
    rejectStake: string;
  };
  let pool: Pool | undefined;
  for (let waited = 0; !pool; waited += 2_000) {
    if (waited > Math.max(180_000, dev.sessionSeconds * 4_000)) throw new Error("no batch appeared: is SESSION_SECONDS short?");
    await sleep(2_000);
    const pools = (await api<{ pools: Pool[] }>("/v1/rep/pools?limit=20")).body.pools;
    pool = pools.find((p) => p.kind === "batch" && p.opensAt >= since && p.state === "open");
  }
  say(
    `   batch ${pool.id}: producer ${who(pool.producer ?? "none")}, seed ${pool.seed.slice(0, 18)}..., weights up to REP transfer #${pool.ledgerSeq}`,
  );
  // Anyone can recompute it: the REP transfers up to ledgerSeq give the weights, the seed the pick.
  const transfers: (Transfer & { seq: number })[] = [];
  for (let cursor: number | null = 0; cursor !== null; ) {
    const page: { transfers: (Record<string, unknown> & { seq: number; amount: string })[]; next: number | null } = (
      await api<{ transfers: (Record<string, unknown> & { seq: number; amount: string })[]; next: number | null }>(
        `/v1/rep/transfers?limit=200&cursor=${cursor}`,
      )
    ).body;
    for (const t of page.transfers) transfers.push({ ...(t as unknown as Transfer), seq: t.seq, amount: BigInt(t.amount) });
    cursor = page.next;
  }
  const recomputed = drawProducer(pool.seed, encumberedWeightsAt(transfers, pool.ledgerSeq));
  say(
    `   recomputed from GET /v1/rep/transfers: ${who(recomputed ?? "none")} (${recomputed === pool.producer ? "matches" : "DIFFERS"})`,
  );

  step(4, "A pool vote: the other REP holders stake liquid REP on accept or reject (EIP-712 RepVote)");
  for (const [voter, accept, stake] of [
    [alice, true, 200n],
    [bob, false, 50n],
  ] as const) {
    const body = await signRepMessage(voter, dev.signingDomain, "RepVote", {
      voter: voter.address,
      pool: pool.id,
      accept,
      stake,
      id: `demo-vote-${runId}`,
      deadline: deadline(),
    });
    const res = await post<{ error?: { code: string } }>(`/v1/rep/pools/${pool.id}/votes`, body);
    say(
      `   ${who(voter.address.toLowerCase())} votes ${accept ? "accept" : "reject"} with ${stake} REP -> ${res.status}${res.body.error ? ` ${res.body.error.code}` : ""}`,
    );
  }
  say(`   quorum ${pool.quorum} REP; the pool closes at ${new Date(pool.closesAt).toISOString()}`);

  step(5, "The Forum: the pool's public result once it closes (cron resolves it)");
  let result = pool;
  while (result.state === "open") {
    await sleep(2_000);
    result = (await api<Pool>(`/v1/rep/pools/${pool.id}`)).body;
  }
  say(
    `   ${result.state}: accept ${result.acceptStake} / reject ${result.rejectStake}; fees ${result.fees}, REP minted ${result.minted}`,
  );
  for (const a of [producer, alice, bob]) say(`   ${who(a.address.toLowerCase())}: ${JSON.stringify(await repOf(a))}`);
  say("   (accepted: minted by fees to the producer and the majority; the batch settles and pays the producer 2 % of revenue)");

  step(6, "A citation reward: when a proposal is executed, 30 % of its reward flows along its citations, halving per hop");
  const records = (
    await api<{ records: { proposalId: string; author: string; citations: string[]; ordinal: number }[] }>(
      "/v1/contributions?limit=200",
    )
  ).body.records;
  const paid = [];
  for (const r of records) {
    const detail = (
      await api<{ reward: { reward: string; flows: { author: string; amount: string }[] } | null }>(
        `/v1/contributions/${r.proposalId}`,
      )
    ).body;
    if (detail.reward && r.citations.length) paid.push({ id: r.proposalId, reward: detail.reward });
  }
  if (paid.length) {
    for (const p of paid)
      say(
        `   proposal ${p.id}: ${p.reward.reward} -> ${p.reward.flows.map((f) => `${f.author.slice(0, 10)} ${f.amount}`).join(", ")}`,
      );
  } else {
    // No executed proposal that cites others on this network yet (npm run demo -- governance
    // executes one); the same rule on a small graph, exactly as adoption pays it:
    const flow = citationRewardFlow(
      [
        { id: "p1", author: "alice", cites: [], createdAt: 1 },
        { id: "p2", author: "bob", cites: ["p1"], createdAt: 2 },
        { id: "p3", author: "producer", cites: ["p2"], createdAt: 3 },
      ],
      "p3",
      100_000_000n,
      { citationShareBps: 3_000n, decayBps: 5_000n },
    );
    say(
      "   no executed proposal with citations here yet; p3 (producer) cites p2 (bob), which cites p1 (alice), reward 100 DB-CPTM:",
    );
    for (const a of flow.byAuthor) say(`   ${a.author}: ${Number(a.amount) / 1e6} DB-CPTM`);
  }
  say(`   contribution records: ${records.length}; GET /v1/contributions/{id}/proof proves one against the root on-chain`);
}
