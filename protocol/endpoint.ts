/**
 * Host endpoint validation against server-side request forgery (OWASP API7). The gateway
 * forwards relays to registered endpoints, so an endpoint must never name an address inside a
 * private network, the loopback, a link-local or cloud metadata address, or an alias of one.
 *
 * The URL parser normalises IPv4 written in decimal, octal or hex (`http://2130706433/`,
 * `http://0x7f.1/`) to dotted form, so the checks below see every spelling of an address.
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

function classifyIpv6(groups: number[]): AddressClass {
  const allZeroUntil = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (allZeroUntil(7) && groups[7] === 1) return "loopback"; // ::1
  if (allZeroUntil(8)) return "private"; // ::
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): judge the embedded IPv4.
  if (allZeroUntil(5) && (groups[5] === 0xffff || groups[5] === 0)) {
    const v4 = [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff];
    return classifyIpv4(v4);
  }
  // NAT64 (64:ff9b::/96) embeds IPv4 as well.
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    const v4 = [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff];
    return classifyIpv4(v4);
  }
  const first = groups[0];
  if ((first & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return "private"; // link-local fe80::/10
  if ((first & 0xff00) === 0xff00) return "private"; // multicast
  if (first === 0x2001 && groups[1] === 0x0db8) return "private"; // documentation
  return "public";
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

  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  let kind: AddressClass | "reserved" = "public";
  if (host.startsWith("[")) {
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
