/**
 * Time zone names: only IANA Area/Location names (and UTC) are accepted, checked against a maintained copy of the
 * IANA time zone database (the `tzdata` npm package, https://github.com/rogierschouten/tzdata-generate, which carries
 * its IANA release in `version`), not against Node's ICU: ICU reports some zones under old ids (Asia/Kolkata as
 * Asia/Calcutta) and `Intl.supportedValuesOf("timeZone")` lacks UTC.
 *
 * Abbreviations and the database's legacy top-level names are refused with a suggestion: `EST` is in the database but
 * is a fixed UTC-5 with no daylight saving (a link to America/Panama since 2024b), so a New York team's windows would
 * run an hour late from March to November; `PST` is not a zone at all. Pure.
 */
import tzdata from "tzdata";

const zones = (tzdata as { zones: Record<string, unknown>; version: string }).zones;
/** The IANA release the names come from. */
export const TZDATA_VERSION = (tzdata as { version: string }).version;

const byLowerCase = new Map(Object.keys(zones).map((z) => [z.toLowerCase(), z]));

/** What people write for a zone, mapped to the Area/Location name they mean (with daylight saving where it applies). */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  EST: "America/New_York",
  EDT: "America/New_York",
  EST5EDT: "America/New_York",
  CST: "America/Chicago",
  CDT: "America/Chicago",
  CST6CDT: "America/Chicago",
  MST: "America/Denver",
  MDT: "America/Denver",
  MST7MDT: "America/Denver",
  PST: "America/Los_Angeles",
  PDT: "America/Los_Angeles",
  PST8PDT: "America/Los_Angeles",
  HST: "Pacific/Honolulu",
  AKST: "America/Anchorage",
  GMT: "UTC",
  BST: "Europe/London",
  CET: "Europe/Paris",
  CEST: "Europe/Paris",
  EET: "Europe/Athens",
  WET: "Europe/Lisbon",
  MET: "Europe/Paris",
  IST: "Asia/Kolkata",
  JST: "Asia/Tokyo",
  KST: "Asia/Seoul",
  AEST: "Australia/Sydney",
  AEDT: "Australia/Sydney",
};

/** Where a database name links to (Asia/Calcutta → Asia/Kolkata); the name itself for a zone. */
function target(name: string): string {
  const z = zones[name];
  return typeof z === "string" ? z : name;
}

/**
 * Undefined when `name` is an accepted zone; otherwise what is wrong, with the name the user most likely meant.
 * Accepted: UTC, and names with a `/` that the database knows (zones, and links such as Asia/Calcutta or US/Eastern).
 */
export function timeZoneProblem(name: string): string | undefined {
  if (name === "UTC" || (name.includes("/") && name in zones)) return undefined;
  const upper = name.toUpperCase();
  const suggestion =
    ABBREVIATIONS[upper] ??
    (["UTC", "UCT", "ZULU", "UNIVERSAL", "GREENWICH", "GMT0", "GMT+0", "GMT-0"].includes(upper) ? "UTC" : undefined) ??
    (name in zones ? target(name) : undefined) ??
    (byLowerCase.has(name.toLowerCase()) ? target(byLowerCase.get(name.toLowerCase())!) : undefined);
  const why = ABBREVIATIONS[upper] && !name.includes("/") ? " (an abbreviation names no daylight-saving rule)" : "";
  const hint = suggestion && suggestion !== name ? `; did you mean ${suggestion}?` : "";
  return `must be an IANA time zone name such as America/New_York, Europe/London or UTC${why}${hint}`;
}
