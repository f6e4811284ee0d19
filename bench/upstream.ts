// The upstream JSON-RPC host for the relay benchmark (a fault host in "ok" mode); prints its URL.
import { startFaultHost } from "../dev/hosts/fault-host.js";

const host = await startFaultHost({ name: "bench-upstream", port: Number(process.argv[2] ?? 0) });
console.log(JSON.stringify({ url: host.url }));
process.on("SIGTERM", () => host.close().then(() => process.exit(0)));
