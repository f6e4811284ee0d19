/** Node tests: pure protocol logic, and the end-to-end test against `npm run dev`. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
