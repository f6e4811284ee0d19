/**
 * Shared configuration of the workerd test projects: tests run inside workerd against real local
 * D1 and Durable Objects, with real hosts and a real chain from `global-setup.ts`.
 */
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import type { TestChain } from "./test-hosts.js";

/**
 * `storage: "libsql"` runs the same tests with the gateway on libSQL (sqld from the global setup)
 * instead of D1; `sequential` runs the files one after another (for tests that close every
 * ended session, whose clock must not reach another file's sessions mid-test).
 */
export function workerTestConfig(
  include: string[],
  { storage = "d1", sequential = false }: { storage?: "d1" | "libsql"; sequential?: boolean } = {},
) {
  return defineConfig(async () => {
    const migrations = await readD1Migrations("schema/migrations");
    return {
      plugins: [
        cloudflareTest(({ inject }) => {
          const chain = inject<TestChain>("testChain");
          return {
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                TEST_HOSTS: JSON.stringify(inject("testHosts")),
                TEST_CHAIN: JSON.stringify(chain),
                ADMIN_TOKEN: "test-admin-token",
                ALLOW_LOOPBACK_HOSTS: "true",
                DEV_MODE: "true",
                ATTEMPT_TIMEOUT_MS: "1500",
                RELAY_DEADLINE_MS: "6000",
                STREAM_IDLE_TIMEOUT_MS: "3000",
                // Short total bounds so the tests of hosts that never finish (heartbeats) end quickly.
                STREAM_MAX_MS: "6000",
                PROBE_TIMEOUT_MS: "4000",
                // Probes of a round spread over 600 ms: gaps of tens of milliseconds, not a burst.
                PROBE_SPREAD_MS: "600",
                // Nothing in a test waits on a clock: probe rounds run through runDurableObjectAlarm and
                // breakers heal through probes, so their own timers are set beyond any test's length.
                PROBE_INTERVAL_MIN_MS: "3600000",
                PROBE_INTERVAL_MAX_MS: "3600000",
                BREAKER_COOLDOWN_MS: "3600000",
                // WebSocket lag checks run through the connection object's checkLag() in the tests.
                WS_LAG_CHECK_MS: "3600000",
                // A small licence supply so the cap is reachable in a test; the default is 48,000.
                LICENCE_MAX_SUPPLY: "30",
                CHAIN_RPC_URL: chain.rpc,
                CHAIN_PRIVATE_KEY: chain.submitterKey,
                PROOF_REGISTRY_ADDRESS: chain.contract,
                ...(storage === "libsql"
                  ? { STORAGE_DRIVER: "libsql", LIBSQL_URL: inject<{ url: string }>("testLibsql").url }
                  : {}),
              },
            },
          };
        }),
      ],
      test: {
        include,
        globalSetup: ["test/support/global-setup.ts"],
        setupFiles: ["test/worker/apply-migrations.ts"],
        testTimeout: 30_000,
        hookTimeout: 60_000,
        fileParallelism: !sequential,
      },
    };
  });
}
