/**
 * What the CLI prints: one JSON document on stdout under `--json` (errors included, as
 * `{"error":{...}}`), short human lines otherwise; a spinner on stderr only for a person at a
 * terminal (never under `--json` or when stderr is not a TTY).
 */
import yoctoSpinner from "yocto-spinner";

export interface Output {
  json: boolean;
  /** Prints the result: as JSON, or through `human` as lines. */
  result(value: unknown, human: () => string[]): void;
  /** Prints an error (stdout JSON under `--json`, stderr otherwise). */
  error(code: string, message: string, extra?: Record<string, unknown>): void;
  /** Starts a spinner (or nothing, when quiet) that the returned functions update and stop. */
  progress(text: string): { update(text: string): void; stop(): void };
}

/** JSON with bigints as decimal strings, the way the API writes amounts. */
export const toJson = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2);

/**
 * The output of one CLI run.
 *
 * @example
 * const out = createOutput({ json: true });
 * out.result(host, () => [`registered ${host.id}`]);
 */
export function createOutput({ json, stderr = process.stderr }: { json: boolean; stderr?: NodeJS.WriteStream }): Output {
  const interactive = !json && stderr.isTTY === true;
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${toJson(value)}\n` : `${human().join("\n")}\n`);
    },
    error(code, message, extra) {
      if (json) process.stdout.write(`${toJson({ error: { code, message, ...extra } })}\n`);
      else stderr.write(`error: ${code}: ${message}\n`);
    },
    progress(text) {
      if (!interactive) return { update() {}, stop() {} };
      const spinner = yoctoSpinner({ text, stream: stderr }).start();
      return {
        update: (next) => {
          spinner.text = next;
        },
        stop: () => {
          spinner.stop();
        },
      };
    },
  };
}
