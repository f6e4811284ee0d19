// The benchmark's CPU per relay (bench/relay-path.ts) reads a server's process tree from /proc:
// a child's CPU must count in its parent's tree, or the gateway's workerd would be left out.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { processTreeCpuMs } from "../../bench/relay-path.js";

const BUSY_MS = 300;

describe.runIf(fs.existsSync("/proc/self/stat"))("processTreeCpuMs", () => {
  it("counts a child's CPU in its own tree and in its parent's", async () => {
    const before = processTreeCpuMs(process.pid) as number;
    // Busy for BUSY_MS of CPU (not of wall time, which a loaded machine stretches), then idle until killed.
    const child = spawn(
      process.execPath,
      ["-e", `while (process.cpuUsage().user < ${BUSY_MS * 1000}); console.log("busy"); setInterval(() => {}, 1000);`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await once(child.stdout, "data");
      const own = processTreeCpuMs(child.pid as number) as number;
      const after = processTreeCpuMs(process.pid) as number;
      expect(own).toBeGreaterThanOrEqual(BUSY_MS - 20); // clock ticks are 10 ms
      expect(after - before).toBeGreaterThanOrEqual(own - 20);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("is 0 for a process that does not exist", () => {
    expect(processTreeCpuMs(2 ** 30)).toBe(0);
  });
});
