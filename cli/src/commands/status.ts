/** `conductor status host <id>` and `conductor status batches`: public reads, no key needed. */
import type { Command } from "commander";
import { action } from "../context.js";

export function addStatusCommands(program: Command): void {
  const status = program.command("status").description("what the gateway says about a host or the batches");

  status
    .command("host")
    .argument("<host-id>")
    .option("--cards <n>", "how many report cards to show", "10")
    .description("a host's registry entry, reputation, jail, report cards, stake and its operator's earnings")
    .action(
      action(async (ctx, hostId: string, o: { cards: string }) => {
        const host = await ctx.client.getHost(hostId);
        const [reputation, cards, pool, operator] = await Promise.all([
          ctx.client.getHostReputation(hostId),
          ctx.client.getReportCards({ host: hostId, limit: Number(o.cards) }),
          ctx.client.getStakePool(`host:${hostId}`),
          ctx.client.getLedgerHolder(host.operator),
        ]);
        // What the operator has earned sits in its ledger balance: settlements credit it there.
        const earnings = operator.balance;
        const value = { host, reputation, reportCards: cards.cards, stake: pool, earnings };
        ctx.out.result(value, () => [
          `${host.id} (${host.status}) ${host.endpoint}`,
          `  services    ${host.services.join(", ")}`,
          `  reputation  ${reputation.reputation.toFixed(3)} from ${reputation.cards} cards (epoch ${reputation.epoch})`,
          `  jailed      ${reputation.jailed ? "yes" : "no"}${reputation.jail.length ? ` (${reputation.jail.length} terms)` : ""}`,
          `  stake       bonded ${pool.bonded}, unbonding ${pool.unbonding}`,
          `  earnings    operator balance ${JSON.stringify(earnings)}`,
          `  report cards (${cards.cards.length}):`,
          ...cards.cards.map(
            (c) =>
              `    epoch ${c.epoch} ${c.sessionId}: availability ${c.availability}, p50 ${c.latencyP50Ms ?? "-"} ms, correctness ${c.correctness ?? "-"}`,
          ),
        ]);
      }),
    );

  status
    .command("batches")
    .option("--state <state>", "only batches in this state (pending, submitted, committed, verified, expired, failed)")
    .option("--limit <n>", "how many", "20")
    .description("the latest batches committed on-chain and their state")
    .action(
      action(
        async (ctx, o: { state?: "pending" | "submitted" | "committed" | "verified" | "expired" | "failed"; limit: string }) => {
          const page = await ctx.client.getBatches({ state: o.state, limit: Number(o.limit) });
          ctx.out.result(page, () =>
            page.batches.length
              ? page.batches.map((b) => `${b.id} ${b.state.padEnd(9)} ${b.sessionCount} sessions, ${b.relayCount} relays`)
              : ["no batches"],
          );
        },
      ),
    );
}
