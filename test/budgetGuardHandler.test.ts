import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { budgetGuard, handleNotification, type BudgetNotification, type GuardConfig } from "../functions/budgetGuard";

const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const JOBS = ["projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0855-to-1", "projects/p/locations/us-central1/jobs/imagegen-cool-weekdays-2100-to-0"];

/** Stands in for the metadata server, the Cloud Run Admin API and the Cloud Scheduler API, keeping their state. */
async function fakeGoogle(opts: { failPatch?: boolean } = {}) {
  const state = {
    scaling: { minInstanceCount: 1, maxInstanceCount: 2 } as Record<string, number>,
    jobs: Object.fromEntries(JOBS.map((j) => [j, { state: "ENABLED", userUpdateTime: "2026-10-01T00:00:00Z" }])) as Record<string, { state: string; userUpdateTime: string }>,
    /** What userUpdateTime a pause or resume records. */
    clock: "2026-11-20T10:00:00Z",
    calls: [] as string[],
    auth: [] as (string | undefined)[],
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      state.calls.push(`${req.method} ${url.pathname}${url.search}`);
      const send = (status: number, data: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(data));
      if (url.pathname === "/token") return req.headers["metadata-flavor"] === "Google" ? send(200, { access_token: "tok" }) : send(403, {});
      state.auth.push(req.headers.authorization);
      if (req.method === "PATCH" && url.pathname === `/v2/${SERVICE}`) {
        if (opts.failPatch) return send(500, { error: "backend" });
        const patch = JSON.parse(body).scaling;
        for (const field of url.searchParams.get("updateMask")!.split(",")) {
          const key = field.replace("scaling.", "");
          state.scaling[key] = patch[key];
        }
        return send(200, { name: "operations/1" });
      }
      const m = /^\/v1\/(.+?)(:pause|:resume)?$/.exec(url.pathname);
      const job = m && state.jobs[m[1]];
      if (!job) return send(404, {});
      if (m![2] === ":pause") Object.assign(job, { state: "PAUSED", userUpdateTime: state.clock });
      if (m![2] === ":resume") Object.assign(job, { state: "ENABLED", userUpdateTime: state.clock });
      return send(200, job);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg: GuardConfig = { service: SERVICE, jobs: JOBS, ratio: 1, maxInstances: 0, runApi: base, schedulerApi: base, tokenUrl: `${base}/token` };
  return { state, cfg, base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let close: (() => Promise<void>) | undefined;
// The guard logs JSON lines for Cloud Logging; keep them out of the test report.
beforeEach(() => void vi.spyOn(console, "log").mockImplementation(() => undefined));
afterEach(async () => {
  await close?.();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const msg = (costAmount: number, costIntervalStart = "2026-11-01T08:00:00Z"): BudgetNotification => ({
  budgetDisplayName: "imagegen monthly (warmstart)",
  alertThresholdExceeded: costAmount >= 600 ? 1.0 : 0.5,
  costAmount,
  costIntervalStart,
  budgetAmount: 600,
  currencyCode: "USD",
});

describe("budget guard handler", () => {
  test("at the budget: min instances to 0 (mask sent) and every warm-window job paused", async () => {
    const g = await fakeGoogle();
    close = g.close;
    expect(await handleNotification(msg(612.5), g.cfg)).toEqual({ action: "tripped", paused: JOBS });
    expect(g.state.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 2 });
    expect(Object.values(g.state.jobs).map((j) => j.state)).toEqual(["PAUSED", "PAUSED"]);
    expect(g.state.calls).toContain(`PATCH /v2/${SERVICE}?updateMask=scaling.minInstanceCount`);
    expect(g.state.auth.every((a) => a === "Bearer tok")).toBe(true);
  });

  test("caps max instances too when guardMaxInstances is set", async () => {
    const g = await fakeGoogle();
    close = g.close;
    await handleNotification(msg(700), { ...g.cfg, maxInstances: 1 });
    expect(g.state.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 1 });
  });

  test("a duplicate notification is harmless", async () => {
    const g = await fakeGoogle();
    close = g.close;
    await handleNotification(msg(612.5), g.cfg);
    await handleNotification(msg(612.5), g.cfg);
    expect(g.state.scaling.minInstanceCount).toBe(0);
    expect(Object.values(g.state.jobs).map((j) => j.state)).toEqual(["PAUSED", "PAUSED"]);
  });

  test("below the budget nothing changes", async () => {
    const g = await fakeGoogle();
    close = g.close;
    expect((await handleNotification(msg(300), g.cfg)).action).toBe("none");
    expect(g.state.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 2 });
    expect(g.state.calls.filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  test("a late below-budget message from the tripped period does not undo the trip", async () => {
    const g = await fakeGoogle();
    close = g.close;
    await handleNotification(msg(612.5), g.cfg);
    expect((await handleNotification(msg(590), g.cfg)).action).toBe("none");
    expect(Object.values(g.state.jobs).map((j) => j.state)).toEqual(["PAUSED", "PAUSED"]);
  });

  test("the first message of a new budget period resumes the jobs", async () => {
    const g = await fakeGoogle();
    close = g.close;
    await handleNotification(msg(612.5), g.cfg);
    g.state.clock = "2026-12-01T08:10:00Z";
    expect(await handleNotification(msg(4.2, "2026-12-01T08:00:00Z"), g.cfg)).toEqual({ action: "resumed", resumed: JOBS });
    expect(Object.values(g.state.jobs).map((j) => j.state)).toEqual(["ENABLED", "ENABLED"]);
  });

  test("an API failure throws, so Pub/Sub delivers the message again", async () => {
    const g = await fakeGoogle({ failPatch: true });
    close = g.close;
    await expect(handleNotification(msg(612.5), g.cfg)).rejects.toThrow(/PATCH .* HTTP 500/);
  });
});

describe("budgetGuard entry point", () => {
  const event = (data: unknown) => ({ data: { message: { data: Buffer.from(typeof data === "string" ? data : JSON.stringify(data)).toString("base64") } } });

  test("reads the Pub/Sub CloudEvent and its environment", async () => {
    const g = await fakeGoogle();
    close = g.close;
    vi.stubEnv("GUARD_SERVICE", SERVICE);
    vi.stubEnv("GUARD_JOBS", JOBS.join(","));
    vi.stubEnv("GUARD_RATIO", "0.9");
    vi.stubEnv("GUARD_RUN_API", g.base);
    vi.stubEnv("GUARD_SCHEDULER_API", g.base);
    vi.stubEnv("GUARD_TOKEN_URL", `${g.base}/token`);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await budgetGuard(event(msg(545)));
    expect(g.state.scaling.minInstanceCount).toBe(0); // 545 >= 0.9 x 600
    expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({ severity: "WARNING", message: expect.stringMatching(/budget guard tripped/), costAmount: 545 });
  });

  test("drops a message that is not a budget notification, logging why", async () => {
    const g = await fakeGoogle();
    close = g.close;
    vi.stubEnv("GUARD_SERVICE", SERVICE);
    vi.stubEnv("GUARD_TOKEN_URL", `${g.base}/token`);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await budgetGuard(event("not json"));
    await budgetGuard(event({ costAmount: "lots" }));
    expect(g.state.calls).toEqual([]);
    expect(log.mock.calls.map((c) => JSON.parse(c[0] as string).message)).toEqual(["not a budget notification; dropped", "not a budget notification; dropped"]);
  });
});
