import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";
import { reconcile, targetsFromEnv, type ReconcileTargets } from "../../scripts/reconcile";
import { runStack } from "../harness";
import { startFakeGoogle, type FakeGoogle } from "../support/fakeGoogle";

const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const JOBS = ["projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0855-to-1", "projects/p/locations/us-central1/jobs/imagegen-cool-weekdays-2100-to-0"];
/** A job this deploy just created (a warmWindows change renames jobs): Cloud Scheduler creates it ENABLED. */
const NEW_JOB = "projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0755-to-1";
const SCHEDULE = scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }));
const STATE = "gs://p-imagegen-guard/guard-state.json";
/** As a guard deployed before the daily spend limit wrote it (version 1): read all the same. */
const TRIPPED = { version: 1, periods: { monthly: "2026-11-01T07:00:00Z" }, trip: { budget: "monthly", periodStart: "2026-11-01T07:00:00Z", since: "2026-11-20T10:00:00.000Z", costAmount: 612, budgetAmount: 600 } };

let google: FakeGoogle;
beforeEach(async () => {
  google = await startFakeGoogle({ services: { [SERVICE]: { minInstanceCount: 0 } }, jobs: { [JOBS[0]]: "PAUSED", [JOBS[1]]: "PAUSED", [NEW_JOB]: "ENABLED" } });
});
afterEach(() => google.close());

const targets = (over: Partial<ReconcileTargets> = {}): ReconcileTargets => ({ service: SERVICE, schedule: SCHEDULE, jobs: [...JOBS, NEW_JOB], guardState: STATE, guardMaxInstances: 0, ...over });
const run = (t: ReconcileTargets, now: string) => reconcile(t, async () => "fake-token", new Date(now), { run: google.base, scheduler: google.base, storage: google.base, monitoring: google.base });

describe("the reconcile step at the end of a deploy", () => {
  test("a deploy that began before a window and ended inside it leaves the window's level, not the one it began with", async () => {
    // Begun Tuesday 08:00 UTC (level 0), the image build took two hours: it ends at 10:00, inside the window.
    expect(await run(targets(), "2026-12-01T10:00:00Z")).toEqual({ guard: "clear", minInstances: 1 });
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(1);
    expect(google.calls.filter((c) => c.includes("/jobs/"))).toEqual([]);
  });

  test("outside every window it sets the idle level", async () => {
    google.services.get(SERVICE)!.scaling.minInstanceCount = 1;
    expect(await run(targets(), "2026-12-05T10:00:00Z")).toEqual({ guard: "clear", minInstances: 0 });
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(0);
  });

  test("while the guard holds: the service stays at 0 and every job is paused, the ones this deploy created too", async () => {
    google.objects.set("p-imagegen-guard/guard-state.json", { text: JSON.stringify(TRIPPED), generation: 7 });
    const result = await run(targets({ guardMaxInstances: 1 }), "2026-12-01T10:00:00Z");
    expect(result).toEqual({ guard: "holds", minInstances: 0, pausedJobs: [NEW_JOB], since: "2026-11-20T10:00:00.000Z" });
    expect(google.services.get(SERVICE)!.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 1 });
    expect([...google.jobs.values()].map((j) => j.state)).toEqual(["PAUSED", "PAUSED", "PAUSED"]);
    // The state is only read: the guard owns it.
    expect(google.calls.filter((c) => c.startsWith("POST /upload"))).toEqual([]);
  });

  test("while only the daily spend limit holds, the service stays at 0 too", async () => {
    const daily = { version: 2, periods: {}, trips: { daily: { budget: "daily", incidentId: "0.x", since: "2026-12-01T09:00:00.000Z", until: "2026-12-02T00:00:00.000Z", timeZone: "UTC" } } };
    google.objects.set("p-imagegen-guard/guard-state.json", { text: JSON.stringify(daily), generation: 7 });
    expect(await run(targets(), "2026-12-01T10:00:00Z")).toMatchObject({ guard: "holds", minInstances: 0, since: "2026-12-01T09:00:00.000Z" });
  });

  test("without a guard there is no state to read", async () => {
    expect(await run(targets({ guardState: undefined }), "2026-12-01T10:00:00Z")).toEqual({ guard: "absent", minInstances: 1 });
    expect(google.calls.some((c) => c.includes("/storage/"))).toBe(false);
  });

  test("a bad environment names the variable", () => {
    expect(() => targetsFromEnv({ RECONCILE_SERVICE: "imagegen" })).toThrow(/RECONCILE_SERVICE must be projects\/P\/locations\/R\/services\/S, got "imagegen"/);
    expect(() => targetsFromEnv({ RECONCILE_SERVICE: SERVICE, RECONCILE_SCHEDULE: "{}" })).toThrow(/RECONCILE_SCHEDULE must be the weekly levels as JSON/);
    expect(() => targetsFromEnv({ RECONCILE_SERVICE: SERVICE, RECONCILE_SCHEDULE: JSON.stringify(SCHEDULE), RECONCILE_GUARD_STATE: "s3://x/y" })).toThrow(/gs:\/\/BUCKET\/OBJECT, got "s3:\/\/x\/y"/);
  });

  test("npm run reconcile, as the deploy runs it: gcloud's token, one JSON line on stdout, exit 2 on bad input", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-gcloud-"));
    fs.writeFileSync(path.join(bin, "gcloud"), '#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] && echo fake-token\n', { mode: 0o755 });
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      GOOGLE_OAUTH_ACCESS_TOKEN: "",
      RECONCILE_SERVICE: SERVICE,
      RECONCILE_SCHEDULE: JSON.stringify(SCHEDULE),
      RECONCILE_JOBS: JOBS.join(","),
      WARMSTART_GOOGLE_APIS: google.base,
    };
    const tsx = path.resolve(__dirname, "../../node_modules/.bin/tsx");
    // Asynchronously: the stand-in APIs answer from this process.
    const exec = (e: NodeJS.ProcessEnv) => promisify(execFile)(tsx, ["scripts/reconcile.ts"], { cwd: path.resolve(__dirname, "../.."), env: e, encoding: "utf8" });
    const ok = await exec(env);
    expect(JSON.parse(ok.stdout)).toMatchObject({ guard: "absent", minInstances: expect.any(Number) });
    expect(google.tokens).toContain("Bearer fake-token");
    const bad = (await exec({ ...env, RECONCILE_JOBS: "nope" }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('reconcile: RECONCILE_JOBS: "nope" is not projects/P/locations/R/jobs/J');
  });
});

describe("in the stack", () => {
  const BUDGET = { "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C", "warmstart:monthlyBudget": "600", "warmstart:warmWindows": "weekdays 09:00-21:00" };

  test("runs last on every deploy: after the service, every job and the guard, with the guard's state and the schedule", async () => {
    const s = await runStack(BUDGET);
    const step = s.command("reconcile");
    for (const r of [s.one("gcp:cloudrunv2/service:Service"), s.one("gcp:cloudfunctionsv2/function:Function"), ...s.ofType("gcp:cloudscheduler/job:Job")]) {
      expect(step.dependencies, r.name).toContain(r.urn);
    }
    expect(step.inputs.triggers).toEqual(["2026-11-23T12:00:00.000Z"]);
    expect((await runStack(BUDGET, { now: "2026-11-23T12:30:00Z" })).command("reconcile").inputs.triggers).toEqual(["2026-11-23T12:30:00.000Z"]);
    expect((step.inputs as any).environment).toMatchObject({
      RECONCILE_SERVICE: "projects/acme-test-123/locations/us-central1/services/warmstart",
      RECONCILE_GUARD_STATE: "gs://acme-test-123-warmstart-guard/guard-state.json",
      RECONCILE_SCHEDULE: JSON.stringify(scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }))),
    });
  });

  test("the program no longer owns min instances or the jobs' paused state", async () => {
    const s = await runStack(BUDGET);
    expect(s.one("gcp:cloudrunv2/service:Service").ignoreChanges).toEqual(["scaling.minInstanceCount", "scaling.maxInstanceCount"]);
    for (const job of s.ofType("gcp:cloudscheduler/job:Job")) {
      expect(job.ignoreChanges).toEqual(["paused"]);
      expect(job.inputs.paused).toBeUndefined();
    }
  });
});
