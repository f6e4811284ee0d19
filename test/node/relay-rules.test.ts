import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { haversineKm, orderByDistance } from "../../protocol/geo.js";
import {
  checkAnswer,
  computeUnitsFor,
  type JsonRpcCall,
  methodAllowed,
  parseJsonRpc,
  refusedMethods,
  splitJsonArray,
} from "../../protocol/jsonrpc.js";
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

  it("prices by own entries only: inherited names cost the default", () => {
    const table = { default: 2, methods: { eth_getLogs: 5 } };
    for (const method of ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf"]) {
      expect(computeUnitsFor([{ jsonrpc: "2.0", id: 1, method }], table)).toBe(2);
    }
    // A table parsed from JSON may hold "__proto__" as an own key; it prices that method and nothing else.
    const parsed = { default: 2, methods: JSON.parse('{"__proto__": 7}') as Record<string, number> };
    expect(computeUnitsFor([{ jsonrpc: "2.0", id: 1, method: "__proto__" }], parsed)).toBe(7);
    expect(computeUnitsFor([{ jsonrpc: "2.0", id: 1, method: "eth_chainId" }], parsed)).toBe(2);
  });

  it("refuses admin and state-changing namespaces unless allow-listed", () => {
    expect(methodAllowed("eth_call")).toBe(true);
    expect(methodAllowed("eth_sendRawTransaction")).toBe(true);
    expect(methodAllowed("debug_traceTransaction")).toBe(false);
    expect(methodAllowed("debug_traceTransaction", ["debug_traceTransaction"])).toBe(true);
    expect(methodAllowed("debug_setHead", ["debug_traceTransaction"])).toBe(false);
    expect(methodAllowed("anvil_mine", ["anvil_*"])).toBe(true);
    expect(methodAllowed("eth_sendTransaction")).toBe(false);
    const call = (method: string): JsonRpcCall => ({ jsonrpc: "2.0", id: 1, method });
    expect(refusedMethods([call("eth_chainId"), call("evm_mine"), call("evm_mine")])).toEqual(["evm_mine"]);
  });

  const calls = (...ids: (number | string | undefined)[]): JsonRpcCall[] =>
    ids.map((id) => ({ jsonrpc: "2.0", method: "eth_chainId", ...(id === undefined ? {} : { id }) }));
  const answer = (id: unknown, extra = '"result":"0x1"') => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},${extra}}`;

  it("checks single answers: shape, id and host-trouble codes", () => {
    expect(checkAnswer(answer(1), calls(1), false)).toEqual({ ok: true, body: answer(1) });
    expect(checkAnswer(answer(1, '"error":{"code":3,"message":"reverted"}'), calls(1), false).ok).toBe(true);
    expect(checkAnswer("<html>", calls(1), false)).toEqual({ ok: false, reason: "bad_response" });
    expect(checkAnswer('{"jsonrpc":"2.0","id":1}', calls(1), false)).toEqual({ ok: false, reason: "bad_response" });
    expect(checkAnswer(answer(2), calls(1), false)).toEqual({ ok: false, reason: "bad_response" });
    expect(checkAnswer(`[${answer(1)}]`, calls(1), false)).toEqual({ ok: false, reason: "bad_response" });
    for (const code of [-32603, -32005]) {
      expect(checkAnswer(answer(1, `"error":{"code":${code},"message":"x"}`), calls(1), false)).toEqual({
        ok: false,
        reason: "host_error",
      });
    }
    expect(checkAnswer("", calls(undefined), false).ok).toBe(true); // a notification gets no answer
  });

  it("checks batch answers: one per call with an id, the same ids, reordered without re-serialising", () => {
    expect(checkAnswer("[]", calls(1, 2), true).ok).toBe(false);
    expect(checkAnswer(`[${answer(1)}]`, calls(1, 2), true).ok).toBe(false);
    expect(checkAnswer(`[${answer(1)},${answer(3)}]`, calls(1, 2), true).ok).toBe(false);
    expect(checkAnswer(`[${answer(1)},${answer(1)}]`, calls(1, 2), true).ok).toBe(false);
    expect(checkAnswer(`[${answer(1)},${answer(2)},${answer(3)}]`, calls(1, 2), true).ok).toBe(false);
    expect(checkAnswer(`[${answer(1)}]`, calls(1, undefined), true).ok).toBe(true);
    // Answers to notifications (id null) are tolerated, one per notification, never more.
    expect(checkAnswer(`[${answer(null)},${answer(1)}]`, calls(1, undefined), true).ok).toBe(true);
    expect(checkAnswer(`[${answer(null)},${answer(null)},${answer(1)}]`, calls(1, undefined), true).ok).toBe(false);
    const big = answer(2, '"result":123456789012345678901234567890');
    expect(checkAnswer(`[ ${big} ,\n ${answer(1)} ]`, calls(1, 2), true)).toEqual({ ok: true, body: `[${answer(1)},${big}]` });
    const inOrder = `[${answer(1)}, ${big}]`;
    expect(checkAnswer(inOrder, calls(1, 2), true)).toEqual({ ok: true, body: inOrder });
  });

  it("splits any JSON array into the exact text of its elements", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.constantFrom("", " ", "\n  "), (values, space) => {
        const texts = values.map((v) => JSON.stringify(v));
        const text = `${space}[${space}${texts.join(`${space},${space}`)}${space}]${space}`;
        expect(splitJsonArray(text)).toEqual(texts);
      }),
    );
    for (const broken of ["", "{}", "[", "[1,", '["a]', "[1]x", "[,]", "[1,]"]) {
      expect(splitJsonArray(broken)).toBeNull();
    }
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
