/**
 * The CLI's exit codes (docs/cli.md): scripts branch on these, never on the text printed.
 *
 * @example
 * process.exitCode = EXIT.refused;
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The gateway refused the request; its error code is printed (`error.code` under `--json`). */
  refused: 1,
  /** A usage error: unknown command or option, a malformed argument, no key, or a key on the command line. */
  usage: 2,
  /** The gateway could not be reached. */
  unreachable: 3,
  /** A wait (`--wait`) ran past its `--timeout`; the action itself was done. */
  timeout: 4,
} as const;

/** A mistake in how the CLI was called: exit code 2, nothing sent. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A wait ran out: exit code 4. */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}
