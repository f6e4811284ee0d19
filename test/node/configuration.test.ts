/**
 * The var registries (protocol/parameters.ts, workers/config.ts) against what else names vars:
 * wrangler.toml sets only known vars that differ from their defaults, the secrets are the ones
 * workers/secrets.d.ts types, and every default reads back as itself.
 */
import fs from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { DEFAULT_PARAMETERS, PARAMETERS, readParameters } from "../../protocol/parameters.js";
import { readVar, type VarSpec } from "../../protocol/vars.js";
import { CONFIGURATION_VARS, GATEWAY_SECRETS, gatewayConfig } from "../../workers/config.js";

const vars = CONFIGURATION_VARS as VarSpec<unknown>[];
const byName = new Map(vars.map((spec) => [spec.name, spec]));
const secretNames = GATEWAY_SECRETS.map((s) => s.name);

/** `NAME = "value"` entries of wrangler.toml's `[vars]` table; anything else in the table fails the test. */
function wranglerVars(): [string, string][] {
  const lines = fs.readFileSync("wrangler.toml", "utf8").split("\n");
  const start = lines.findIndex((l) => l.trim() === "[vars]");
  if (start < 0) return [];
  const entries: [string, string][] = [];
  for (const line of lines.slice(start + 1)) {
    const text = line.trim();
    if (text.startsWith("[")) break;
    if (text === "" || text.startsWith("#")) continue;
    const entry = /^([A-Z0-9_]+)\s*=\s*"([^"]*)"$/.exec(text);
    if (!entry) throw new Error(`wrangler.toml [vars]: cannot read "${text}" (expected NAME = "value")`);
    entries.push([entry[1], entry[2]]);
  }
  return entries;
}

describe("configuration registry", () => {
  it("names every var once, across parameters, gateway vars and secrets", () => {
    const names = [...vars.map((s) => s.name), ...secretNames];
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it.each(vars.map((spec) => [spec.name, spec] as const))(
    "%s: its default, written as var text, reads back as itself",
    (name, spec) => {
      expect(readVar({ [name]: spec.kind.format(spec.default) }, spec)).toEqual(spec.default);
    },
  );

  it("reads the defaults when no var is set, for the protocol and the gateway", () => {
    expect(readParameters({})).toEqual(DEFAULT_PARAMETERS);
    expect(Object.keys(DEFAULT_PARAMETERS)).toEqual(Object.keys(PARAMETERS));
    const config = gatewayConfig({} as Env);
    expect(config).toMatchObject({ ...DEFAULT_PARAMETERS, registryChainId: 31337, allowLoopbackHosts: false, devMode: false });
    expect(config.signingDomain).toEqual({ chainId: 31337, verifyingContract: "0x0000000000000000000000000000000000000000" });
  });

  it("refuses a malformed var, naming it", () => {
    expect(() => gatewayConfig({ REGISTRY_CHAIN_ID: "0" } as unknown as Env)).toThrow(/REGISTRY_CHAIN_ID/);
    expect(() => gatewayConfig({ PROOF_REGISTRY_ADDRESS: "0x12" } as unknown as Env)).toThrow(/PROOF_REGISTRY_ADDRESS/);
    expect(() => readParameters({ MIN_HOST_STAKE: "1.5" })).toThrow(/MIN_HOST_STAKE/);
    expect(() => readParameters({ UNSCORED_HOST_SCORE: "2" })).toThrow(/UNSCORED_HOST_SCORE/);
    expect(() => readParameters({ REWARD_SPLIT_BPS: "1,2,3" })).toThrow(/REWARD_SPLIT_BPS/);
    expect(readParameters({ JAIL_SLASH_BPS: "20000" }).jailSlashBps).toBe(10_000n);
  });

  it("lists as secrets exactly the optional Env members of workers/secrets.d.ts", () => {
    const declared = [...fs.readFileSync("workers/secrets.d.ts", "utf8").matchAll(/^\s+([A-Z][A-Z0-9_]*)\?: string;/gm)].map(
      (m) => m[1],
    );
    expect([...declared].sort()).toEqual([...secretNames].sort());
  });
});

describe("wrangler.toml [vars]", () => {
  const entries = wranglerVars();

  it("sets only known vars, and no secret", () => {
    const unknown = entries.map(([name]) => name).filter((name) => !byName.has(name));
    expect(unknown, "not a var of docs/configuration.md (a typo, or a secret: use `wrangler secret put`)").toEqual([]);
  });

  it("sets only what differs from the default (the default is docs/configuration.md, written once in code)", () => {
    const same = entries.filter(([name, text]) => {
      const spec = byName.get(name);
      return spec && isDeepStrictEqual(readVar({ [name]: text }, spec), spec.default);
    });
    expect(
      same.map(([name]) => name),
      "equal to the default: remove them from wrangler.toml",
    ).toEqual([]);
  });
});
