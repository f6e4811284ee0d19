/**
 * Host endpoint validation against server-side request forgery (OWASP API7). The gateway
 * forwards relays to registered endpoints, so an endpoint must never name an address inside a
 * private network, the loopback, a link-local or cloud metadata address, or an alias of one.
 *
 * The URL parser normalises IPv4 written in decimal, octal or hex (`http://2130706433/`,
 * `http://0x7f.1/`) to dotted form, so the checks below see every spelling of an address; trailing
 * dots are all stripped (`localhost..`). IPv6 forms that carry an IPv4 (mapped, compatible,
 * translated, NAT64, 6to4, Teredo, ISATAP) are judged by the IPv4 they carry.
 * Names that resolve to a private address cannot be checked without DNS inside the Worker;
 * Cloudflare's egress does not route to private ranges, which covers that case in production.
 */

export type EndpointRejection =
  | "not_a_url"
  | "scheme_not_allowed"
  | "credentials_in_url"
  | "private_address"
  | "loopback_address"
  | "reserved_hostname";

export type EndpointCheck = { ok: true; url: URL } | { ok: false; reason: EndpointRejection };

function parseIpv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return octets.every((o) => o >= 0 && o <= 255) ? octets : null;
}

type AddressClass = "public" | "private" | "loopback";

function classifyIpv4([a, b]: number[]): AddressClass {
  if (a === 127) return "loopback";
  if (
    a === 0 || // "this network"
    a === 10 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT 100.64.0.0/10
    (a === 169 && b === 254) || // link-local, including 169.254.169.254 metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // IETF protocol assignments, 192.0.0.0/24 (and 192.0.2.0/24 TEST-NET)
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast and reserved
  ) {
    return "private";
  }
  return "public";
}

/** Expands an IPv6 literal (without brackets) to eight 16-bit groups. */
function parseIpv6(host: string): number[] | null {
  let text = host;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const v4 = parseIpv4(maybeV4);
    if (!v4) return null;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = `${text.slice(0, lastColon + 1)}0`; // placeholder group, replaced below
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const toGroups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const head = toGroups(halves[0]);
  const rest = halves.length === 2 ? toGroups(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill(0), ...rest];
  if (tail.length) groups.splice(6, 2, ...tail);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** Whether `groups` lies in the prefix `prefix`/`bits`. */
function inPrefix(groups: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((groups[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

/** IPv6 ranges that are never a public host: refused whatever they embed. */
const NON_GLOBAL_IPV6: [prefix: number[], bits: number][] = (
  [
    ["fc00::", 7], // unique local
    ["fe80::", 10], // link-local
    ["fec0::", 10], // site-local (deprecated, still routed inside sites)
    ["ff00::", 8], // multicast
    ["64:ff9b:1::", 48], // local-use NAT64 (RFC 8215): a translator inside someone's network
    ["100::", 64], // discard-only
    ["2001:2::", 48], // benchmarking
    ["2001:10::", 28], // ORCHID
    ["2001:20::", 28], // ORCHIDv2
    ["2001:db8::", 32], // documentation
    ["3fff::", 20], // documentation (RFC 9637)
  ] as const
).map(([text, bits]) => [parseIpv6(text) as number[], bits]);

const ipv4Of = (high: number, low: number) => [high >> 8, high & 0xff, low >> 8, low & 0xff];

/**
 * A tunnel or translator hands the packet to the embedded IPv4 inside whatever network it
 * serves, so anything but a public IPv4 there is refused, loopback included: a dev gateway's
 * loopback switch is for its own demo hosts, not for tunnels.
 */
function tunnelled(...embedded: number[][]): AddressClass {
  return embedded.every((v4) => classifyIpv4(v4) === "public") ? "public" : "private";
}

function classifyIpv6(groups: number[]): AddressClass {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const zeroUntil = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroUntil(7) && g7 === 1) return "loopback"; // ::1
  if (zeroUntil(8)) return "private"; // ::
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): sockets treat them as the IPv4.
  if (zeroUntil(5) && (g5 === 0xffff || g5 === 0)) return classifyIpv4(ipv4Of(g6, g7));
  if (NON_GLOBAL_IPV6.some(([prefix, bits]) => inPrefix(groups, prefix, bits))) return "private";
  // IPv4-translated ::ffff:0:a.b.c.d (SIIT) and well-known NAT64 64:ff9b::a.b.c.d.
  if (zeroUntil(4) && g4 === 0xffff && g5 === 0) return tunnelled(ipv4Of(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    return tunnelled(ipv4Of(g6, g7));
  }
  if (g0 === 0x2002) return tunnelled(ipv4Of(g1, g2)); // 6to4: 2002:IPv4::/48
  // Teredo 2001:0::/32: the server's IPv4 in groups 2-3, the client's (inverted) in groups 6-7.
  if (g0 === 0x2001 && g1 === 0) return tunnelled(ipv4Of(g2, g3), ipv4Of(g6 ^ 0xffff, g7 ^ 0xffff));
  // ISATAP interface id (00|01|02|03)00:5efe:IPv4 under any /64 prefix.
  if ((g4 & 0xfcff) === 0 && g5 === 0x5efe) return tunnelled(ipv4Of(g6, g7));
  return "public";
}

/**
 * The host without its trailing dots, in the URL parser's canonical form. The parser reads a
 * host as IPv4 only when its last label is a number, so `127.0.0.1..` or `0x7f.1..` reach us
 * as names, while resolvers read them as 127.0.0.1; parsing again without the dots turns every
 * IPv4 spelling into dotted form. `null` when the bare host is no valid host at all.
 */
function bareHostname(hostname: string): string | null {
  const bare = hostname.replace(/\.+$/, "");
  if (bare === hostname) return hostname;
  try {
    return new URL(`http://${bare}/`).hostname;
  } catch {
    return null;
  }
}

const RESERVED_NAMES = ["localhost", "metadata.google.internal", "metadata"];
const RESERVED_SUFFIXES = [".localhost", ".internal", ".local", ".localdomain", ".home.arpa"];

/**
 * Checks a host endpoint URL. With `allowLoopback` (a dev-only setting) loopback addresses and
 * `localhost` are accepted so that local demo hosts can register; private ranges never are.
 */
export function checkHostEndpoint(raw: string, { allowLoopback = false } = {}): EndpointCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not_a_url" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "scheme_not_allowed" };
  if (url.username || url.password) return { ok: false, reason: "credentials_in_url" };

  const host = bareHostname(url.hostname);
  let kind: AddressClass | "reserved" = "public";
  if (host === null) {
    kind = "reserved";
  } else if (host.startsWith("[")) {
    const groups = parseIpv6(host.slice(1, -1));
    kind = groups ? classifyIpv6(groups) : "private";
  } else if (parseIpv4(host)) {
    kind = classifyIpv4(parseIpv4(host) as number[]);
  } else if (host === "localhost" || host.endsWith(".localhost")) {
    kind = "loopback";
  } else if (RESERVED_NAMES.includes(host) || RESERVED_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) {
    kind = "reserved";
  }

  if (kind === "loopback") return allowLoopback ? { ok: true, url } : { ok: false, reason: "loopback_address" };
  if (kind === "private") return { ok: false, reason: "private_address" };
  if (kind === "reserved") return { ok: false, reason: "reserved_hostname" };
  return { ok: true, url };
}
