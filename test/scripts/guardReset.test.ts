import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeEach, describe, expect, test } from "vitest";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";
import { nextPeriodStart, releasableNow, type GuardState } from "../../functions/guardState";
import { dryRunFetch, reset, targetsFromOutputs, type Change, type ResetTargets } from "../../scripts/guard-reset";
import { projectTempDir } from "../harness";
import { startFakeGoogle, type FakeGoogle } from "../support/fakeGoogle";

const ROOT = path.resolve(__dirname, "../..");
const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const JOBS = ["projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0855-to-1", "projects/p/locations/us-central1/jobs/imagegen-cool-weekdays-2100-to-0", "projects/p/locations/us-central1/jobs/imagegen-warmup-weekdays-0900"];
const SCHEDULE = scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }));
const STATE_URL = "gs://p-imagegen-guard/guard-state.json";
const STATE_KEY = "p-imagegen-guard/guard-state.json";
/** Tuesday 2026-11-24 12:00 UTC: inside the window (level 1), in the period that began 2026-11-01 (Pacific). */
const NOW = new Date("2026-11-24T12:00:00Z");
const TRIPPED: GuardState = {
  version: 2,
  periods: { monthly: "2026-11-01T07:00:00Z" },
  trips: { monthly: { budget: "monthly", periodStart: "2026-11-01T07:00:00Z", since: "2026-11-20T10:00:00.000Z", costAmount: 612, budgetAmount: 600, currencyCode: "USD" } },
};
const OUTPUTS = {
  serviceResourceName: SERVICE,
  warmJobResourceNames: JOBS,
  warmScheduleEdges: SCHEDULE,
  guardStateObject: STATE_URL,
  guardSettings: { ratio: 1, monthlyBudget: 600, maxInstances: 1 },
};
const targets = (monthlyBudget = 600): ResetTargets => targetsFromOutputs({ ...OUTPUTS, guardSettings: { ...OUTPUTS.guardSettings, monthlyBudget } }, "prod");

describe("when a person may release the guard (the guard's own rules, asked for its next notification)", () => {
  test.each([
    ["no trip", { version: 2, periods: {}, trips: {} } as GuardState, 600, NOW, true, /does not hold/],
    ["still over the same budget", TRIPPED, 600, NOW, false, /holds since 2026-11-20.*612 USD is at or above 1 x 600.*more than 612/],
    ["the budget raised above the trip's cost", TRIPPED, 700, NOW, true, /raised to 700/],
    ["raised, but not above the cost", TRIPPED, 612, NOW, false, /at or above 1 x 612/],
    ["the next period surely begun", TRIPPED, 600, new Date("2026-12-01T08:00:00Z"), true, /new budget period/],
    ["the next period's first hour (a DST change may not have let it begin)", TRIPPED, 600, new Date("2026-12-01T07:30:00Z"), false, /next budget period \(by 2026-12-01T08:00:00.000Z\)/],
  ] as const)("%s", (_, state, monthlyBudget, now, release, reason) => {
    const v = releasableNow(state, { ratio: 1, monthlyBudget }, now);
    expect(v.release).toBe(release);
    expect(v.reason).toMatch(reason);
  });

  test("the next period is never assumed early: a month later plus the hour a DST change can move it", () => {
    expect(nextPeriodStart("2026-11-01T07:00:00Z").toISOString()).toBe("2026-12-01T08:00:00.000Z");
    expect(nextPeriodStart("2026-03-01T08:00:00Z").toISOString()).toBe("2026-04-01T09:00:00.000Z");
  });
});

let google: FakeGoogle;
const init = (state: GuardState | undefined, cap = 1) => {
  google.services.get(SERVICE)!.scaling.maxInstanceCount = cap;
  if (state) google.objects.set(STATE_KEY, { text: JSON.stringify(state), generation: 7 });
};
beforeEach(async () => {
  google = await startFakeGoogle({ services: { [SERVICE]: { minInstanceCount: 0 } }, jobs: Object.fromEntries(JOBS.map((j) => [j, "PAUSED"])) });
});
afterEach(() => google.close());
const endpoints = () => ({ run: google.base, scheduler: google.base, storage: google.base, monitoring: google.base });
const writes = (g: FakeGoogle) => g.calls.filter((c) => !c.startsWith("GET "));

describe("npm run guard:reset", () => {
  test("after a raised budget: the trip cleared, every job resumed, the cap lifted, min instances at the schedule's level", async () => {
    init(TRIPPED);
    const outcome = await reset(targets(700), async () => "fake-token", NOW, endpoints());
    expect(outcome).toMatchObject({ kind: "reset", stateCleared: true, before: { minInstanceCount: 0, maxInstanceCount: 1 }, enforced: { changed: JOBS } });
    expect(JSON.parse(google.objects.get(STATE_KEY)!.text)).toEqual({ version: 2, periods: TRIPPED.periods, trips: {} });
    expect([...google.jobs.values()].map((j) => j.state)).toEqual(["ENABLED", "ENABLED", "ENABLED"]);
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 0 });
    // The state is written first, under its generation: a deploy running meanwhile no longer sees a trip.
    expect(writes(google)[0]).toMatch(/^POST \/upload\/storage\/v1\/b\/p-imagegen-guard\/o\?uploadType=media&name=guard-state\.json&ifGenerationMatch=7$/);
  });

  test("refuses while the budget is still over, and changes nothing", async () => {
    init(TRIPPED);
    const outcome = await reset(targets(600), async () => "fake-token", NOW, endpoints());
    expect(outcome).toMatchObject({ kind: "refused", reason: expect.stringMatching(/Raise the budget to more than 612/) });
    expect(writes(google)).toEqual([]);
  });

  test("after a release by hand that left the cap: no trip, yet the jobs and the cap are put right", async () => {
    init({ version: 2, periods: TRIPPED.periods, trips: {} }, 2);
    google.jobs.get(JOBS[2])!.state = "ENABLED";
    const outcome = await reset(targets(), async () => "fake-token", NOW, endpoints());
    expect(outcome).toMatchObject({ kind: "reset", stateCleared: false, enforced: { changed: JOBS.slice(0, 2), unchanged: [JOBS[2]] } });
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 0 });
    expect(writes(google).some((c) => c.includes("/upload/"))).toBe(false);
  });

  test("--dry-run makes the reads only, and prints exactly the writes a real run makes", async () => {
    init(TRIPPED);
    const changes: Change[] = [];
    await reset(targets(700), async () => "fake-token", NOW, endpoints(), dryRunFetch(changes));
    expect(writes(google)).toEqual([]);
    const real = await startFakeGoogle({ services: { [SERVICE]: { minInstanceCount: 0, maxInstanceCount: 1 } }, jobs: Object.fromEntries(JOBS.map((j) => [j, "PAUSED"])) });
    real.objects.set(STATE_KEY, { text: JSON.stringify(TRIPPED), generation: 7 });
    try {
      await reset(targets(700), async () => "fake-token", NOW, { run: real.base, scheduler: real.base, storage: real.base, monitoring: real.base });
      const asCalls = changes.map((c) => `${c.method} ${c.url.slice(google.base.length)}`);
      expect(asCalls).toEqual(writes(real));
      expect(asCalls).toHaveLength(1 + JOBS.length + 1);
    } finally {
      await real.close();
    }
  });

  test("stack outputs from an older deploy are named, with what to do", () => {
    expect(() => targetsFromOutputs({ serviceUrl: "https://x" }, "prod")).toThrow(/stack prod has no output serviceResourceName, warmJobResourceNames, warmScheduleEdges: .*run pulumi up first/);
    expect(() => targetsFromOutputs({ ...OUTPUTS, warmJobResourceNames: ["imagegen-warm"] }, "prod")).toThrow(/output warmJobResourceNames: "imagegen-warm" is not projects\/P\/locations\/R\/jobs\/J/);
  });
});

describe("the command, with a stand-in pulumi and gcloud", () => {
  const bin = projectTempDir("guard-reset-bin-");
  afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));
  fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\n[ "$*" = "stack output --json --stack prod" ] || { echo "unexpected: pulumi $*" >&2; exit 9; }\ncat "${bin}/outputs.json"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "gcloud"), '#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] && echo fake-token\n', { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "outputs.json"), JSON.stringify({ ...OUTPUTS, guardSettings: { ...OUTPUTS.guardSettings, monthlyBudget: 700 } }));
  const tsx = path.join(ROOT, "node_modules/.bin/tsx");
  const run = (args: string[]) =>
    promisify(execFile)(tsx, ["scripts/guard-reset.ts", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, GOOGLE_OAUTH_ACCESS_TOKEN: "", WARMSTART_GOOGLE_APIS: google.base, WARMSTART_NOW: NOW.toISOString() },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  test("--help says what it does; --dry-run prints the curl commands and changes nothing", async () => {
    init(TRIPPED);
    const [help, dry, bad] = await Promise.all([run(["--help"]), run(["--stack", "prod", "--dry-run"]), run(["--dry-run"])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Puts the stack back where the warm schedule wants it.*\n\nUsage: npm run guard:reset -- --stack NAME \[--dry-run\]/);
    expect(help.stdout.replace(/\s+/g, " ")).toContain("refuses (exit 3) while the budget is still over");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^guard:reset \(dry run\): the budget was raised to 700/);
    expect(dry.stdout).toContain("max instances 1 -> no service-level cap");
    const curls = dry.stdout.split("\n").filter((l) => l.startsWith("curl "));
    expect(curls).toHaveLength(5);
    expect(curls[1]).toBe(`curl -sS -X POST -H "Authorization: Bearer $(gcloud auth print-access-token)" -H "Content-Type: application/json" --data '{}' '${google.base}/v1/${JOBS[0]}:resume'`);
    expect(curls[4]).toContain(`--data '{"scaling":{"minInstanceCount":`);
    expect(writes(google)).toEqual([]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--stack is required");
  });
});
