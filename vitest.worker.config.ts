/** Workerd integration tests of the gateway (see test/support/worker-vitest.ts). */
import { workerTestConfig } from "./test/support/worker-vitest.js";

export default workerTestConfig(["test/worker/**/*.test.ts", "test/adversarial/worker/**/*.test.ts"]);
