// `npm run demo -- governance`: a governance walkthrough against a running `npm run dev` (short
// periods there: review 4 s, voting 8 s, timelock 4 s). Five fresh holders get DB-CPTM from the
// admin's mint and stake some of it; then one proposal per voting mode goes through its whole
// life: a parameter change (token-weighted), a text (quadratic), a council election
// (one person, one vote) and a treasury spend (delegated, with a delegation and a direct vote
// overriding it). Each is reviewed, voted on, queued behind the timelock and executed; the walkthrough
// prints each outcome and the changed parameter (pending until the next epoch, then in force).
// Options: --gateway URL (default: dev.json's, in CONDUCTOR_DEV_DIR or .conductor), --wait-epoch (wait for the change to
// take effect even when the next epoch is more than a minute away).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import type { DevNetworkInfo } from "../../dev/network.js";
import { signEconomyMessage } from "../../protocol/economy-messages.js";
import { type GovernanceAction, signGovernanceMessage } from "../../protocol/governance-messages.js";
import type { SigningDomain } from "../../protocol/host-registration.js";

const DB_CPTM = 1_000_000n;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inAnHour = () => BigInt(Math.floor(Date.now() / 1000) + 3600);
const short = (a: string) => `${a.slice(0, 8)}…`;

interface Proposal {
  id: string;
  kind: string;
  mode: string;
  state: string;
  votingEnds: number | null;
  eta: number | null;
  tally: { for: string; against: string; abstain: string; quorumReached: boolean; passed: boolean } | null;
}

export async function run(args: string[]): Promise<void> {
  const info = JSON.parse(
    await readFile(path.resolve(process.env.CONDUCTOR_DEV_DIR ?? ".conductor", "dev.json"), "utf8"),
  ) as DevNetworkInfo;
  const gatewayArg = args.indexOf("--gateway");
  const gateway = gatewayArg >= 0 ? args[gatewayArg + 1] : info.gateway;
  const waitEpoch = args.includes("--wait-epoch");
  const domain: SigningDomain = (await get("/v1/signing-domain")) as SigningDomain;

  async function get(p: string): Promise<unknown> {
    const res = await fetch(`${gateway}${p}`);
    if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  }
  // biome-ignore lint/suspicious/noExplicitAny: the walkthrough reads a few fields of several answers.
  async function post(p: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(`${gateway}${p}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body ?? {}),
    });
    return { status: res.status, body: await res.json() };
  }
  async function must(p: string, body: unknown, headers?: Record<string, string>) {
    const r = await post(p, body, headers);
    if (r.status >= 300) throw new Error(`POST ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  const governance = (signer: PrivateKeyAccount, action: GovernanceAction, message: Record<string, unknown>) =>
    signGovernanceMessage(signer, domain, action, { deadline: inAnHour(), ...message });
  const proposal = async (id: string) => (await get(`/v1/governance/proposals/${id}`)) as Proposal;

  // 1. Five holders: 1,000,000 DB-CPTM each from the admin's mint; each stakes 100 into a validator
  //    (bonded stake makes them members for one-person-one-vote).
  const holders = Array.from({ length: 5 }, () => privateKeyToAccount(generatePrivateKey()));
  const [alice, bob, carol, dave, erin] = holders;
  const names = new Map(holders.map((h, i) => [h.address.toLowerCase(), ["alice", "bob", "carol", "dave", "erin"][i]]));
  const admin = { authorization: `Bearer ${info.adminToken}` };
  for (const h of holders)
    await must(
      "/v1/ledger/mint",
      { id: `demo-gov-${h.address.slice(2, 10)}`, holder: h.address, amount: String(1_000_000n * DB_CPTM) },
      admin,
    );
  await must(
    "/v1/validators",
    await signEconomyMessage(alice, domain, "RegisterValidator", {
      validator: alice.address,
      name: "demo-gov",
      id: "register",
      deadline: inAnHour(),
    }),
  );
  for (const h of holders)
    await must(
      "/v1/stakes",
      await signEconomyMessage(h, domain, "Stake", {
        holder: h.address,
        pool: `validator:${alice.address.toLowerCase()}`,
        amount: 100n * DB_CPTM,
        id: "demo-gov-stake",
        deadline: inAnHour(),
      }),
    );
  console.log(
    `holders: ${holders.map((h) => `${names.get(h.address.toLowerCase())} ${short(h.address)}`).join(", ")} (1,000,000 DB-CPTM each, 100 staked)`,
  );

  // Delegated mode: dave and erin delegate to carol before voting opens.
  for (const h of [dave, erin])
    await must(
      "/v1/governance/delegations",
      await governance(h, "Delegate", { holder: h.address, delegate: carol.address, id: "demo-delegate" }),
    );
  console.log("dave and erin delegate their voting power to carol");

  // 2. One proposal per mode.
  const before = (await get("/v1/governance/parameters")) as { epoch: number; parameters: { name: string; value: string }[] };
  const current = BigInt(before.parameters.find((p) => p.name === "minDelegation")?.value ?? "0");
  const newValue = current + DB_CPTM;
  const treasury = (await get("/v1/ledger/accounts/system:treasury").catch(() => ({ available: "0" }))) as { available: string };
  const spend =
    BigInt(treasury.available) > 0n ? (BigInt(treasury.available) < DB_CPTM ? BigInt(treasury.available) : DB_CPTM) : 1n;
  const submissions = [
    {
      kind: "parameter_change",
      title: `Raise minDelegation to ${newValue}`,
      payload: { name: "minDelegation", value: String(newValue) },
    },
    { kind: "text", title: "Publish a quarterly transparency report", payload: {} },
    {
      kind: "council_election",
      title: "Elect the demo council, 3 of 5",
      payload: { members: holders.map((h) => h.address.toLowerCase()), signatures: 3 },
    },
    {
      kind: "treasury_spend",
      title: `Pay ${spend} minor units to bob`,
      payload: { recipient: bob.address.toLowerCase(), amount: String(spend) },
    },
  ];
  const ids: string[] = [];
  for (const [i, s] of submissions.entries()) {
    const body = await must(
      "/v1/governance/proposals",
      await governance(alice, "Propose", {
        proposer: alice.address,
        kind: s.kind,
        title: s.title,
        description: "Submitted by npm run demo -- governance",
        payload: JSON.stringify(s.payload),
        citations: ids.slice(0, i === 1 ? 1 : 0),
        id: `demo-${s.kind}-${Date.now()}`,
      }),
    );
    ids.push(body.proposal.id);
    console.log(
      `proposed ${body.proposal.id}: ${s.kind} (${body.proposal.mode}) "${s.title}", content hash ${short(body.proposal.contentHash)}`,
    );
  }

  // 3. Review passes (nobody rejects); voting opens with the snapshot.
  const first = await proposal(ids[0]);
  const reviewEnds = ((await get(`/v1/governance/proposals/${ids[0]}`)) as { reviewEnds: number }).reviewEnds;
  console.log(`in review until ${new Date(reviewEnds).toISOString()} (${first.state})`);
  await sleep(Math.max(0, reviewEnds - Date.now()) + 1_200);
  for (const id of ids) await must(`/v1/governance/proposals/${id}/advance`, {});
  console.log("review over: voting open, voting power snapshotted (liquid balance + bonded stake)");

  // 4. Votes, one mode each.
  const vote = async (who: PrivateKeyAccount, id: string, support: 0 | 1 | 2, votes = 0n) =>
    must("/v1/governance/votes", await governance(who, "Vote", { voter: who.address, proposal: id, support, votes }));
  const [param, text, election, treasurySpend] = ids;
  await vote(alice, param, 1);
  await vote(bob, param, 1);
  await vote(carol, param, 0);
  console.log("token-weighted (parameter change): alice and bob for, carol against");
  await vote(alice, text, 1, 900_000n); // 900,000 votes cost 810,000,000,000 voice credits
  await vote(bob, text, 0, 300_000n);
  await vote(carol, text, 2, 100_000n);
  console.log("quadratic (text): alice 900,000 votes for (cost 900,000^2 credits), bob 300,000 against, carol 100,000 abstain");
  for (const h of holders) await vote(h, election, h === erin ? 0 : 1);
  console.log("one person, one vote (council election): four members for, erin against");
  await vote(carol, treasurySpend, 1);
  await vote(erin, treasurySpend, 0);
  console.log(
    "delegated (treasury spend): carol votes for with dave's power too; erin votes against herself, overriding her delegation",
  );

  // 5. Voting closes; the results are recorded and queued behind the timelock.
  const votingEnds = (await proposal(param)).votingEnds ?? Date.now();
  await sleep(Math.max(0, votingEnds - Date.now()) + 1_200);
  for (const id of ids) {
    const after = (await must(`/v1/governance/proposals/${id}/advance`, {})).proposal as Proposal;
    const t = after.tally;
    console.log(
      `${after.kind} (${after.mode}): ${after.state}; for ${t?.for}, against ${t?.against}, abstain ${t?.abstain}, quorum ${t?.quorumReached ? "reached" : "missed"}`,
    );
  }

  // 6. After the timelock anyone executes; the large-spend rule needs council approvals (none here: the spend is small).
  const eta = Math.max(...(await Promise.all(ids.map(async (id) => (await proposal(id)).eta ?? 0))));
  await sleep(Math.max(0, eta - Date.now()) + 1_200);
  for (const id of ids) {
    const r = await post(`/v1/governance/proposals/${id}/execute`, {});
    if (r.status >= 300)
      console.log(
        `execute ${id}: refused, ${r.body.error.code}: ${r.body.error.message} (the treasury fills from settlements; a refused execution changes nothing and may be retried within the grace period)`,
      );
    else
      console.log(
        `executed ${id} (${r.body.result.kind}): ${JSON.stringify({ ...r.body.result, state: undefined, kind: undefined })}`,
      );
  }
  const council = (await get("/v1/governance/council")) as { members: string[]; signatures: number };
  console.log(
    `council now: ${council.members.map((m) => names.get(m) ?? short(m)).join(", ")}, ${council.signatures} of ${council.members.length}`,
  );

  // 7. The changed parameter: pending until the next epoch, then in force.
  const show = async () => {
    const view = (await get("/v1/governance/parameters")) as {
      epoch: number;
      parameters: { name: string; value: string; pending: { value: string; effectiveEpoch: number }[] }[];
    };
    const p = view.parameters.find((x) => x.name === "minDelegation");
    return { epoch: view.epoch, value: p?.value, pending: p?.pending ?? [] };
  };
  let seen = await show();
  console.log(`minDelegation in epoch ${seen.epoch}: ${seen.value}; pending: ${JSON.stringify(seen.pending)}`);
  const effective = seen.pending.find((p) => p.value === String(newValue))?.effectiveEpoch;
  if (effective !== undefined) {
    const startsAt = effective * info.sessionSeconds * 1000;
    if (startsAt - Date.now() > 60_000 && !waitEpoch) {
      console.log(
        `takes effect at ${new Date(startsAt).toISOString()} (epoch ${effective}); rerun with --wait-epoch to watch, or use SESSION_SECONDS=20 npm run dev`,
      );
      return;
    }
    await sleep(Math.max(0, startsAt - Date.now()) + 1_500);
    seen = await show();
  }
  console.log(`minDelegation in epoch ${seen.epoch}: ${seen.value} (was ${current})`);
  if (seen.value !== String(newValue)) throw new Error(`minDelegation is ${seen.value}, expected ${newValue}`);
}
