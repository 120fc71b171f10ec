import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { originProblem, parseOriginList, warmupCors } from "../../container/warmupOrigins";

describe("an allowed origin is written as a browser sends it in Origin", () => {
  test.each(["https://app.example.com", "http://localhost:3000", "https://app.example.com:8443", "http://127.0.0.1:5173", "https://xn--bcher-kva.example"])("%s is one", (o) => {
    expect(originProblem(o)).toBeUndefined();
  });

  test.each([
    ["*", /not a wildcard/],
    ["https://*.example.com", /not a wildcard/],
    ["null", /sandboxed or file: pages, which any page can claim/],
    ["app.example.com", /scheme:\/\/host\[:port\], e\.g\. https:\/\/app\.example\.com$/],
    ["https://app.example.com/", /with no path, e\.g\. https:\/\/app\.example\.com$/],
    ["https://app.example.com/studio", /with no path, e\.g\. https:\/\/app\.example\.com$/],
    ["https://App.Example.com", /as the browser sends it.*e\.g\. https:\/\/app\.example\.com$/],
    ["https://app.example.com:443", /e\.g\. https:\/\/app\.example\.com$/],
    ["https://bücher.example", /e\.g\. https:\/\/xn--bcher-kva\.example$/],
    ["ftp://files.example.com", /http or https/],
    ["chrome-extension://abcdefghijklmnop", /http or https/],
  ])("%s is refused: %s", (o, message) => {
    expect(originProblem(o)).toMatch(message);
  });

  test("the origin of any web page's URL is accepted, and the URL itself only when it is that origin", () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ["http", "https"], withQueryParameters: true, withFragments: true }), (url) => {
        const origin = new URL(url).origin;
        expect(originProblem(origin)).toBeUndefined();
        if (url !== origin) expect(originProblem(url)).toBeDefined();
      }),
      { numRuns: 40 },
    );
  });

  test("WARMUP_ORIGINS is comma-separated; each bad one is named", () => {
    expect(parseOriginList(" https://a.example.com, http://localhost:3000 ,")).toEqual({ origins: ["https://a.example.com", "http://localhost:3000"], problems: [] });
    expect(parseOriginList(undefined)).toEqual({ origins: [], problems: [] });
    expect(parseOriginList("https://a.example.com/,*").problems).toEqual([
      '"https://a.example.com/" must be written as the browser sends it, scheme://host[:port] with no path, e.g. https://a.example.com',
      '"*" must be one origin, not a wildcard: list each of your app\'s origins, e.g. https://app.example.com',
    ]);
  });
});

describe("the CORS headers of /warmup (Fetch standard, CORS protocol)", () => {
  const allowed = ["https://app.example.com"];

  test("a preflight from an allowed origin echoes it, allows POST with content-type, and may be cached 2 h", () => {
    expect(warmupCors("https://app.example.com", allowed, true)).toEqual({
      allowed: true,
      headers: {
        vary: "Origin",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "7200",
      },
    });
  });

  test("the POST from an allowed origin names it; nothing is ever allowed to `*` or with credentials", () => {
    expect(warmupCors("https://app.example.com", allowed, false)).toEqual({ allowed: true, headers: { vary: "Origin", "access-control-allow-origin": "https://app.example.com" } });
  });

  test("another origin, or one that only looks like it, is refused without Access-Control-Allow-Origin", () => {
    for (const o of ["https://evil.example.net", "https://app.example.com.evil.example.net", "http://app.example.com", "https://APP.example.com", "null"]) {
      expect(warmupCors(o, allowed, true), o).toEqual({ allowed: false, headers: { vary: "Origin" } });
      expect(warmupCors(o, allowed, false), o).toEqual({ allowed: false, headers: { vary: "Origin" } });
    }
  });

  test("a request with no Origin (a backend, Cloud Scheduler) is not a browser's: CORS does not apply", () => {
    expect(warmupCors(undefined, [], false)).toEqual({ allowed: true, headers: { vary: "Origin" } });
  });
});
