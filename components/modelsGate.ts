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
