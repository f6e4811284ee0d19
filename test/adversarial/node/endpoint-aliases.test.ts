/**
 * Finding #12: aliases of private, loopback and reserved addresses that the host-endpoint check
 * (`protocol/endpoint.ts`) let through, and the public addresses written the same way that must
 * still pass.
 */
import { describe, expect, it } from "vitest";
import { checkHostEndpoint } from "../../../protocol/endpoint.js";

/** Both switch settings: an alias of a private address is refused even on a dev gateway. */
function refusedEverywhere(url: string) {
  return [checkHostEndpoint(url), checkHostEndpoint(url, { allowLoopback: true })];
}

describe("host endpoint aliases", () => {
  it.each([
    ["http://[::ffff:0:10.0.0.1]/"],
    ["http://[::ffff:0:a9fe:a9fe]/"], // 169.254.169.254, the metadata address
    ["http://[::ffff:0:127.0.0.1]/"],
    ["http://[0:0:0:0:ffff:0:c0a8:101]/"], // 192.168.1.1, spelled out
  ])("#12 refuses IPv4-translated addresses (::ffff:0:0/96) embedding a private IPv4: %s", (url) => {
    for (const check of refusedEverywhere(url)) expect(check).toEqual({ ok: false, reason: "private_address" });
  });

  it.each([
    ["http://[64:ff9b:1::a00:1]/"],
    ["http://[64:ff9b:1::808:808]/"], // even a public IPv4: the prefix is local by definition
    ["http://[64:ff9b:1:ffff:ffff:ffff:ffff:ffff]/"],
  ])("#12 refuses the whole local-use NAT64 prefix 64:ff9b:1::/48: %s", (url) => {
    for (const check of refusedEverywhere(url)) expect(check).toEqual({ ok: false, reason: "private_address" });
  });

  it.each([
    ["http://[2002:a00:1::]/"], // 10.0.0.1
    ["http://[2002:7f00:1::1]/"], // 127.0.0.1
    ["http://[2002:a9fe:a9fe::]/"], // 169.254.169.254
    ["http://[2002:c0a8:101:1::1]/"], // 192.168.1.1
    ["http://[2002:6440:1::]/"], // 100.64.0.1, CGNAT
  ])("#12 refuses 6to4 addresses (2002::/16) that embed a private IPv4: %s", (url) => {
    for (const check of refusedEverywhere(url)) expect(check).toEqual({ ok: false, reason: "private_address" });
  });

  it.each([
    ["server 10.0.0.1, client 8.8.8.8", "http://[2001:0:a00:1::f7f7:f7f7]/"],
    ["server 169.254.169.254", "http://[2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7]/"],
    ["client 10.0.0.1", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/"],
    ["client 127.0.0.1", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/"],
    ["client 192.168.1.1", "http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/"],
  ])("#12 refuses Teredo addresses (2001::/32) embedding a private IPv4 (%s)", (_, url) => {
    for (const check of refusedEverywhere(url)) expect(check).toEqual({ ok: false, reason: "private_address" });
  });

  it.each([["http://[fec0::1]/"], ["http://[fed0:1::1]/"], ["http://[feff:ffff::1]/"]])(
    "#12 refuses site-local addresses (fec0::/10): %s",
    (url) => {
      expect(checkHostEndpoint(url)).toEqual({ ok: false, reason: "private_address" });
    },
  );

  it.each([
    ["http://localhost../", "loopback_address"],
    ["http://localhost.../", "loopback_address"],
    ["http://api.localhost../", "loopback_address"],
    ["http://localhost%2e%2e/", "loopback_address"], // percent-encoded dots
    ["http://localhost\u3002\u3002/", "loopback_address"], // ideographic full stops, mapped to dots by IDNA
    ["http://127.0.0.1../", "loopback_address"], // the URL parser does not treat this as IPv4
    ["http://0x7f.1../", "loopback_address"], // nor this; resolvers read it as 127.0.0.1
    ["http://10.0.0.1../", "private_address"],
    ["http://metadata.google.internal../", "reserved_hostname"],
    ["http://printer.local.../", "reserved_hostname"],
  ])("#12 strips every trailing dot before judging the name: %s", (url, reason) => {
    expect(checkHostEndpoint(url)).toEqual({ ok: false, reason });
  });

  it.each([
    ["http://999.1.1.1../"], // not a valid IPv4 once the dots are gone, and no name either
    ["http://0x100000000../"],
  ])("#12 refuses a numeric host that is no valid IPv4 once its trailing dots are gone: %s", (url) => {
    expect(checkHostEndpoint(url).ok).toBe(false);
  });

  it.each([
    ["http://[2a00:1450::200:5efe:a00:1]/"], // ISATAP interface id, 10.0.0.1
    ["http://[2a00:1450::5efe:a9fe:a9fe]/"], // ISATAP, 169.254.169.254
  ])("#12 refuses ISATAP addresses embedding a private IPv4: %s", (url) => {
    for (const check of refusedEverywhere(url)) expect(check).toEqual({ ok: false, reason: "private_address" });
  });

  it.each([
    ["discard-only 100::/64", "http://[100::1]/"],
    ["benchmarking 2001:2::/48", "http://[2001:2::1]/"],
    ["ORCHID 2001:10::/28", "http://[2001:10::1]/"],
    ["ORCHIDv2 2001:20::/28", "http://[2001:2f::1]/"],
    ["documentation 3fff::/20", "http://[3fff:fff::1]/"],
  ])("#12 refuses IPv6 ranges that are not globally reachable (%s)", (_, url) => {
    expect(checkHostEndpoint(url)).toEqual({ ok: false, reason: "private_address" });
  });

  it.each([
    ["percent-encoded name", "http://%6cocalhost/", "loopback_address"],
    ["fullwidth letters", "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/", "loopback_address"],
    ["soft hyphen inside", "http://local\u00adhost/", "loopback_address"],
    ["circled digits", "http://\u2460\u2461\u2466.0.0.1/", "loopback_address"],
    ["ideographic dots in an IPv4", "http://127\u30020\u30020\u30021/", "loopback_address"],
    ["octal IPv4", "http://0177.0.0.1/", "loopback_address"],
    ["one trailing dot on an IPv4", "http://10.0.0.1./", "private_address"],
    ["IPv4-compatible", "http://[::127.0.0.1]/", "loopback_address"],
    ["IPv4-compatible, private", "http://[::10.0.0.1]/", "private_address"],
    ["IPv4-mapped spelled out", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "private_address"],
  ])("#12 sees through spellings the URL parser normalises (%s)", (_, url, reason) => {
    expect(checkHostEndpoint(url)).toEqual({ ok: false, reason });
  });

  it.each([
    ["IPv4-translated 8.8.8.8", "http://[::ffff:0:808:808]/"],
    ["well-known NAT64 8.8.8.8", "http://[64:ff9b::808:808]/"],
    ["6to4 8.8.8.8", "http://[2002:808:808::1]/"],
    ["Teredo, server 65.54.227.120, client 8.8.8.8", "http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/"],
    ["ISATAP 8.8.8.8", "http://[2a00:1450::200:5efe:808:808]/"],
    ["next to the local-use NAT64 prefix", "http://[64:ff9b:2::808:808]/"],
    ["IETF assignments next to Teredo (AMT 2001:3::/32)", "http://[2001:3::1]/"],
    ["a name ending in one dot", "http://rpc.example.com./"],
  ])("#12 still accepts public addresses embedded the same way (%s)", (_, url) => {
    expect(checkHostEndpoint(url).ok).toBe(true);
  });
});
