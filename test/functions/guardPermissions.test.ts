/**
 * The budget guard's account may make every call its handler makes: the calls are recorded on the fake Google APIs
 * through a trip, a repeated over-budget message and a release, each is turned into the permission Google checks
 * through a table written out from the REST references (never the code's constants), and the guard's grants (its
 * custom role and the predefined roles of test/contracts/iamRoles.ts) must hold them. A role that lacks one would
 * pass every other test and fail in the cloud: with cloudscheduler.jobs.enable dropped, the guard pauses the jobs and
 * gets 403 resuming them next period.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { handleMessage, type GuardConfig } from "../../functions/guardHandler";
import type { GuardMessage } from "../../functions/guardState";
import { googleApis, metadataToken } from "../../functions/googleApis";
import { GUARD_SCHEDULER_PERMISSIONS } from "../../components/access/stackIdentities";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";
import { ROLE_PERMISSIONS } from "../contracts/iamRoles";
import { startFakeGoogle, type FakeGoogle } from "../support/fakeGoogle";

const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const JOBS = ["projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0855-to-1", "projects/p/locations/us-central1/jobs/imagegen-warmup-weekdays-0900"];

/** Call (as the fake records it, "METHOD path?query") → the permissions Google checks for it, and where that is said. */
const PERMISSION_OF: readonly { call: RegExp; permissions: string[]; source: string }[] = [
  { call: /^GET \/token$/, permissions: [], source: "the metadata server: no IAM check" },
  { call: /^GET \/v2\/projects\/[^/]+\/locations\/[^/]+\/services\/[^/?]+$/, permissions: ["run.services.get"], source: "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/get" },
  {
    call: /^PATCH \/v2\/projects\/[^/]+\/locations\/[^/]+\/services\/[^/?]+\?updateMask=/,
    // An update acts as the service's runtime account (https://cloud.google.com/run/docs/configuring/services/service-identity).
    permissions: ["run.services.update", "iam.serviceAccounts.actAs"],
    source: "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/patch",
  },
  { call: /^GET \/v1\/projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:?]+$/, permissions: ["cloudscheduler.jobs.get"], source: "https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/get" },
  { call: /^POST \/v1\/projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:?]+:pause$/, permissions: ["cloudscheduler.jobs.pause"], source: "https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/pause" },
  // Not "resume": Cloud Scheduler authorises jobs.resume with cloudscheduler.jobs.enable.
  { call: /^POST \/v1\/projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:?]+:resume$/, permissions: ["cloudscheduler.jobs.enable"], source: "https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/resume" },
  { call: /^GET \/storage\/v1\/b\/[^/]+\/o\/[^?]+(\?.*)?$/, permissions: ["storage.objects.get"], source: "https://cloud.google.com/storage/docs/json_api/v1/objects/get" },
  { call: /^POST \/upload\/storage\/v1\/b\/[^/]+\/o\?.*ifGenerationMatch=0(&|$)/, permissions: ["storage.objects.create"], source: "https://cloud.google.com/storage/docs/json_api/v1/objects/insert" },
  // Overwriting an object also deletes its old generation (https://cloud.google.com/storage/docs/access-control/iam-permissions).
  { call: /^POST \/upload\/storage\/v1\/b\/[^/]+\/o\?.*ifGenerationMatch=[1-9]\d*(&|$)/, permissions: ["storage.objects.create", "storage.objects.delete"], source: "https://cloud.google.com/storage/docs/json_api/v1/objects/insert" },
];

/** What the guard's account holds (components/access/stackIdentities.ts and components/budget/budgetGuard.ts grant these). */
const GRANTED = new Set([
  ...GUARD_SCHEDULER_PERMISSIONS,
  ...ROLE_PERMISSIONS["roles/run.developer"],
  ...ROLE_PERMISSIONS["roles/iam.serviceAccountUser"],
  ...ROLE_PERMISSIONS["roles/storage.objectUser"],
]);

let google: FakeGoogle;
beforeEach(async () => {
  google = await startFakeGoogle({ services: { [SERVICE]: { minInstanceCount: 1 } }, jobs: Object.fromEntries(JOBS.map((j) => [j, "ENABLED"])) });
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(async () => {
  await google.close();
  vi.restoreAllMocks();
});

function needs(calls: readonly string[]): { call: string; permission: string }[] {
  return calls.flatMap((call) => {
    const row = PERMISSION_OF.find((r) => r.call.test(call));
    // A new kind of call must say here what it takes.
    expect(row, `no permission row for ${call}`).toBeDefined();
    return row!.permissions.map((permission) => ({ call, permission }));
  });
}

test("the guard's grants hold every permission its calls need through trips, repeats and releases, monthly and daily", async () => {
  const schedule = scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }));
  const cfg: GuardConfig = { service: SERVICE, jobs: JOBS, ratio: 1, maxInstances: 1, schedule, state: { bucket: "p-imagegen-guard", object: "guard-state.json" }, dailyThresholdSeconds: 126_678.49 };
  const api = googleApis(metadataToken(`${google.base}/token`), { run: google.base, scheduler: google.base, storage: google.base, monitoring: google.base });
  const budget = (costAmount: number, costIntervalStart: string): GuardMessage => ({ kind: "budget", notification: { budgetDisplayName: "imagegen monthly (warmstart)", costAmount, costIntervalStart, budgetAmount: 600, currencyCode: "USD" } });
  const incident: GuardMessage = { kind: "incident", incident: { incidentId: "0.daily", state: "open", observedValue: 127_000, test: false } };
  const now = new Date("2026-12-01T12:00:00Z");
  const outcomes = [];
  for (const [m, at] of [
    [budget(612.5, "2026-11-01T07:00:00Z"), now],
    [budget(640, "2026-11-01T07:00:00Z"), now],
    [budget(4.2, "2026-12-01T08:00:00Z"), now],
    [incident, now],
    [{ kind: "tick" }, new Date("2026-12-02T00:00:10Z")],
  ] as [GuardMessage, Date][]) {
    outcomes.push((await handleMessage(m, cfg, api, at)).outcome);
  }
  expect(outcomes).toEqual(["hold", "hold", "release", "hold", "release"]);

  const needed = needs(google.calls);
  expect(needed.filter((n) => !GRANTED.has(n.permission))).toEqual([]);
  // The custom role is a project-wide grant: exactly the scheduler permissions the calls need, none to spare.
  const scheduler = [...new Set(needed.map((n) => n.permission).filter((p) => p.startsWith("cloudscheduler.")))].sort();
  expect(scheduler).toEqual(["cloudscheduler.jobs.enable", "cloudscheduler.jobs.get", "cloudscheduler.jobs.pause"]);
  expect([...GUARD_SCHEDULER_PERMISSIONS].sort()).toEqual(scheduler);
});
