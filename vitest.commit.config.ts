/**
 * Workerd tests of the commit pipeline. A project of their own (so a database of their own):
 * closing sessions closes every ended session, which must not reach other files' sessions, and
 * its files run one at a time for the same reason.
 */
import { workerTestConfig } from "./test/support/worker-vitest.js";

export default workerTestConfig(["test/commit/**/*.test.ts", "test/adversarial/commit/**/*.test.ts"], { sequential: true });
