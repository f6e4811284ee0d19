/**
 * Paths for logs. A relay URL may carry the caller's API key (`/k/{key}/v1/{service}`); logs
 * are read by more people and kept longer than keys should be, so the key never reaches them.
 */

/**
 * The path with the key of a `/k/{key}/...` URL replaced by `[redacted]`; other paths unchanged.
 *
 * @example
 * redactedPath("/k/cr_abc123/v1/eth"); // "/k/[redacted]/v1/eth"
 */
export function redactedPath(path: string): string {
  return path.replace(/^\/+k\/[^/]*/i, "/k/[redacted]");
}
