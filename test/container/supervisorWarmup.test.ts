// POST /warmup as pages call it on load (docs/prewarm.md), against the bundled supervisor and the fake model server.
import { spawn } from "node:child_process";
import type * as http from "node:http";
import { describe, expect, test } from "vitest";
import { BUNDLE, fakeStats, get, ready, startSupervisor, until, useSupervisor } from "../support/supervisorRun";

useSupervisor();

const APP = "https://app.example.com";
const CORS_HEADERS = ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers", "access-control-max-age", "vary"];
const cors = (h: http.IncomingHttpHeaders) => Object.fromEntries(CORS_HEADERS.filter((k) => h[k] !== undefined).map((k) => [k, h[k]]));
/** What a browser sends before a POST with a JSON body from a page on `origin`. */
const preflight = (origin: string) => ({ origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" });

describe("warming from a browser page (WARMUP_ORIGINS)", () => {
  test("a page on an allowed origin gets its preflight and its POST /warmup answered, naming its origin", async () => {
    const s = await startSupervisor({ WARMUP_ORIGINS: `${APP},http://localhost:3000` });
    await ready(s);
    const pre = await get(s.port, "/warmup", "OPTIONS", undefined, preflight(APP));
    expect(pre.status).toBe(204);
    expect(cors(pre.headers)).toEqual({
      "access-control-allow-origin": APP,
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": "content-type",
      "access-control-max-age": "7200",
      vary: "Origin",
    });
    const post = await get(s.port, "/warmup", "POST", "{}", { origin: APP, "content-type": "application/json" });
    expect([post.status, cors(post.headers)]).toEqual([200, { "access-control-allow-origin": APP, vary: "Origin" }]);
    expect(JSON.parse(post.body)).toEqual({ warm: true });
    const local = await get(s.port, "/warmup", "POST", undefined, { origin: "http://localhost:3000" });
    expect([local.status, local.headers["access-control-allow-origin"]]).toEqual([200, "http://localhost:3000"]);
  });

  test("a page on any other origin is refused, preflight and POST, with no Access-Control-Allow-Origin", async () => {
    const s = await startSupervisor({ WARMUP_ORIGINS: APP });
    await ready(s);
    for (const origin of ["https://evil.example.net", "https://app.example.com.evil.example.net", "http://app.example.com", "null"]) {
      const pre = await get(s.port, "/warmup", "OPTIONS", undefined, preflight(origin));
      expect([origin, pre.status, cors(pre.headers)]).toEqual([origin, 403, { vary: "Origin" }]);
      const post = await get(s.port, "/warmup?rerun=1", "POST", undefined, { origin });
      expect([origin, post.status, cors(post.headers)]).toEqual([origin, 403, { vary: "Origin" }]);
    }
    // Refused before anything ran: only the startup's warmup reached the model server.
    expect((await fakeStats(s)).warmups).toBe(1);
  });

  test("an origin that is not one as a browser sends it is bad configuration, exit 2 naming WARMUP_ORIGINS", async () => {
    const env = { MODEL_SERVER_CMD: "true", MODEL_SERVER_URL: "http://127.0.0.1:1", WARMUP_ORIGINS: `${APP}/, *` };
    const child = spawn(process.execPath, [BUNDLE], { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    expect(await new Promise((r) => child.once("exit", r))).toBe(2);
    expect(out).toMatch(/WARMUP_ORIGINS: \\"https:\/\/app\.example\.com\/\\" must be written as the browser sends it.*e\.g\. https:\/\/app\.example\.com; \\"\*\\" must be one origin, not a wildcard/);
  });
});

describe("a burst of page loads (warmed by a backend: no Origin header)", () => {
  test("while the instance starts, every call waits for the one startup warmup; once warm, calls answer at once", async () => {
    const s = await startSupervisor({}, { FAKE_START_DELAY_MS: "400" });
    await until(async () => (await get(s.port, "/healthz")).status === 503);
    const burst = await Promise.all(Array.from({ length: 20 }, () => get(s.port, "/warmup", "POST")));
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(burst.every((r) => JSON.parse(r.body).warm === true)).toBe(true);
    expect((await get(s.port, "/healthz")).status).toBe(200);
    const again = await Promise.all(Array.from({ length: 20 }, () => get(s.port, "/warmup", "POST")));
    expect(again.map((r) => [r.status, JSON.parse(r.body)])).toEqual(Array(20).fill([200, { warm: true }]));
    // 40 calls, one warmup request to the model server: the startup's.
    expect((await fakeStats(s)).warmups).toBe(1);
    // With no WARMUP_ORIGINS, no page may call it from a browser.
    expect((await get(s.port, "/warmup", "POST", undefined, { origin: APP })).status).toBe(403);
  });
});
