/** Node tests: pure protocol logic, the contract on anvil, the end-to-end test against `npm run dev`, and the adversarial suite's Node part. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts", "test/adversarial/node/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
