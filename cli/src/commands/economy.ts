/** `conductor stake|unstake|delegate` and `conductor licence transfer|bind|redeem`, signed by the holder's key. */
import type { Command } from "commander";
import { action, parseAmount, parsePool, waitFor } from "../context.js";
import { UsageError } from "../exit-codes.js";

interface Operation {
  operation: string;
  alreadyDone: boolean;
  result?: unknown;
}

const done = (verb: string, op: Operation) => (op.alreadyDone ? `${verb}: already done (operation ${op.operation})` : verb);
const operationId = (command: Command) =>
  command.option("--id <operation-id>", 'your operation id: a retry with the same id is answered "already done"');

export function addEconomyCommands(program: Command): void {
  operationId(program.command("stake"))
    .argument("<pool>", "host:<id> (a host you operate) or validator:<address>")
    .argument("<amount>", "minor units")
    .description("stake from your balance into a pool")
    .action(
      action(async (ctx, pool: string, amount: string, o: { id?: string }) => {
        const answer = await ctx.client.stake({
          account: ctx.account(),
          pool: parsePool(pool),
          amount: parseAmount(amount),
          id: o.id,
        });
        ctx.out.result(answer, () => [done(`staked ${amount} into ${answer.pool.id}`, answer), `  bonded ${answer.pool.bonded}`]);
      }),
    );

  operationId(program.command("unstake"))
    .argument("<pool>", "host:<id> or validator:<address>")
    .argument("<amount>", "minor units")
    .description("unstake into unbonding; with --wait, wait until it returns to your balance")
    .option("--wait", "wait until the unbonding entry has returned to the balance")
    .option("--timeout <seconds>", "how long --wait waits", "3600")
    .action(
      action(async (ctx, pool: string, amount: string, o: { id?: string; wait?: boolean; timeout: string }) => {
        const account = ctx.account();
        const answer = await ctx.client.unstake({ account, pool: parsePool(pool), amount: parseAmount(amount), id: o.id });
        const result = answer.result as { unbonding?: string; maturesAt?: number } | undefined;
        if (!o.wait || !result?.unbonding) {
          ctx.out.result(answer, () => [
            done(`unstaking ${amount} from ${answer.pool.id}`, answer),
            ...(result?.maturesAt ? [`  returns to your balance after ${new Date(result.maturesAt).toISOString()}`] : []),
          ]);
          return;
        }
        const progress = ctx.out.progress(`unbonding ${amount} from ${answer.pool.id}...`);
        try {
          const entry = await waitFor(
            async () => {
              const { unbondings } = await ctx.client.getStakeHolder(account.address);
              const found = unbondings.find((u) => u.id === result.unbonding);
              const left = Math.max(0, Math.ceil(((result.maturesAt ?? 0) - Date.now()) / 1000));
              progress.update(
                `unbonding ${amount} from ${answer.pool.id}: ${left > 0 ? `matures in ${left} s` : "matured, waiting for cron to return it"}`,
              );
              return found && found.state !== "unbonding" ? found : undefined;
            },
            { timeoutMs: Number(o.timeout) * 1000, what: `unbonding entry ${result.unbonding}` },
          );
          progress.stop();
          ctx.out.result({ ...answer, unbonding: entry }, () => [
            `unstaked ${amount} from ${answer.pool.id}: ${entry.state === "returned" ? "returned to your balance" : entry.state}`,
          ]);
        } finally {
          progress.stop();
        }
      }),
    );

  const validator = program.command("validator").description("register as a validator (signed by the validator's key)");
  operationId(validator.command("register"))
    .requiredOption("--name <name>", "the validator's name")
    .description("register the key's address as a validator")
    .action(
      action(async (ctx, o: { name: string; id?: string }) => {
        const account = ctx.account();
        const answer = await ctx.client.registerValidator({ account, name: o.name, id: o.id });
        ctx.out.result({ ...answer, validator: account.address }, () => [
          done(`registered validator ${account.address}`, answer),
        ]);
      }),
    );

  operationId(program.command("delegate"))
    .argument("<validator>", "the validator's address")
    .argument("<amount>", "minor units")
    .description("delegate to a validator (stake into validator:<address>)")
    .action(
      action(async (ctx, validator: string, amount: string, o: { id?: string }) => {
        if (!/^0x[0-9a-fA-F]{40}$/.test(validator)) throw new UsageError(`"${validator}" is not an address`);
        const answer = await ctx.client.delegate({ account: ctx.account(), validator, amount: parseAmount(amount), id: o.id });
        ctx.out.result(answer, () => [
          done(`delegated ${amount} to ${validator}`, answer),
          `  pool bonded ${answer.pool.bonded}`,
        ]);
      }),
    );

  const licence = program.command("licence").description("transfer, bind or redeem a licence you hold");
  const licenceAction =
    (kind: "transfer" | "bind" | "redeem") =>
    async (ctx: Parameters<Parameters<typeof action>[0]>[0], id: string, target: string | undefined, o: { id?: string }) => {
      const answer = await ctx.client.licenceAction({ account: ctx.account(), licence: id, action: kind, target, id: o.id });
      const l = answer.licence;
      ctx.out.result(answer, () => [
        done(`${kind} ${id}`, answer),
        ...(l ? [`  holder ${l.holder}`, `  bound to ${l.boundTo ?? "nothing"}`, `  state ${l.state}`] : []),
      ]);
    };
  operationId(licence.command("transfer"))
    .argument("<licence>")
    .argument("<to>", "the new holder: an address or a requestor id")
    .action(action((ctx, id: string, to: string, o: { id?: string }) => licenceAction("transfer")(ctx, id, to, o)));
  operationId(licence.command("bind"))
    .argument("<licence>")
    .argument("[target]", "host:<id> or validator:<address>; none to unbind", "")
    .action(action((ctx, id: string, target: string, o: { id?: string }) => licenceAction("bind")(ctx, id, target, o)));
  operationId(licence.command("redeem"))
    .argument("<licence>")
    .description("redeem a licence (once the network is stabilized)")
    .action(action((ctx, id: string, o: { id?: string }) => licenceAction("redeem")(ctx, id, undefined, o)));
}
