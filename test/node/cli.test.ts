/**
 * `conductor` (cli/) end to end against `npm run dev`: the CLI runs as a child process, as an
 * operator would run it, with its key in `CONDUCTOR_PRIVATE_KEY` or `--key-file`; every command's
 * `--json` output and exit code is checked, refusals included (the gateway's error code with
 * exit 1, usage errors and keys on the command line with exit 2, an unreachable gateway 3).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hostIdOf } from "@conductor-relay/sdk";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPOSITORY_ROOT, type SpawnedDevNetwork, spawnDevNetwork } from "../support/dev-network.js";

const CLI = path.join(REPOSITORY_ROOT, "cli/bin/conductor.js");

let dev: SpawnedDevNetwork;
const operatorKey = generatePrivateKey();
const operator = privateKeyToAccount(operatorKey);
let hostId = "";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, checked field by field.
  json: any;
}

/** Runs the CLI with `args`; the key only through `env`, as the CLI requires. */
function conductor(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { CONDUCTOR_PRIVATE_KEY: _, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: REPOSITORY_ROOT, env: { ...inherited, CONDUCTOR_GATEWAY: dev.info.gateway, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, json });
      },
    );
  });
}

const asOperator = { CONDUCTOR_PRIVATE_KEY: operatorKey };

async function admin(pathname: string, body: unknown) {
  const res = await fetch(`${dev.info.gateway}${pathname}`, {
    method: "POST",
    headers: { authorization: `Bearer ${dev.info.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status, `${pathname}: ${await res.clone().text()}`).toBeLessThan(300);
  return res.json();
}

beforeAll(async () => {
  // A short unbonding and a fast cron, so that `unstake --wait` sees its stake come back.
  dev = await spawnDevNetwork({ UNBONDING_SECONDS: "3", DEV_CRON_INTERVAL_MS: "1000" });
  await admin("/v1/ledger/mint", { id: "cli-test-grant", holder: operator.address, amount: "50000000" });
});

afterAll(async () => {
  await dev?.stop();
});

describe("conductor CLI against npm run dev", () => {
  it("runs as npx conductor from the repository", async () => {
    const help = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile("npx", ["conductor", "--help"], { cwd: REPOSITORY_ROOT }, (error, stdout) =>
        resolve({ code: error ? Number(error.code) : 0, stdout }),
      ),
    );
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("host");
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 refused");
  });

  it("refuses a private key on the command line, before sending anything (exit 2)", async () => {
    for (const args of [
      ["stake", "host:host_x", "5", `--key=${operatorKey}`],
      ["stake", "host:host_x", "5", "--private-key", "whatever"],
      ["host", "leave", operatorKey.slice(2)],
    ]) {
      const run = await conductor([...args, "--json"]);
      expect(run.code).toBe(2);
      expect(run.json.error.code).toBe("usage");
      expect(run.json.error.message).toContain("CONDUCTOR_PRIVATE_KEY");
      expect(run.stdout).not.toContain(operatorKey.slice(2));
    }
    const noKey = await conductor(["stake", "host:host_x", "5", "--json"]);
    expect(noKey.code).toBe(2);
    expect(noKey.json.error.message).toContain("set CONDUCTOR_PRIVATE_KEY or pass --key-file");
    const badAmount = await conductor(["stake", "host:host_x", "5.5", "--json"], asOperator);
    expect(badAmount.code).toBe(2);
    const unknown = await conductor(["host", "bogus", "--json"]);
    expect(unknown.code).toBe(2);
  });

  it("host register signs with the env key, waits for the registry and prints the host as JSON, quietly", async () => {
    const run = await conductor(
      [
        "host",
        "register",
        "--endpoint",
        dev.info.hosts[0].endpoint,
        "--service",
        "eth-local",
        "--lat",
        "52.52",
        "--lon",
        "13.40",
        "--stake",
        "10000000",
        "--json",
      ],
      asOperator,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(""); // no spinner under --json
    hostId = run.json.id;
    expect(hostId).toBe(hostIdOf(operator.address, 0n));
    expect(run.json).toMatchObject({
      operator: operator.address.toLowerCase(),
      status: "active",
      stake: "10000000",
      latitude: 52.52,
    });
    const registry = await (await fetch(`${dev.info.gateway}/v1/hosts/${hostId}`)).json();
    expect(registry.endpoint).toBe(dev.info.hosts[0].endpoint);
  });

  it("prints the gateway's refusal with its code and exits 1; the registry is unchanged", async () => {
    const tooMuch = await conductor(
      [
        "host",
        "register",
        "--endpoint",
        dev.info.hosts[0].endpoint,
        "--service",
        "eth-local",
        "--lat",
        "1",
        "--lon",
        "1",
        "--stake",
        "999999999999",
        "--json",
      ],
      asOperator,
    );
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.json.error).toMatchObject({ code: "insufficient_balance", status: 409 });
    const notMine = await conductor(["host", "leave", dev.info.hosts[0].id], asOperator);
    expect(notMine.code).toBe(1);
    expect(notMine.stderr).toContain("error: not_host_operator:");
    const theirs = await (await fetch(`${dev.info.gateway}/v1/hosts/${dev.info.hosts[0].id}`)).json();
    expect(theirs.status).toBe("active");
  });

  it("host update changes the location and services, with the key from --key-file", async () => {
    const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "conductor-key-")), "key");
    fs.writeFileSync(keyFile, `${operatorKey}\n`, { mode: 0o600 });
    const run = await conductor([
      "host",
      "update",
      hostId,
      "--endpoint",
      dev.info.hosts[1].endpoint,
      "--service",
      "eth-local",
      "--lat",
      "48.14",
      "--lon",
      "11.58",
      "--key-file",
      keyFile,
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ id: hostId, latitude: 48.14, longitude: 11.58, endpoint: dev.info.hosts[1].endpoint });
  });

  it("stake adds to the host's pool; unstake --wait waits until the unbonded stake is back in the balance", async () => {
    const staked = await conductor(["stake", `host:${hostId}`, "2000000", "--id", "cli-stake-1", "--json"], asOperator);
    expect(staked.code, staked.stderr).toBe(0);
    expect(staked.json).toMatchObject({ alreadyDone: false, pool: { id: `host:${hostId}`, bonded: "12000000" } });
    const retried = await conductor(["stake", `host:${hostId}`, "2000000", "--id", "cli-stake-1", "--json"], asOperator);
    expect(retried.json).toMatchObject({ alreadyDone: true });

    const before = await (await fetch(`${dev.info.gateway}/v1/ledger/holders/${operator.address}`)).json();
    const unstaked = await conductor(["unstake", `host:${hostId}`, "1000000", "--wait", "--timeout", "90", "--json"], asOperator);
    expect(unstaked.code, unstaked.stderr).toBe(0);
    expect(unstaked.json.unbonding).toMatchObject({ state: "returned", amount: "1000000" });
    const after = await (await fetch(`${dev.info.gateway}/v1/ledger/holders/${operator.address}`)).json();
    expect(BigInt(after.balance.available) - BigInt(before.balance.available)).toBe(1_000_000n);
  }, 120_000);

  it("validator register, then delegate stakes into its pool; an unknown validator is refused", async () => {
    const validatorKey = generatePrivateKey();
    const validator = privateKeyToAccount(validatorKey).address;
    const registered = await conductor(["validator", "register", "--name", "cli-test", "--json"], {
      CONDUCTOR_PRIVATE_KEY: validatorKey,
    });
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.json).toMatchObject({ alreadyDone: false, validator });
    const run = await conductor(["delegate", validator, "1000000", "--json"], asOperator);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.pool).toMatchObject({ id: `validator:${validator.toLowerCase()}`, bonded: "1000000" });
    const unknown = await conductor(["delegate", privateKeyToAccount(generatePrivateKey()).address, "1", "--json"], asOperator);
    expect(unknown.code).toBe(1);
    expect(unknown.json.error.code).toBe("unknown_validator");
  });

  it("licence bind, unbind and transfer; redeem is refused before the network is stabilized", async () => {
    await admin("/v1/licences", { id: "cli-licence-1", holder: operator.address });
    const bound = await conductor(["licence", "bind", "cli-licence-1", `host:${hostId}`, "--json"], asOperator);
    expect(bound.code, bound.stderr).toBe(0);
    expect(bound.json.licence).toMatchObject({ boundTo: `host:${hostId}` });
    const unbound = await conductor(["licence", "bind", "cli-licence-1", "--json"], asOperator);
    expect(unbound.code, unbound.stderr).toBe(0);
    const redeem = await conductor(["licence", "redeem", "cli-licence-1", "--json"], asOperator);
    expect(redeem.code).toBe(1);
    expect(redeem.json.error.code).toBe("redemption_closed");
    await admin("/v1/licences", { id: "cli-licence-2", holder: operator.address });
    const newHolder = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
    const moved = await conductor(["licence", "transfer", "cli-licence-2", newHolder, "--json"], asOperator);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.json.licence).toMatchObject({ holder: newHolder });
  });

  it("status host shows reputation, jail, report cards, stake and earnings; status batches lists batches", async () => {
    const run = await conductor(["status", "host", dev.info.hosts[0].id, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.host.id).toBe(dev.info.hosts[0].id);
    expect(run.json.reputation).toMatchObject({ hostId: dev.info.hosts[0].id, jailed: false });
    expect(Array.isArray(run.json.reportCards)).toBe(true);
    expect(BigInt(run.json.stake.bonded)).toBeGreaterThan(0n);
    expect(run.json.earnings).toHaveProperty("available");
    const human = await conductor(["status", "host", hostId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${hostId} (active)`);
    expect(human.stdout).toMatch(/reputation\s+\d/);
    expect(human.stderr).toBe(""); // not a TTY: no spinner

    const batches = await conductor(["status", "batches", "--limit", "5", "--json"]);
    expect(batches.code, batches.stderr).toBe(0);
    expect(Array.isArray(batches.json.batches)).toBe(true);
    const badState = await conductor(["status", "batches", "--state", "nope", "--json"]);
    expect(badState.code).toBe(1);
    expect(badState.json.error.code).toBe("invalid_field");
    const unknownHost = await conductor(["status", "host", "host_missing", "--json"]);
    expect(unknownHost.code).toBe(1);
    expect(unknownHost.json.error.code).toBe("unknown_host");
  });

  it("host leave takes the host out; an unreachable gateway exits 3", async () => {
    const run = await conductor(["host", "leave", hostId, "--json"], asOperator);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ id: hostId, status: "left" });
    const again = await conductor(["host", "leave", hostId, "--json"], asOperator);
    expect(again.code).toBe(1);
    expect(again.json.error.code).toBe("host_left");
    const down = await conductor(["status", "batches", "--json"], { CONDUCTOR_GATEWAY: "http://127.0.0.1:9" });
    expect(down.code).toBe(3);
    expect(down.json.error.code).toBe("unreachable");
  });
});
