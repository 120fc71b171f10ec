import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { budgetGuard, handleMessage, handleNotification, type GuardConfig } from "../../functions/guardHandler";
import { googleApis, metadataToken } from "../../functions/googleApis";
import { decide, INITIAL_STATE, parseGuardState, type BudgetNotification, type GuardMessage } from "../../functions/guardState";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";
import { startFakeGoogle, type FakeGoogle } from "../support/fakeGoogle";
import { GUARD_ENTRY_POINT } from "../../functions/guardContract";

const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const JOBS = ["projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0855-to-1", "projects/p/locations/us-central1/jobs/imagegen-cool-weekdays-2100-to-0"];
const SCHEDULE = scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }));
const STATE = { bucket: "p-imagegen-guard", object: "guard-state.json" };
/** A Tuesday at 12:00 UTC, inside the window: a release puts min instances back to 1. */
const NOW = new Date("2026-12-01T12:00:00Z");

let google: FakeGoogle;
let cfg: GuardConfig;
beforeEach(async () => {
  google = await startFakeGoogle({ services: { [SERVICE]: { minInstanceCount: 1 } }, jobs: Object.fromEntries(JOBS.map((j) => [j, "ENABLED"])) });
  cfg = { service: SERVICE, jobs: JOBS, ratio: 1, maxInstances: 0, schedule: SCHEDULE, state: STATE, dailyThresholdSeconds: 0 };
  // The guard logs JSON lines for Cloud Logging; keep them out of the test report.
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(async () => {
  await google.close();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const api = () => googleApis(metadataToken(`${google.base}/token`), { run: google.base, scheduler: google.base, storage: google.base, monitoring: google.base });
const msg = (costAmount: number, costIntervalStart = "2026-11-01T07:00:00Z", budgetAmount = 600): BudgetNotification => ({
  budgetDisplayName: "imagegen monthly (warmstart)",
  costAmount,
  costIntervalStart,
  budgetAmount,
  currencyCode: "USD",
});
const handle = (n: BudgetNotification, c: GuardConfig = cfg, now = NOW) => handleNotification(n, c, api(), now);
const jobStates = () => JOBS.map((j) => google.jobs.get(j)!.state);
const stored = () => parseGuardState(google.objects.get(`${STATE.bucket}/${STATE.object}`)!.text);
const mutations = () => google.calls.filter((c) => !c.startsWith("GET"));

describe("budget guard handler", () => {
  test("at the budget: the trip is recorded first, then min instances 0 and every warm-window job paused", async () => {
    expect((await handle(msg(612.5))).outcome).toBe("hold");
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 0 });
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
    expect(stored().trips.monthly).toEqual({ budget: "monthly", periodStart: "2026-11-01T07:00:00Z", since: NOW.toISOString(), costAmount: 612.5, budgetAmount: 600, currencyCode: "USD" });
    expect(mutations()[0]).toMatch(/^POST \/upload\/storage\/v1\/b\/p-imagegen-guard\/o\?uploadType=media&name=guard-state\.json&ifGenerationMatch=0$/);
    expect(mutations()[1]).toBe(`PATCH /v2/${SERVICE}?updateMask=scaling.minInstanceCount`);
    expect(google.tokens.every((t) => t === "Bearer fake-token")).toBe(true);
  });

  test("caps max instances too when guardMaxInstances is set, and lifts the cap on release", async () => {
    await handle(msg(700), { ...cfg, maxInstances: 1 });
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 1 });
    await handle(msg(3, "2026-12-01T08:00:00Z"), { ...cfg, maxInstances: 1 });
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 0 });
  });

  test("a second over-budget notification reads each job and pauses none again (Cloud Scheduler refuses that)", async () => {
    await handle(msg(612.5));
    const before = google.calls.length;
    expect((await handle(msg(640))).outcome).toBe("hold");
    expect(google.calls.slice(before).filter((c) => c.includes(":pause"))).toEqual([]);
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
  });

  test("a pause that fails once: the redelivered message pauses the rest", async () => {
    google.failNext("POST", `/v1/${JOBS[1]}:pause`, 503);
    await expect(handle(msg(612.5))).rejects.toThrow(/HTTP 503/);
    expect(jobStates()).toEqual(["PAUSED", "ENABLED"]);
    await handle(msg(612.5));
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
  });

  test("the trip is in the state even when acting on it failed, so a deploy meanwhile keeps the service down", async () => {
    google.failNext("PATCH", "/v2/", 500);
    await expect(handle(msg(612.5))).rejects.toThrow(/PATCH .* HTTP 500/);
    expect(stored().trips.monthly?.periodStart).toBe("2026-11-01T07:00:00Z");
  });

  test("below the budget nothing is changed but the newest period is remembered", async () => {
    expect((await handle(msg(300))).outcome).toBe("none");
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 1 });
    expect(mutations().filter((c) => !c.includes("/upload/storage/"))).toEqual([]);
    expect(stored()).toEqual({ version: 2, periods: { monthly: "2026-11-01T07:00:00Z" }, trips: {} });
  });

  test("a late below-budget message from the tripped period does not undo the trip", async () => {
    await handle(msg(612.5));
    expect((await handle(msg(590))).outcome).toBe("hold");
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
  });

  test("the first message of a new budget period resumes the jobs and puts min instances back on the schedule", async () => {
    await handle(msg(612.5));
    const r = await handle(msg(4.2, "2026-12-01T08:00:00Z"));
    expect(r.outcome).toBe("release");
    expect(r.enforced?.changed).toEqual(JOBS);
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(1);
    expect(stored()).toEqual({ version: 2, periods: { monthly: "2026-12-01T08:00:00Z" }, trips: {} });
  });

  test("a late over-budget message of last period, after this period's release, does not trip again", async () => {
    await handle(msg(612.5));
    await handle(msg(4.2, "2026-12-01T08:00:00Z"));
    expect((await handle(msg(650, "2026-11-01T07:00:00Z"))).outcome).toBe("none");
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
  });

  test("raising the budget in the same period releases the guard", async () => {
    await handle(msg(612.5));
    expect((await handle(msg(615, "2026-11-01T07:00:00Z", 900))).outcome).toBe("release");
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
  });

  test("a resume that fails half-way is finished by the next delivery", async () => {
    await handle(msg(612.5));
    google.failNext("POST", `/v1/${JOBS[1]}:resume`, 503);
    await expect(handle(msg(4.2, "2026-12-01T08:00:00Z"))).rejects.toThrow(/HTTP 503/);
    expect(stored().releasing).toBeDefined();
    expect((await handle(msg(4.2, "2026-12-01T08:00:00Z"))).outcome).toBe("release");
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
    expect(stored().releasing).toBeUndefined();
  });

  test("a job the system disabled is left alone and does not stop the others", async () => {
    google.jobs.get(JOBS[0])!.state = "UPDATE_FAILED";
    await handle(msg(612.5));
    expect(jobStates()).toEqual(["UPDATE_FAILED", "PAUSED"]);
  });
});

describe("guard state", () => {
  /** One period's notifications, cost rising through the month as it does; `over` from the index on. */
  const periodMessages = (start: string, costs: number[]) => costs.map((c) => msg(c, start));
  const PERIODS = ["2026-10-01T07:00:00Z", "2026-11-01T07:00:00Z", "2026-12-01T08:00:00Z"];

  const DAILY_INCIDENT: GuardMessage = { kind: "incident", incident: { incidentId: "0.daily", state: "open", observedValue: 127_000, test: false } };
  /** The first midnight tick after NOW (UTC, the schedule's zone): the daily hold ends there. */
  const NEXT_DAY = new Date("2026-12-02T00:00:10Z");

  test("any order of duplicate, late and failed-once deliveries ends held while over budget or the day's limit, released in a new period and at midnight", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Per period: rising costs, some above 600.
        fc.tuple(...PERIODS.map(() => fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 4 }).map((a) => a.sort((x, y) => x - y)))),
        // Deliveries: each message at most three times, in a shuffled order (Eventarc is at-least-once, unordered).
        fc.infiniteStream(fc.integer({ min: 0, max: 1000 })),
        fc.array(fc.constantFrom(":pause", ":resume", "PATCH"), { maxLength: 3 }),
        // Copies of a daily-limit incident among them (0: none), and a midnight tick of today (it ends nothing).
        fc.integer({ min: 0, max: 2 }),
        async (costs, randoms, failures, incidents) => {
          const daily = { ...cfg, dailyThresholdSeconds: 126_678.49 };
          const deliver = async (m: GuardMessage, now = NOW) => {
            // Pub/Sub redelivers a failed message until it succeeds.
            for (let attempt = 0; attempt < 10 && (await handleMessage(m, daily, api(), now).then(() => false, () => true)); attempt++);
          };
          for (const [j] of google.jobs) google.jobs.get(j)!.state = "ENABLED";
          google.objects.clear();
          google.services.get(SERVICE)!.scaling = { minInstanceCount: 1 };
          const all: GuardMessage[] = [
            ...PERIODS.flatMap((p, i) => periodMessages(p, costs[i])).map((notification) => ({ kind: "budget" as const, notification })),
            ...Array<GuardMessage>(incidents).fill(DAILY_INCIDENT),
            { kind: "tick" },
          ];
          const it = randoms[Symbol.iterator]();
          const next = () => it.next().value as number;
          const deliveries = all.flatMap((m) => Array.from({ length: 1 + (next() % 3) }, () => m)).sort(() => (next() % 3) - 1);
          for (const f of failures) google.failNext(f === "PATCH" ? "PATCH" : "POST", f === "PATCH" ? "/v2/" : "/v1/", 503);
          for (const m of deliveries) await deliver(m);
          const newest = costs[PERIODS.length - 1];
          const overNow = newest.some((c) => c >= 600);
          // The newest period decides the monthly hold: any over-budget message of it holds; none releases what an
          // older one tripped. The incident holds for the rest of the day, whatever the budget messages say.
          const heldToday = overNow || incidents > 0;
          expect(jobStates()).toEqual(heldToday ? ["PAUSED", "PAUSED"] : ["ENABLED", "ENABLED"]);
          if (heldToday) expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(0);
          expect(Boolean(stored().trips.monthly)).toBe(overNow);
          expect(Boolean(stored().trips.daily)).toBe(incidents > 0);
          // The next local day's tick ends the daily hold, never the monthly one.
          await deliver({ kind: "tick" }, NEXT_DAY);
          expect(jobStates()).toEqual(overNow ? ["PAUSED", "PAUSED"] : ["ENABLED", "ENABLED"]);
          expect(stored().trips).toEqual(overNow ? { monthly: expect.anything() } : {});
        },
      ),
      { numRuns: 25 },
    );
  });

  test("decide: a stale message changes nothing; the trip follows the newest period", () => {
    const now = new Date("2026-11-20T00:00:00Z");
    const tripped = decide(INITIAL_STATE, msg(700), 1, now).next;
    expect(decide(tripped, msg(100, "2026-10-01T07:00:00Z"), 1, now)).toMatchObject({ next: tripped, enforce: "hold", reason: expect.stringMatching(/^stale/) });
    const onward = decide(tripped, msg(650, "2026-12-01T08:00:00Z"), 1, now).next;
    expect(onward.trips.monthly).toMatchObject({ periodStart: "2026-12-01T08:00:00Z", since: tripped.trips.monthly!.since });
  });

  test("exactly ratio x budget trips; a cent below does not", () => {
    const now = new Date();
    expect(decide(INITIAL_STATE, msg(540, undefined, 600), 0.9, now).enforce).toBe("hold");
    expect(decide(INITIAL_STATE, msg(539.99, undefined, 600), 0.9, now).enforce).toBe("none");
  });

  test("a stored state that is not one is refused, not acted on", () => {
    expect(() => parseGuardState('{"version":3,"periods":{},"trips":{}}')).toThrow(/not a version 1 or 2 state/);
    expect(() => parseGuardState('{"version":1,"periods":{},"trip":{"budget":"monthly"}}')).toThrow(/trip must have/);
    expect(() => parseGuardState('{"version":2,"periods":{},"trips":{"daily":{"budget":"daily","incidentId":"0.x"}}}')).toThrow(/daily trip must have/);
  });
});

describe("budgetGuard entry point", () => {
  const event = (data: unknown) => ({ data: { message: { data: Buffer.from(typeof data === "string" ? data : JSON.stringify(data)).toString("base64"), messageId: "m-1" } } });
  const env = (ratio = "1") => {
    vi.stubEnv("GUARD_SERVICE", SERVICE);
    vi.stubEnv("GUARD_JOBS", JOBS.join(","));
    vi.stubEnv("GUARD_RATIO", ratio);
    vi.stubEnv("GUARD_STATE", `gs://${STATE.bucket}/${STATE.object}`);
    vi.stubEnv("GUARD_SCHEDULE", JSON.stringify(SCHEDULE));
    vi.stubEnv("WARMSTART_GOOGLE_APIS", google.base);
    vi.stubEnv("GUARD_TOKEN_URL", `${google.base}/token`);
  };

  test("reads the Pub/Sub CloudEvent and its environment", async () => {
    env("0.9");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await budgetGuard(event(msg(545)));
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(0); // 545 >= 0.9 x 600
    expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({ severity: "WARNING", message: expect.stringMatching(/^budget guard tripped/), costAmount: 545 });
  });

  test("tells a Monitoring incident and the midnight tick from a budget notification, and logs which hold tripped it", async () => {
    env();
    vi.stubEnv("GUARD_DAILY_THRESHOLD", "126678.49");
    vi.stubEnv("GUARD_DAILY_LIMIT", "50");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    // As Cloud Monitoring's Pub/Sub channel publishes it (schema 1.2; values as strings, times in epoch seconds).
    const incident = { incident: { incident_id: "0.nqp7rsdkc4mv", state: "open", started_at: 1764590100, ended_at: null, policy_name: "warmstart imagegen: daily spend limit", observed_value: "127003.5", threshold_value: "126678.49" }, version: "1.2" };
    await budgetGuard(event(incident), { now: () => NOW });
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(0);
    expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({
      severity: "WARNING",
      message: "budget guard tripped by the daily spend limit: min instances set to 0 and warm-window jobs paused",
      messageKind: "Monitoring incident",
      trippedBy: "daily",
      incidentId: "0.nqp7rsdkc4mv",
      dailySpendLimit: 50,
    });
    await budgetGuard(event({ warmstart: "guard-midnight-tick" }), { now: () => new Date("2026-12-02T00:00:05Z") });
    expect(JSON.parse(log.mock.calls[1][0] as string)).toMatchObject({ message: expect.stringMatching(/^budget guard released/), messageKind: "midnight tick", released: ["daily"] });
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
  });

  test("drops (acknowledges) a message that is not a budget notification, logging why", async () => {
    env();
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await budgetGuard(event("not json"));
    await budgetGuard(event({ costAmount: "lots" }));
    expect(google.calls).toEqual([]);
    expect(log.mock.calls.map((c) => JSON.parse(c[0] as string).message)).toEqual(Array(2).fill("not a budget notification, Monitoring incident or midnight tick; dropped"));
    // With its Pub/Sub message id, to find it in the subscription.
    expect(JSON.parse(log.mock.calls[0][0] as string)).toEqual({ severity: "ERROR", message: "not a budget notification, Monitoring incident or midnight tick; dropped", component: "warmstart-budget-guard", messageId: "m-1" });
  });
});

describe("the guard's log lines, as Cloud Logging shows them", () => {
  const lines = () => (vi.mocked(console.log).mock.calls as unknown[][]).map((c) => JSON.parse(c[0] as string) as Record<string, unknown>);
  const COMPONENT = "warmstart-budget-guard";
  const monthlyTrip = { budget: "monthly", periodStart: "2026-11-01T07:00:00Z", since: NOW.toISOString(), costAmount: 612.5, budgetAmount: 600, currencyCode: "USD" };
  const notified = (costAmount: number, costIntervalStart: string) => ({ messageKind: "budget notification", costAmount, budgetAmount: 600, currencyCode: "USD", costIntervalStart });

  test("a trip, a notification while held, a release and one that changes nothing: each line in full", async () => {
    await handle(msg(612.5));
    await handle(msg(640));
    await handle(msg(3, "2026-12-01T08:00:00Z"));
    await handle(msg(4, "2026-12-01T08:00:00Z"));
    expect(lines()).toEqual([
      {
        severity: "WARNING",
        message: "budget guard tripped by the monthly budget: min instances set to 0 and warm-window jobs paused",
        component: COMPONENT,
        ...notified(612.5, "2026-11-01T07:00:00Z"),
        reason: "tripped: 612.5 >= 1 x 600",
        trippedBy: "monthly",
        heldBy: ["monthly"],
        service: SERVICE,
        scaling: { minInstanceCount: 0 },
        pausedJobs: JOBS,
        trips: { monthly: monthlyTrip },
      },
      {
        severity: "WARNING",
        message: "budget guard holds (the monthly budget): the service stays down",
        component: COMPONENT,
        ...notified(640, "2026-11-01T07:00:00Z"),
        reason: "still over: 640 >= 1 x 600",
        heldBy: ["monthly"],
        service: SERVICE,
        scaling: { minInstanceCount: 0 },
        pausedJobs: [],
        trips: { monthly: monthlyTrip },
      },
      {
        severity: "INFO",
        message: "budget guard released: warm-window jobs resumed and min instances back on the schedule",
        component: COMPONENT,
        ...notified(3, "2026-12-01T08:00:00Z"),
        reason: "released: a new monthly period began 2026-12-01T08:00:00Z",
        released: ["monthly"],
        resumedJobs: JOBS,
        scaling: { minInstanceCount: 1 },
      },
      { severity: "INFO", message: "no action: below the line: 4 < 1 x 600", component: COMPONENT, ...notified(4, "2026-12-01T08:00:00Z"), reason: "below the line: 4 < 1 x 600" },
    ]);
  });

  test("an incident that trips the daily hold logs the limit and the threshold; a console test incident is marked a test", async () => {
    const daily = { ...cfg, dailyThresholdSeconds: 126678.49, dailySpendLimit: 50 };
    const incident = (test?: true): GuardMessage => ({
      kind: "incident",
      incident: { incidentId: "0.nqp7", state: "open", policyName: "warmstart imagegen: daily spend limit", observedValue: 127003.5, startedAt: 1764590100, test: test ?? false },
    });
    await handleMessage(incident(), daily, api(), NOW);
    await handleMessage(incident(true), daily, api(), NOW);
    const [trip, again] = lines();
    const fromIncident = { messageKind: "Monitoring incident", incidentId: "0.nqp7", incidentState: "open", policyName: "warmstart imagegen: daily spend limit", observedValue: 127003.5 };
    expect(trip).toMatchObject({ message: "budget guard tripped by the daily spend limit: min instances set to 0 and warm-window jobs paused", ...fromIncident, trippedBy: "daily", heldBy: ["daily"], dailySpendLimit: 50, dailyThresholdSeconds: 126678.49 });
    expect(trip).not.toHaveProperty("test");
    expect(again).toMatchObject({ message: "budget guard holds (the daily spend limit): the service stays down", ...fromIncident, test: true, reason: "a test notification from Cloud Monitoring (incident 0.nqp7): not acted on" });
    // Only a trip by the daily limit names it.
    expect(again).not.toHaveProperty("dailySpendLimit");
  });

  test("loading the module registers the CloudEvent function under the entry point the deployment names", async () => {
    const { getFunction } = await import("@google-cloud/functions-framework/testing");
    expect(typeof getFunction(GUARD_ENTRY_POINT)).toBe("function");
  });
});
