/**
 * Where the CLI's signing key comes from: the `CONDUCTOR_PRIVATE_KEY` environment variable or
 * a file (`--key-file`), never the command line, which lands in shell history and in `ps` for
 * every user of the machine. A key-looking argument is refused before anything runs.
 */
import fs from "node:fs";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { UsageError } from "./exit-codes.js";

/** The environment variable holding the signing key (0x-prefixed 32-byte hex). */
export const KEY_VARIABLE = "CONDUCTOR_PRIVATE_KEY";

const KEY = /^(0x)?[0-9a-fA-F]{64}$/;
const KEY_INSIDE = /(^|[^0-9a-fA-F])(0x)?[0-9a-fA-F]{64}([^0-9a-fA-F]|$)/;
const KEY_OPTION = /^--?(private-?key|key|secret|mnemonic|seed)(=|$)/i;
const MNEMONIC = /^([a-z]+\s+){11,23}[a-z]+$/;

/**
 * Throws a `UsageError` when an argument looks like a private key, a mnemonic or an option
 * meant to carry one. The CLI takes no 32-byte hex argument, so nothing legitimate is refused.
 *
 * @example
 * refuseKeysInArguments(process.argv.slice(2));
 */
export function refuseKeysInArguments(args: readonly string[]): void {
  for (const arg of args) {
    if (KEY_OPTION.test(arg) || KEY_INSIDE.test(arg) || MNEMONIC.test(arg.trim())) {
      throw new UsageError(
        `refusing a private key on the command line (it would stay in shell history and be visible in ps): set ${KEY_VARIABLE} or pass --key-file <path>`,
      );
    }
  }
}

/**
 * The signing account: from `--key-file` when given, else from `CONDUCTOR_PRIVATE_KEY`.
 *
 * @example
 * const account = loadAccount({ keyFile: options.keyFile });
 */
export function loadAccount({ keyFile, env = process.env }: { keyFile?: string; env?: NodeJS.ProcessEnv }): PrivateKeyAccount {
  let raw: string | undefined;
  let from: string;
  if (keyFile) {
    from = `--key-file ${keyFile}`;
    try {
      raw = fs.readFileSync(keyFile, "utf8").trim();
    } catch (error) {
      throw new UsageError(`cannot read the key file: ${(error as Error).message}`);
    }
  } else {
    from = KEY_VARIABLE;
    raw = env[KEY_VARIABLE]?.trim();
    if (!raw) throw new UsageError(`this command signs: set ${KEY_VARIABLE} or pass --key-file <path>`);
  }
  if (!KEY.test(raw)) throw new UsageError(`${from} does not hold a private key (32 bytes as hex)`);
  return privateKeyToAccount((raw.startsWith("0x") ? raw : `0x${raw}`) as `0x${string}`);
}
