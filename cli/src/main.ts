/**
 * `conductor`: the command line for host operators and validators (docs/cli.md). Built on
 * commander; every gateway call goes through `@conductor-relay/sdk`. Keys come from
 * `CONDUCTOR_PRIVATE_KEY` or `--key-file`, never from the command line; exit codes are in
 * `exit-codes.ts`.
 */
import { Command, CommanderError } from "commander";
import { addEconomyCommands } from "./commands/economy.js";
import { addHostCommands } from "./commands/host.js";
import { addStatusCommands } from "./commands/status.js";
import { report } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { refuseKeysInArguments } from "./keys.js";
import { createOutput } from "./output.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const gateway = process.env.CONDUCTOR_GATEWAY ?? "http://127.0.0.1:8787";

const program = new Command("conductor")
  .description("Conductor Relay for host operators and validators. Keys: CONDUCTOR_PRIVATE_KEY or --key-file, never arguments.")
  .option("--gateway <url>", "the gateway (env CONDUCTOR_GATEWAY)", gateway)
  .option("--key-file <path>", "a file holding the signing key (else CONDUCTOR_PRIVATE_KEY)")
  .option("--json", "print one JSON document on stdout, errors included; no spinner")
  .exitOverride()
  .showHelpAfterError(!json)
  .addHelpText(
    "after",
    "\nExit codes: 0 ok, 1 refused by the gateway (its error code printed), 2 usage error, 3 gateway unreachable, 4 --wait timed out.",
  );
program.configureOutput({ outputError: (text, write) => (json ? undefined : write(text)) });
addHostCommands(program);
addEconomyCommands(program);
addStatusCommands(program);

try {
  refuseKeysInArguments(args);
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    const help =
      error.code === "commander.helpDisplayed" || error.code === "commander.help" || error.code === "commander.version";
    if (!help && json) createOutput({ json }).error("usage", error.message.replace(/^error: /, ""));
    process.exitCode = help ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = report(createOutput({ json }), error, gateway);
  }
}
