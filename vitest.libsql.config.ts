/**
 * The gateway's workerd integration tests again, with the storage driver set to libSQL: every
 * query goes to a real libSQL server (sqld) over the Worker's fetch-based client instead of D1.
 */
import { workerTestConfig } from "./test/support/worker-vitest.js";

export default workerTestConfig(["test/worker/**/*.test.ts", "test/adversarial/worker/**/*.test.ts"], { storage: "libsql" });
