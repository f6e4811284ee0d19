import { describe, expect, it } from "vitest";
import { checkHostEndpoint } from "../../protocol/endpoint.js";

describe("checkHostEndpoint", () => {
  it.each([
    ["https://rpc.example.com", true],
    ["http://203.0.113.9:8545/path", true],
    ["https://[2606:4700::1111]/", true],
    ["http://8.8.8.8/", true],
  ])("accepts public endpoint %s", (url) => {
    expect(checkHostEndpoint(url).ok).toBe(true);
  });

  it.each([
    ["http://127.0.0.1:8545", "loopback_address"],
    ["http://localhost:8545", "loopback_address"],
    ["http://api.localhost/", "loopback_address"],
    ["http://[::1]/", "loopback_address"],
    ["http://0x7f.1/", "loopback_address"],
    ["http://2130706433/", "loopback_address"],
    ["http://[::ffff:127.0.0.1]/", "loopback_address"],
    ["http://10.1.2.3/", "private_address"],
    ["http://172.16.0.1/", "private_address"],
    ["http://172.31.255.255/", "private_address"],
    ["http://192.168.0.1/", "private_address"],
    ["http://169.254.169.254/latest/meta-data/", "private_address"],
    ["http://100.64.0.1/", "private_address"],
    ["http://100.127.255.254/", "private_address"],
    ["http://0.0.0.0/", "private_address"],
    ["http://[::]/", "private_address"],
    ["http://[::ffff:10.0.0.1]/", "private_address"],
    ["http://[::ffff:169.254.169.254]/", "private_address"],
    ["http://[64:ff9b::a00:1]/", "private_address"],
    ["http://[fd12:3456::1]/", "private_address"],
    ["http://[fe80::1]/", "private_address"],
    ["http://224.0.0.1/", "private_address"],
    ["http://metadata.google.internal/", "reserved_hostname"],
    ["http://printer.local/", "reserved_hostname"],
    ["http://intranet/", "reserved_hostname"],
    ["ftp://rpc.example.com/", "scheme_not_allowed"],
    ["file:///etc/passwd", "scheme_not_allowed"],
    ["javascript:alert(1)", "scheme_not_allowed"],
    ["https://user:pw@rpc.example.com/", "credentials_in_url"],
    ["not a url", "not_a_url"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(checkHostEndpoint(url)).toEqual({ ok: false, reason });
  });

  it("accepts loopback only with the dev-only switch, and never private ranges", () => {
    expect(checkHostEndpoint("http://127.0.0.1:8545", { allowLoopback: true }).ok).toBe(true);
    expect(checkHostEndpoint("http://localhost:8545", { allowLoopback: true }).ok).toBe(true);
    expect(checkHostEndpoint("http://10.0.0.1/", { allowLoopback: true }).ok).toBe(false);
    expect(checkHostEndpoint("http://169.254.169.254/", { allowLoopback: true }).ok).toBe(false);
  });

  it("does not mistake public addresses next to private ranges", () => {
    expect(checkHostEndpoint("http://172.32.0.1/").ok).toBe(true);
    expect(checkHostEndpoint("http://100.128.0.1/").ok).toBe(true);
    expect(checkHostEndpoint("http://11.0.0.1/").ok).toBe(true);
  });
});
