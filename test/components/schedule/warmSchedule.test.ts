import { describe, expect, test } from "vitest";
import { runStack } from "../../harness";
import type { RecordedResource } from "../../../scripts/offline";

const JOB = "gcp:cloudscheduler/job:Job";
const WINDOWS = { "warmstart:warmWindows": "weekdays 09:00-21:00", "warmstart:timezone": "Europe/London" };
const decode = (b64: string) => JSON.parse(Buffer.from(b64, "base64").toString("utf8"));

describe("warm-window jobs", () => {
  test("one PATCH job per edge, with the update mask, the level, the zone, retries and a deadline", async () => {
    const run = await runStack(WINDOWS);
    const jobs = run.ofType(JOB).filter((j) => (j.inputs as any).httpTarget.httpMethod === "PATCH");
    expect(jobs.map((j) => [j.inputs.name, j.inputs.schedule])).toEqual([
      ["warmstart-warm-weekdays-0855-to-1", "55 8 * * 1-5"],
      ["warmstart-cool-weekdays-2100-to-0", "0 21 * * 1-5"],
    ]);
    const up = jobs[0].inputs as any;
    expect(up.timeZone).toBe("Europe/London");
    expect(up.region).toBe("us-central1");
    expect(up.httpTarget.uri).toBe("https://run.googleapis.com/v2/projects/acme-test-123/locations/us-central1/services/warmstart?updateMask=scaling.minInstanceCount");
    expect(decode(up.httpTarget.body)).toEqual({ scaling: { minInstanceCount: 1 } });
    expect(decode((jobs[1].inputs as any).httpTarget.body)).toEqual({ scaling: { minInstanceCount: 0 } });
    expect(up.httpTarget.oauthToken).toEqual({ serviceAccountEmail: "warmstart-sched@acme-test-123.iam.gserviceaccount.com", scope: "https://www.googleapis.com/auth/cloud-platform" });
    expect(up.retryConfig.retryCount).toBeGreaterThan(0);
    expect(up.attemptDeadline).toBe("60s");
  });

  test("a warmup POST to /warmup as each window opens, with an OIDC token for the service", async () => {
    const run = await runStack(WINDOWS);
    const warmups = run.ofType(JOB).filter((j) => (j.inputs as any).httpTarget.httpMethod === "POST");
    expect(warmups).toHaveLength(1);
    const w = warmups[0].inputs as any;
    expect(w.schedule).toBe("0 9 * * 1-5");
    expect(w.httpTarget.uri).toMatch(/^https:\/\/warmstart-\d+\.us-central1\.run\.app\/warmup$/);
    expect(w.httpTarget.oidcToken).toEqual({ serviceAccountEmail: "warmstart-invoke@acme-test-123.iam.gserviceaccount.com", audience: w.httpTarget.uri.replace(/\/warmup$/, "") });
  });

  test("no window, no job", async () => {
    expect((await runStack()).ofType(JOB)).toEqual([]);
  });

  test("the scheduler may update this one service and act as its runtime account, nothing else", async () => {
    const run = await runStack(WINDOWS);
    const scheduler = "serviceAccount:warmstart-sched@acme-test-123.iam.gserviceaccount.com";
    const grants = run.resources.filter((r) => r.inputs.member === scheduler);
    expect(grants.map((g) => [g.type, g.inputs.role])).toEqual(
      expect.arrayContaining([
        ["gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "roles/run.developer"],
        ["gcp:serviceaccount/iAMMember:IAMMember", "roles/iam.serviceAccountUser"],
      ]),
    );
    expect(grants).toHaveLength(2);
    const onService = grants.find((g) => g.inputs.role === "roles/run.developer")!;
    expect(onService.inputs).toMatchObject({ name: "warmstart", location: "us-central1", project: "acme-test-123" });
    const actAs = grants.find((g) => g.inputs.role === "roles/iam.serviceAccountUser")!;
    expect(actAs.inputs.serviceAccountId).toBe("projects/acme-test-123/serviceAccounts/warmstart-run@acme-test-123.iam.gserviceaccount.com");
  });
});

describe("min instances at deploy time", () => {
  const minAt = async (now: string) => ((await runStack(WINDOWS, { now })).one("gcp:cloudrunv2/service:Service").inputs as any).scaling.minInstanceCount;

  test("a deploy inside a window is warm at once; outside, it is not", async () => {
    expect(await minAt("2026-11-23T10:00:00Z")).toBe(1); // Monday 10:00 London
    expect(await minAt("2026-11-23T08:56:00Z")).toBe(1); // in the lead
    expect(await minAt("2026-11-23T21:30:00Z")).toBe(0);
    expect(await minAt("2026-11-28T10:00:00Z")).toBe(0); // Saturday
  });

  test("moves with the zone's DST: 08:30 UTC is 09:30 in London in summer", async () => {
    expect(await minAt("2027-07-12T08:30:00Z")).toBe(1);
    expect(await minAt("2027-01-11T08:30:00Z")).toBe(0);
  });

  test("a DST-affected edge warns at preview", async () => {
    const run = await runStack({ "warmstart:warmWindows": "sun 01:30-04:00", "warmstart:timezone": "Europe/London", "warmstart:warmLeadMinutes": "0" });
    expect(run.warnings).toContainEqual(expect.stringMatching(/job warm-sun-0130-to-1 at 01:30 on 2027-03-28 \(Europe\/London\): that local time does not exist/));
  });

  test("a warmup call in a skipped hour warns too, though its window's min-instance job runs before it", async () => {
    // The lead puts the min-instance job at 00:45, outside both changes; the warmup at the window's start, 01:30, is
    // skipped in March and repeated in October.
    const run = await runStack({ "warmstart:warmWindows": "sun 01:30-04:00", "warmstart:timezone": "Europe/London", "warmstart:warmLeadMinutes": "45" });
    const dst = run.warnings.filter((w) => /that local time/.test(w));
    expect(dst).toEqual([
      expect.stringMatching(/^job warmup-sun-0130 at 01:30 on 2027-03-28 \(Europe\/London\): that local time does not exist, so the job will not run that day/),
      expect.stringMatching(/^job warmup-sun-0130 at 01:30 on 2027-10-31 \(Europe\/London\): that local time occurs twice/),
    ]);
  });
});

describe("each scheduler job as deployed", () => {
  const byName = (jobs: RecordedResource[]) => Object.fromEntries(jobs.map((j): [string, RecordedResource] => [String(j.inputs.name), j]).sort(([a], [b]) => a.localeCompare(b)));

  // runStack in each test, not a shared run: Stryker runs a mutant against the tests whose own run reached it.
  test("says what it sets or calls, when and in which zone; a min-instance job retries 5 times, a warmup waits out a cold start", async () => {
    // By name: the order jobs register in follows when their inputs resolve.
    const jobs = byName((await runStack(WINDOWS)).ofType(JOB));
    expect(Object.values(jobs).map((j) => [j.inputs.project, j.inputs.region, j.inputs.timeZone, j.inputs.description])).toEqual([
      ["acme-test-123", "us-central1", "Europe/London", "Set 0 min instance(s) (0 21 * * 1-5, Europe/London)"],
      ["acme-test-123", "us-central1", "Europe/London", "Set 1 min instance(s) (55 8 * * 1-5, Europe/London)"],
      ["acme-test-123", "us-central1", "Europe/London", "Warm the model as a window opens (0 9 * * 1-5, Europe/London)"],
    ]);
    const [warm, warmup] = [jobs["warmstart-warm-weekdays-0855-to-1"].inputs as any, jobs["warmstart-warmup-weekdays-0900"].inputs as any];
    const backoff = { minBackoffDuration: "10s", maxBackoffDuration: "120s", maxDoublings: 3 };
    expect([warm.attemptDeadline, warm.retryConfig, warm.httpTarget.headers]).toEqual(["60s", { retryCount: 5, ...backoff }, { "Content-Type": "application/json" }]);
    // A warmup may wait for a cold start, up to the startup probe's budget.
    expect([warmup.attemptDeadline, warmup.retryConfig]).toEqual(["600s", { retryCount: 2, ...backoff }]);
  });

  test("belongs to the WarmSchedule, leaves the paused state to the budget guard, changes min instances only once it may, and is exported by its full name", async () => {
    const run = await runStack(WINDOWS);
    const jobs = Object.values(byName(run.ofType(JOB)));
    for (const j of jobs) {
      expect(j.parent, j.name).toBe("urn:pulumi:test::warmstart::warmstart:schedule:WarmSchedule::warmstart");
      expect(j.ignoreChanges, j.name).toEqual(["paused"]);
      expect(j.inputs.paused, j.name).toBeUndefined();
    }
    const grant = "urn:pulumi:test::warmstart::warmstart:schedule:WarmSchedule$gcp:cloudrunv2/serviceIamMember:ServiceIamMember::warmstart-scheduler-run-developer";
    expect(jobs.map((j) => [j.inputs.name, j.dependencies.includes(grant)])).toEqual([
      ["warmstart-cool-weekdays-2100-to-0", true],
      ["warmstart-warm-weekdays-0855-to-1", true],
      ["warmstart-warmup-weekdays-0900", false],
    ]);
    // What the budget guard pauses and `gcloud scheduler jobs resume` takes.
    const ids = ["warmstart-warm-weekdays-0855-to-1", "warmstart-cool-weekdays-2100-to-0", "warmstart-warmup-weekdays-0900"];
    expect(run.outputs.warmJobNames).toEqual(ids);
    expect(run.outputs.warmJobResourceNames).toEqual(ids.map((id) => `projects/acme-test-123/locations/us-central1/jobs/${id}`));
  });
});
