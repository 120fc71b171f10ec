/**
 * The Cloudflare WAF expression that keeps the models host private: it blocks every request to that host that lacks
 * the access header with the right value. Pure.
 */

/** Quotes a value for a Cloudflare Rules language string literal. */
export function rulesString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * `(http.host eq "<host>" and not any(http.request.headers["<header>"][*] eq "<key>"))`. `eq` on the host, not
 * `contains` or `ends_with`: the rule must not touch the zone's other hosts. Header names are lowercase in
 * `http.request.headers`.
 */
export function gateExpression(host: string, headerName: string, key: string): string {
  return `(http.host eq ${rulesString(host)} and not any(http.request.headers[${rulesString(headerName.toLowerCase())}][*] eq ${rulesString(key)}))`;
}

type HeaderRole = "hop-by-hop" | "message framing" | "routing" | "credentials" | "set by Cloudflare" | "set by the fetcher";

/**
 * Header names the access key must not travel in, lowercase, by what gives them a meaning of their own on the way:
 * - hop-by-hop: intermediaries remove them before forwarding (RFC 9110 section 7.6.1,
 *   https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1, names Connection, Proxy-Connection, Keep-Alive, TE,
 *   Transfer-Encoding and Upgrade);
 * - message framing: where a message ends (Content-Length, RFC 9110 section 8.6; Trailer, 6.6.2; Expect, 10.1.1);
 * - routing: where it goes and whom it came from (Host, 7.2; Max-Forwards, 7.6.2; Via, 7.6.3; Forwarded, RFC 7239;
 *   the X-Forwarded-* and X-Real-IP fields proxies rewrite);
 * - credentials: caches, clients following a redirect and servers handle them on their own terms (Authorization,
 *   11.6.2; Proxy-Authorization, 11.7.2; Cookie, RFC 6265 section 5.4);
 * - set by Cloudflare: added or overwritten on the way in, and every `cf-` name is Cloudflare's
 *   (https://developers.cloudflare.com/fundamentals/reference/http-headers/);
 * - set by the fetcher: it sends Host, User-Agent and Range on every request itself.
 */
const RESERVED_HEADERS: Readonly<Record<string, HeaderRole>> = {
  connection: "hop-by-hop",
  "proxy-connection": "hop-by-hop",
  "keep-alive": "hop-by-hop",
  te: "hop-by-hop",
  "transfer-encoding": "hop-by-hop",
  upgrade: "hop-by-hop",
  "proxy-authenticate": "hop-by-hop",
  "content-length": "message framing",
  trailer: "message framing",
  expect: "message framing",
  host: "routing",
  "max-forwards": "routing",
  via: "routing",
  forwarded: "routing",
  "x-forwarded-for": "routing",
  "x-forwarded-host": "routing",
  "x-forwarded-proto": "routing",
  "x-real-ip": "routing",
  authorization: "credentials",
  "proxy-authorization": "credentials",
  cookie: "credentials",
  "accept-encoding": "set by Cloudflare",
  "true-client-ip": "set by Cloudflare",
  "cdn-loop": "set by Cloudflare",
  range: "set by the fetcher",
  "user-agent": "set by the fetcher",
};

/** Why the access key cannot travel in header `name` (case-insensitive); undefined when it can. */
export function reservedHeaderRole(name: string): HeaderRole | undefined {
  const lower = name.toLowerCase();
  return Object.hasOwn(RESERVED_HEADERS, lower) ? RESERVED_HEADERS[lower] : lower.startsWith("cf-") ? "set by Cloudflare" : undefined;
}

/** The name of the ruleset the gate lives in; another name on the zone's entry point means the rules are not ours. */
export const GATE_RULESET_NAME = "warmstart models gate";

/** What the Cloudflare API lists for a zone's rulesets (the fields the check needs). */
export interface ZoneRuleset {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly phase: string;
}

/**
 * The zone's custom-rules entry point when it exists and is not the gate: declaring the gate would replace every
 * rule in it (a zone has one entry-point ruleset per phase). Undefined when there is none, or it is ours.
 */
export function foreignCustomRulesEntryPoint(rulesets: readonly ZoneRuleset[]): ZoneRuleset | undefined {
  return rulesets.find((r) => r.kind === "zone" && r.phase === "http_request_firewall_custom" && r.name !== GATE_RULESET_NAME);
}
