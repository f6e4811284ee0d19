import { describe, expect, it } from "vitest";
import { haversineKm, orderByDistance } from "../../protocol/geo.js";
import { computeUnitsFor, isJsonRpcResponse, parseJsonRpc } from "../../protocol/jsonrpc.js";
import { readParameters } from "../../protocol/parameters.js";
import { sessionQuota } from "../../protocol/quota.js";

describe("geo", () => {
  it.each([
    [{ latitude: 50.11, longitude: 8.68 }, { latitude: 48.86, longitude: 2.35 }, 479],
    [{ latitude: 40.71, longitude: -74.0 }, { latitude: 51.51, longitude: -0.13 }, 5570],
    [{ latitude: 0, longitude: 179.9 }, { latitude: 0, longitude: -179.9 }, 22],
  ])("haversine %#", (a, b, km) => {
    expect(Math.abs(haversineKm(a, b) - km)).toBeLessThan(km * 0.01 + 1);
  });

  it("orders nearest first and keeps the given order for ties or no origin", () => {
    const hosts = [
      { id: "sg", latitude: 1.35, longitude: 103.82 },
      { id: "fra", latitude: 50.11, longitude: 8.68 },
      { id: "va", latitude: 38.95, longitude: -77.45 },
    ];
    expect(orderByDistance(hosts, { latitude: 48.86, longitude: 2.35 }).map((h) => h.id)).toEqual(["fra", "va", "sg"]);
    expect(orderByDistance(hosts, null).map((h) => h.id)).toEqual(["sg", "fra", "va"]);
  });
});

describe("JSON-RPC", () => {
  it.each([
    ["{", -32700],
    ["[]", -32600],
    ['{"jsonrpc":"1.0","method":"x"}', -32600],
    ['{"jsonrpc":"2.0","method":""}', -32600],
    ['[{"jsonrpc":"2.0","method":"a"}, 5]', -32600],
    ['"text"', -32600],
  ])("refuses %s with %i", (body, code) => {
    expect(parseJsonRpc(body)).toMatchObject({ ok: false, code });
  });

  it("parses single calls and batches and prices them per method", () => {
    const single = parseJsonRpc('{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[]}');
    const batch = parseJsonRpc(
      '[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"eth_getLogs"}]',
    );
    const table = { default: 1, methods: { eth_getLogs: 5 } };
    expect(single.ok && computeUnitsFor(single.calls, table)).toBe(5);
    expect(batch.ok && batch.batch && computeUnitsFor(batch.calls, table)).toBe(6);
  });

  it("recognises well-formed answers only", () => {
    expect(isJsonRpcResponse('{"jsonrpc":"2.0","id":1,"result":"0x1"}', false)).toBe(true);
    expect(isJsonRpcResponse('{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}', false)).toBe(true);
    expect(isJsonRpcResponse("<html>", false)).toBe(false);
    expect(isJsonRpcResponse('{"jsonrpc":"2.0","id":1}', false)).toBe(false);
    expect(isJsonRpcResponse('{"jsonrpc":"2.0","id":1,"result":1}', true)).toBe(false);
  });
});

describe("quota and parameters", () => {
  it.each([
    [0n, 0],
    [999n, 0],
    [1_000n, 1],
    [1_000_000n, 1000],
    [-5n, 0],
  ])("stake %s buys %i compute units per session", (stake, quota) => {
    expect(sessionQuota(stake, 1_000n)).toBe(quota);
  });

  it("reads parameters from vars and refuses nonsense", () => {
    expect(readParameters({}).sessionSeconds).toBe(600);
    expect(readParameters({ SESSION_SECONDS: "60" }).sessionSeconds).toBe(60);
    expect(() => readParameters({ SESSION_SECONDS: "-1" })).toThrow(/SESSION_SECONDS/);
    expect(() => readParameters({ HOSTS_PER_SESSION: "1.5" })).toThrow(/HOSTS_PER_SESSION/);
  });
});
