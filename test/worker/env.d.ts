declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** JSON of `TestHostsEnv` from test/support/global-setup.ts. */
    TEST_HOSTS: string;
  }
}

declare namespace Cloudflare {
  interface Env {
    /** JSON of `TestChain` from test/support/chain.ts. */
    TEST_CHAIN: string;
  }
}
