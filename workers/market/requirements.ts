/**
 * A relay's requirements (docs/market.md): its key's standing requirements, tightened by the
 * request's `X-Conductor-*` headers. Read on the relay path with no storage read: the key's
 * requirements come with the key (cached per isolate with it), and their parse is cached here.
 */
import {
  canonicalRequirements,
  checkRequirements,
  DEFAULT_PRIORITY,
  type Requirements,
  requirementsFromHeaders,
  tighten,
} from "../../protocol/market.js";
import { apiError } from "../errors.js";

export interface RelayRequirements {
  /** Canonical selection requirements: part of the session's seed input ("" for none). */
  canonical: string;
  /** 0 to 9: admission order under the session's in-flight limit. */
  priority: number;
}

const NONE: RelayRequirements = { canonical: "", priority: DEFAULT_PRIORITY };
const parsedKeys = new Map<string, Requirements>();

function keyRequirements(stored: string): Requirements {
  let parsed = parsedKeys.get(stored);
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(stored) as Requirements;
    } catch {
      parsed = {};
    }
    if (checkRequirements(parsed)) parsed = {};
    if (parsedKeys.size >= 1_000) parsedKeys.clear();
    parsedKeys.set(stored, parsed);
  }
  return parsed;
}

const HEADERS = [
  "x-conductor-region",
  "x-conductor-model",
  "x-conductor-min-score",
  "x-conductor-max-price",
  "x-conductor-priority",
];

/** The relay's requirements; 400 `invalid_requirement` naming a malformed header. */
export function relayRequirements(storedKeyRequirements: string, headers: Headers): RelayRequirements {
  const any = HEADERS.some((h) => headers.has(h));
  if (!any && storedKeyRequirements === "") return NONE;
  const key = storedKeyRequirements === "" ? {} : keyRequirements(storedKeyRequirements);
  let merged = key;
  if (any) {
    const read = requirementsFromHeaders((name) => headers.get(name));
    if (!read.ok) throw apiError("invalid_requirement", `${read.header}: ${read.reason}`);
    merged = tighten(key, read.requirements);
  }
  return { canonical: canonicalRequirements(merged), priority: merged.priority ?? DEFAULT_PRIORITY };
}
