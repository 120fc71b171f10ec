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
