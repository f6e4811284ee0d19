/**
 * Node-side setup for the workerd tests: real hosts the gateway forwards to. Three anvil
 * processes (one chain id) and a factory that starts fault-injecting hosts on demand, so each
 * test gets hosts of its own and no test's faults leak into another's.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startAnvil } from "../../dev/anvil.js";
import { freePort } from "../../dev/free-port.js";
import { type FaultHostServer, startFaultHost } from "../../dev/hosts/fault-host.js";
import { applyMigrations, libsqlClient, startSqld } from "../../dev/libsql.js";
import { startTestChain, type TestChain } from "./chain.js";
import type { TestHostsEnv } from "./test-hosts.js";

declare module "vitest" {
  export interface ProvidedContext {
    testHosts: TestHostsEnv;
    testChain: TestChain;
    /** A libSQL server (sqld) with the migrations applied, for the libSQL-driver project. */
    testLibsql: { url: string };
  }
}

export default async function setup(project: TestProject) {
  const chainId = 31337;
  const anvils = await Promise.all([0, 1, 2].map(async () => startAnvil({ port: await freePort(), chainId })));
  const faultHosts: FaultHostServer[] = [];
  const factory = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const options = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    const host = await startFaultHost({
      name: options.name ?? `fault-${faultHosts.length}`,
      chainId: options.chainId ?? chainId,
      model: options.model,
    });
    faultHosts.push(host);
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ name: host.name, url: host.url, port: host.port }));
  });
  const factoryPort = await freePort();
  await new Promise<void>((resolve) => factory.listen(factoryPort, "127.0.0.1", resolve));

  project.provide("testHosts", { anvils: anvils.map((a) => a.url), chainId, factory: `http://127.0.0.1:${factoryPort}` });
  const chain = await startTestChain();
  project.provide("testChain", chain.chain);
  const sqld = await startSqld(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), "conductor-sqld-")));
  await applyMigrations(libsqlClient(sqld.url));
  project.provide("testLibsql", { url: sqld.url });

  return async () => {
    for (const anvil of anvils) anvil.stop();
    await chain.stop();
    sqld.stop();
    await Promise.all(faultHosts.map((h) => h.close()));
    await new Promise((resolve) => factory.close(resolve));
  };
}
