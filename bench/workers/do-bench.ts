/**
 * The same per-relay work (admit: assign an index and store a pending receipt; complete: fill it
 * in) in two Durable Objects: one with native RPC and SQLite (as RelaySession does), one written
 * with itty-durable (fetch-routed calls with JSON arguments in a header, the whole object
 * persisted under one key). `GET /?impl=native|itty&n=1000` runs n relays one after another
 * from a Worker and answers the elapsed milliseconds.
 */
import { DurableObject } from "cloudflare:workers";
import { createDurable, proxyDurable } from "itty-durable";

interface BenchEnv {
  NATIVE: DurableObjectNamespace<NativeSession>;
  ITTY: DurableObjectNamespace;
}

export class NativeSession extends DurableObject<BenchEnv> {
  private count = 0;

  constructor(ctx: DurableObjectState, env: BenchEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS receipts (relay_index INTEGER PRIMARY KEY, request_digest TEXT, response_digest TEXT, compute_units INTEGER, status INTEGER)",
    );
  }

  admit(requestDigest: string, computeUnits: number): number {
    const index = this.count++;
    this.ctx.storage.sql.exec(
      "INSERT INTO receipts (relay_index, request_digest, compute_units, status) VALUES (?, ?, ?, 0)",
      index,
      requestDigest,
      computeUnits,
    );
    return index;
  }

  complete(index: number, responseDigest: string): boolean {
    this.ctx.storage.sql.exec(
      "UPDATE receipts SET response_digest = ?, status = 200 WHERE relay_index = ?",
      responseDigest,
      index,
    );
    return true;
  }
}

export class IttySession extends createDurable({ autoPersist: true }) {
  count = 0;
  receipts: { requestDigest: string; responseDigest?: string; computeUnits: number; status: number }[] = [];

  admit(requestDigest: string, computeUnits: number) {
    this.receipts.push({ requestDigest, computeUnits, status: 0 });
    return this.count++;
  }

  complete(index: number, responseDigest: string) {
    Object.assign(this.receipts[index], { responseDigest, status: 200 });
    return true;
  }
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 1000);
    const name = url.searchParams.get("name") ?? crypto.randomUUID();
    const digest = `0x${"ab".repeat(32)}`;
    const started = performance.now();
    if (url.searchParams.get("impl") === "itty") {
      const stub = proxyDurable(env.ITTY, { name: "ITTY", parse: true }).get(name) as unknown as {
        admit(d: string, cu: number): Promise<number>;
        complete(i: number, d: string): Promise<boolean>;
      };
      for (let i = 0; i < n; i++) await stub.complete(await stub.admit(digest, 1), digest);
    } else {
      const stub = env.NATIVE.get(env.NATIVE.idFromName(name));
      for (let i = 0; i < n; i++) await stub.complete(await stub.admit(digest, 1), digest);
    }
    return Response.json({ n, ms: performance.now() - started });
  },
};
