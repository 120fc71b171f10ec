/**
 * The contract between the stack and the supervisor for warming from a browser: which pages may `POST /warmup`
 * (`warmstart:warmupOrigins`, the supervisor's WARMUP_ORIGINS) and the CORS headers it answers them with. Pure; the
 * stack checks each origin with the rule the supervisor applies at start, so a bad one fails the deploy, not the
 * instance.
 *
 * CORS as the Fetch standard has it (https://fetch.spec.whatwg.org/#http-cors-protocol): a browser sends `Origin` with
 * every cross-origin request and with any POST (https://fetch.spec.whatwg.org/#origin-header), and asks first with an
 * OPTIONS preflight only when the request is not "simple" (a body typed application/json, or a header such as
 * Authorization). The answer's Access-Control-Allow-Origin must equal the page's origin, byte for byte, or the page
 * cannot read the answer.
 */

/** The supervisor's variable: allowed origins, comma-separated. */
export const WARMUP_ORIGINS_ENV = "WARMUP_ORIGINS";

/**
 * How long a browser may reuse a preflight's answer. Chromium caps it at 7200 s, Firefox at 86400 s, and without the
 * header it is 5 s (https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Access-Control-Max-Age). The POST is
 * checked again whatever the cache says, so an origin removed from the list is refused at once.
 */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/**
 * The headers a page may send: none is needed (a bodiless POST is a simple request and sends no preflight);
 * content-type lets a page send a JSON body. Not Authorization: a browser cannot get through a private service's IAM
 * check (its preflight names the header without sending it, and Cloud Run refuses it before the container), and a
 * public service needs none.
 */
export const ALLOWED_REQUEST_HEADERS = "content-type";

/**
 * Why `v` is not an origin as a browser sends it, or undefined. An origin is scheme://host[:port], serialized: lower
 * case, no default port, no path or trailing slash, IDN hosts in punycode (URL's own `origin` is that serialization,
 * https://url.spec.whatwg.org/#concept-url-origin). Only http and https pages send a usable one. No wildcard: the
 * supervisor echoes an allowed origin (never `*`), and an app knows its origins.
 */
export function originProblem(v: string): string | undefined {
  if (v === "*" || v.includes("*")) return "must be one origin, not a wildcard: list each of your app's origins, e.g. https://app.example.com";
  if (v === "null") return 'is the origin of sandboxed or file: pages, which any page can claim; list real origins such as https://app.example.com';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return "must be an origin, scheme://host[:port], e.g. https://app.example.com";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return "must be an http or https origin, e.g. https://app.example.com";
  if (u.origin !== v) return `must be written as the browser sends it, scheme://host[:port] with no path, e.g. ${u.origin}`;
  return undefined;
}

/** WARMUP_ORIGINS as the supervisor reads it: origins separated by commas (none contains one). */
export function parseOriginList(text: string | undefined): { origins: string[]; problems: string[] } {
  const origins = (text ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  const problems = origins.flatMap((o) => {
    const p = originProblem(o);
    return p ? [`"${o}" ${p}`] : [];
  });
  return { origins, problems };
}

/** What the supervisor does with a request to /warmup, by its Origin header. */
export interface WarmupCors {
  /** False: a page from an origin not on the list; answered 403 with no Access-Control-Allow-Origin. */
  readonly allowed: boolean;
  /** Headers for the answer (a preflight's or the POST's). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The CORS part of an answer to /warmup. `origin` undefined: not from a browser page (a backend, Cloud Scheduler,
 * curl), which CORS does not concern. The answer varies by Origin, which `Vary` tells caches either way.
 */
export function warmupCors(origin: string | undefined, allowedOrigins: readonly string[], preflight: boolean): WarmupCors {
  const vary = { vary: "Origin" };
  if (origin === undefined) return { allowed: true, headers: vary };
  if (!allowedOrigins.includes(origin)) return { allowed: false, headers: vary };
  const allow = { ...vary, "access-control-allow-origin": origin };
  if (!preflight) return { allowed: true, headers: allow };
  return {
    allowed: true,
    headers: {
      ...allow,
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": ALLOWED_REQUEST_HEADERS,
      "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
    },
  };
}
