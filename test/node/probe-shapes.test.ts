import { describe, expect, it } from "vitest";
import {
  MAX_SHAPE_PARAMS_BYTES,
  PROMPT_CORPUS,
  reanchor,
  SAMPLING_CORPUS,
  shapeKey,
  trafficShapeOf,
} from "../../protocol/probe-shapes.js";

describe("traffic shapes for incognito probes", () => {
  it("keeps replayable read-only calls and nothing else", () => {
    expect(trafficShapeOf({ method: "eth_getBalance", params: ["0xabc", "latest"] })).toEqual({
      method: "eth_getBalance",
      params: ["0xabc", "latest"],
    });
    expect(trafficShapeOf({ method: "eth_chainId" })).toEqual({ method: "eth_chainId", params: [] });
    for (const method of [
      "eth_sendRawTransaction",
      "eth_sendTransaction",
      "anvil_setBalance",
      "debug_traceCall",
      "eth_getLogs",
    ]) {
      expect(trafficShapeOf({ method, params: [] })).toBeNull();
    }
    expect(trafficShapeOf({ method: "eth_newFilter", params: [{}] })).toBeNull();
    expect(trafficShapeOf({ method: "eth_call", params: { to: "0x1" } })).toBeNull();
    expect(trafficShapeOf({ method: 42, params: [] })).toBeNull();
    expect(
      trafficShapeOf({ method: "eth_call", params: [{ data: `0x${"0".repeat(MAX_SHAPE_PARAMS_BYTES)}` }, "latest"] }),
    ).toBeNull();
  });

  it("re-anchors a call's block tag to a block number, leaving other calls alone", () => {
    expect(reanchor({ method: "eth_getBalance", params: ["0xabc", "latest"] }, 56)).toEqual({
      method: "eth_getBalance",
      params: ["0xabc", "0x38"],
    });
    expect(reanchor({ method: "eth_getBalance", params: ["0xabc"] }, 56).params).toEqual(["0xabc", "0x38"]);
    expect(reanchor({ method: "eth_getStorageAt", params: ["0xabc", "0x0", "pending"] }, 1).params).toEqual([
      "0xabc",
      "0x0",
      "0x1",
    ]);
    expect(reanchor({ method: "eth_getBlockByNumber", params: ["latest", true] }, 16).params).toEqual(["0x10", true]);
    expect(reanchor({ method: "eth_getBlockByNumber", params: ["latest"] }, 16).params).toEqual(["0x10", false]);
    const byHash = { method: "eth_getTransactionByHash", params: ["0xfeed"] };
    expect(reanchor(byHash, 16)).toBe(byHash);
  });

  it("names the same call the same way, and keeps a corpus with no fixed probe in it", () => {
    expect(shapeKey({ method: "eth_call", params: [{ to: "0x1" }, "latest"] })).toBe(
      shapeKey({ method: "eth_call", params: [{ to: "0x1" }, "latest"] }),
    );
    expect(new Set(PROMPT_CORPUS).size).toBe(PROMPT_CORPUS.length);
    expect(PROMPT_CORPUS).not.toContain("Reply with one short sentence about relays.");
    expect(SAMPLING_CORPUS.every((s) => s.temperature === 0 && s.seed === undefined)).toBe(true);
  });
});
