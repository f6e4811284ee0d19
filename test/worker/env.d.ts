declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** JSON of `TestHostsEnv` from test/support/global-setup.ts. */
    TEST_HOSTS: string;
  }
}
