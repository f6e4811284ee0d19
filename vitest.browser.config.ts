/**
 * The dashboard in headless Chromium against `npm run dev` (test/browser/). A project of its own,
 * run after the Node project: a dev network and a browser on top of the Node project's own dev
 * networks would starve its time-bounded tests on a 2-core machine.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
