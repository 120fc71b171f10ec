import { describe, expect, test } from "vitest";
import { DEFAULT_PRICES, instanceHourlyCost, instanceSecondsFor, monthlyCost, parsePriceOverrides } from "../../../components/budget/costModel";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../../components/schedule/warmWindows";
import { GUARD_RUNTIME, runtimeStatus } from "../../../components/budget/functionRuntimes";
import { runStack } from "../../harness";

const BUDGET = {
  "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C",
  "warmstart:monthlyBudget": "600",
  "warmstart:alertEmails": "ops@example.com, cto@example.com",
  "warmstart:warmWindows": "weekdays 09:00-21:00",
};

describe("cost model", () => {
  const shape = { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false };

  test("an instance-hour is GPU + vCPU + memory per second, times 3600", () => {
    // (0.0001867 + 8 x 0.000018 + 32 x 0.000002) x 3600 = 1.42092
    expect(instanceHourlyCost(shape, { ...DEFAULT_PRICES })).toBeCloseTo(1.42092, 5);
    // zonal redundancy: (0.0002909 + 0.000144 + 0.000064) x 3600 = 1.79604
    expect(instanceHourlyCost({ ...shape, gpuZonalRedundancy: true }, { ...DEFAULT_PRICES })).toBeCloseTo(1.79604, 5);
  });

  test("a daily limit is the billable instance-seconds that cost it at the stack's shape", () => {
    // $50 / (0.0001867 + 8 x 0.000018 + 32 x 0.000002 = 0.0003947 $/s) = 126,678.49 s, 35.19 instance-hours
    expect(instanceSecondsFor(50, shape, { ...DEFAULT_PRICES })).toBeCloseTo(126678.49, 1);
    // zonal redundancy: $50 / 0.0004989 $/s = 100,220.49 s
    expect(instanceSecondsFor(50, { ...shape, gpuZonalRedundancy: true }, { ...DEFAULT_PRICES })).toBeCloseTo(100220.49, 1);
    // 4 vCPU / 16 GiB: $20 / (0.0001867 + 4 x 0.000018 + 16 x 0.000002 = 0.0002907 $/s) = 68,799.45 s
    expect(instanceSecondsFor(20, { cpu: 4, memoryGiB: 16, gpuZonalRedundancy: false }, { ...DEFAULT_PRICES })).toBeCloseTo(68799.45, 1);
  });

  test("weekdays 09:00-21:00 plus a 5 min lead, one hour a day outside, two jobs", () => {
    // 5 days x 12h05 = 60.4167 h/week; x 4.348214 weeks = 262.70 h; x 1.42092 = 373.28
    const c = monthlyCost({ shape, warmInstanceHoursPerWeek: 5 * (12 + 5 / 60), offWindowInstanceHoursPerDay: 1, schedulerJobs: 3, prices: { ...DEFAULT_PRICES } });
    expect(c.warmInstanceHoursPerMonth).toBeCloseTo(262.70, 2);
    expect(c.warm).toBeCloseTo(373.28, 1);
    expect(c.offWindow).toBeCloseTo(30.4375 * 1.42092, 3); // 43.25
    expect(c.scheduler).toBe(0); // 3 jobs are free
    expect(c.total).toBeCloseTo(c.warm + c.offWindow, 6);
  });

  test("24/7 on one instance costs about $1037 a month; jobs past the 3 free ones cost $0.10 each", () => {
    const c = monthlyCost({ shape, warmInstanceHoursPerWeek: 168, offWindowInstanceHoursPerDay: 0, schedulerJobs: 9, prices: { ...DEFAULT_PRICES } });
    expect(c.warm).toBeCloseTo(168 * 4.348214 * 1.42092, 1);
    expect(c.scheduler).toBeCloseTo(0.6, 6);
  });

  test("price overrides are checked by name and value", () => {
    expect(parsePriceOverrides('{"l4PerSecond": 0.0002}')).toEqual({ l4PerSecond: 0.0002 });
    expect(() => parsePriceOverrides('{"gpu": 1}')).toThrow(/unknown price "gpu"/);
    expect(() => parsePriceOverrides('{"l4PerSecond": -1}')).toThrow(/non-negative/);
    expect(() => parsePriceOverrides("[1]")).toThrow(/JSON object/);
  });

  test("the stack exports the estimate, and overrides change it", async () => {
    const run = await runStack({ "warmstart:warmWindows": "weekdays 09:00-21:00", "warmstart:offWindowInstanceHoursPerDay": "0" });
    expect((run.outputs.monthlyCostEstimate as any).totalUsd).toBeCloseTo(373.28, 1);
    const cheaper = await runStack({ "warmstart:warmWindows": "weekdays 09:00-21:00", "warmstart:offWindowInstanceHoursPerDay": "0", "warmstart:prices": '{"l4PerSecond": 0}' });
    expect((cheaper.outputs.monthlyCostEstimate as any).totalUsd).toBeCloseTo(262.70 * (0.000144 + 0.000064) * 3600, 1);
  });
});

describe("budget", () => {
  test("on the billing account, filtered to the project by number and to Cloud Run, with the configured amount", async () => {
    const b = (await runStack(BUDGET)).one("gcp:billing/budget:Budget").inputs as any;
    expect(b.billingAccount).toBe("0A1B2C-3D4E5F-6A7B8C");
    expect(b.budgetFilter.projects).toEqual([expect.stringMatching(/^projects\/\d+$/)]);
    expect(b.budgetFilter.services).toEqual(["services/152E-C115-5142"]);
    expect(b.amount).toEqual({ specifiedAmount: { units: "600" } });
  });

  test("alerts at 50%, 90%, 100% of spend and 100% forecast by default, configurable", async () => {
    const b = (await runStack(BUDGET)).one("gcp:billing/budget:Budget").inputs as any;
    expect(b.thresholdRules).toEqual([
      { thresholdPercent: 0.5, spendBasis: "CURRENT_SPEND" },
      { thresholdPercent: 0.9, spendBasis: "CURRENT_SPEND" },
      { thresholdPercent: 1, spendBasis: "CURRENT_SPEND" },
      { thresholdPercent: 1, spendBasis: "FORECASTED_SPEND" },
    ]);
    const custom = (await runStack({ ...BUDGET, "warmstart:budgetThresholds": "0.8,forecast:1.2" })).one("gcp:billing/budget:Budget").inputs as any;
    expect(custom.thresholdRules).toEqual([
      { thresholdPercent: 0.8, spendBasis: "CURRENT_SPEND" },
      { thresholdPercent: 1.2, spendBasis: "FORECASTED_SPEND" },
    ]);
  });

  test("emails each alert address and publishes every update to the topic", async () => {
    const run = await runStack(BUDGET);
    const channels = run.ofType("gcp:monitoring/notificationChannel:NotificationChannel").map((c) => (c.inputs as any).labels.email_address);
    expect(channels.sort()).toEqual(["cto@example.com", "ops@example.com"]);
    const b = run.one("gcp:billing/budget:Budget").inputs as any;
    expect(b.allUpdatesRule.monitoringNotificationChannels).toHaveLength(2);
    expect(b.allUpdatesRule.pubsubTopic).toBe("projects/acme-test-123/topics/warmstart-budget-updates");
    expect(b.allUpdatesRule.schemaVersion).toBe("1.0");
  });

  test("uses a provider with a quota project for the Budget API", async () => {
    const provider = (await runStack(BUDGET)).one("pulumi:providers:gcp");
    expect(provider.inputs).toMatchObject({ billingProject: "acme-test-123", userProjectOverride: "true" });
  });

  test("no billing account, no budget and no guard", async () => {
    const run = await runStack();
    expect(run.ofType("gcp:billing/budget:Budget")).toEqual([]);
    expect(run.ofType("gcp:cloudfunctionsv2/function:Function")).toEqual([]);
  });

  test("warns when the warm schedule alone costs more than the budget", async () => {
    const run = await runStack({ ...BUDGET, "warmstart:warmWindows": "daily 00:00-24:00", "warmstart:monthlyBudget": "300" });
    expect(run.warnings).toContainEqual(expect.stringMatching(/the warm schedule alone costs about 1037\.\d\d a month, more than warmstart:monthlyBudget \(300\)/));
  });

  test.each([
    [{ "warmstart:monthlyBudget": "0" }, "warmstart:monthlyBudget", /must be a positive amount/],
    [{ "warmstart:alertEmails": "a@x.io,b@x.io,c@x.io,d@x.io,e@x.io,f@x.io" }, "warmstart:alertEmails", /at most 5/],
    [{ "warmstart:alertEmails": "not-an-email" }, "warmstart:alertEmails", /must be an email address/],
    [{ "warmstart:billingAccount": "my-account" }, "warmstart:billingAccount", /billing account id/],
    [{ "warmstart:budgetThresholds": "90%" }, "warmstart:budgetThresholds", /fraction of the budget/],
    [{ "warmstart:guardRatio": "0" }, "warmstart:guardRatio", /number 0\.1\.\.10/],
    [{ "warmstart:guardMaxInstances": "5" }, "warmstart:guardMaxInstances", /must not exceed warmstart:maxInstances/],
    [{ "warmstart:prices": '{"l4": 1}' }, "warmstart:prices", /unknown price "l4"/],
  ] as [Record<string, string>, string, RegExp][])("rejects %j naming %s", async (override, key, message) => {
    const error = (await runStack({ ...BUDGET, ...override }).catch((e: unknown) => e)) as Error;
    expect(error.message.split("\n").find((l) => l.trim().startsWith(`${key}:`))).toMatch(message);
  });
});

describe("budget guard resources", () => {
  test("a Node function on the budget topic, told which service and jobs to act on", async () => {
    const run = await runStack({ ...BUDGET, "warmstart:guardRatio": "0.95", "warmstart:guardMaxInstances": "1" });
    const fn = run.one("gcp:cloudfunctionsv2/function:Function").inputs as any;
    expect(fn.buildConfig).toMatchObject({
      runtime: "nodejs24",
      entryPoint: "budgetGuard",
      serviceAccount: "projects/acme-test-123/serviceAccounts/warmstart-gbuild@acme-test-123.iam.gserviceaccount.com",
      dockerRepository: "projects/acme-test-123/locations/us-central1/repositories/warmstart-guard-images",
    });
    expect(fn.eventTrigger).toMatchObject({ eventType: "google.cloud.pubsub.topic.v1.messagePublished", pubsubTopic: "projects/acme-test-123/topics/warmstart-budget-updates" });
    expect(fn.serviceConfig.environmentVariables).toEqual({
      GUARD_DAILY_THRESHOLD: "0",
      GUARD_DAILY_LIMIT: "0",
      GUARD_SERVICE: "projects/acme-test-123/locations/us-central1/services/warmstart",
      GUARD_JOBS: [
        "projects/acme-test-123/locations/us-central1/jobs/warmstart-warm-weekdays-0855-to-1",
        "projects/acme-test-123/locations/us-central1/jobs/warmstart-cool-weekdays-2100-to-0",
        "projects/acme-test-123/locations/us-central1/jobs/warmstart-warmup-weekdays-0900",
      ].join(","),
      GUARD_STATE: "gs://acme-test-123-warmstart-guard/guard-state.json",
      GUARD_SCHEDULE: JSON.stringify(scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }))),
      GUARD_RATIO: "0.95",
      GUARD_MAX_INSTANCES: "1",
    });
    expect(fn.serviceConfig.ingressSettings).toBe("ALLOW_INTERNAL_ONLY");
    const object = run.one("gcp:storage/bucketObject:BucketObject").inputs as any;
    expect(object.name).toMatch(/^budget-guard-[0-9a-f]{16}\.zip$/);
  });

  test("its account may update the one service, act as its runtime account, pause or resume jobs and keep its state; nothing else", async () => {
    const run = await runStack(BUDGET);
    const guard = "serviceAccount:warmstart-guard@acme-test-123.iam.gserviceaccount.com";
    const grants = run.resources.filter((r) => r.inputs.member === guard).map((r) => [r.type.split(":").pop(), r.inputs.role, r.inputs.name ?? r.inputs.serviceAccountId ?? r.inputs.project]);
    expect(grants.sort()).toEqual(
      [
        ["IAMMember", "projects/acme-test-123/roles/warmstart_budget_guard", "acme-test-123"],
        ["IAMMember", "roles/iam.serviceAccountUser", "projects/acme-test-123/serviceAccounts/warmstart-run@acme-test-123.iam.gserviceaccount.com"],
        ["ServiceIamMember", "roles/run.developer", "warmstart"],
        ["ServiceIamMember", "roles/run.invoker", "warmstart-budget-guard"],
        ["BucketIAMMember", "roles/storage.objectUser", undefined],
      ].sort(),
    );
    // Written out, not the code's constant: resuming a job needs cloudscheduler.jobs.enable, pausing .pause
    // (https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/resume, /pause).
    expect([...(run.one("gcp:projects/iAMCustomRole:IAMCustomRole").inputs.permissions as string[])].sort()).toEqual([
      "cloudscheduler.jobs.enable",
      "cloudscheduler.jobs.get",
      "cloudscheduler.jobs.pause",
    ]);
  });

  test("the function is built by its own account, which may only write logs, read the source and push to its repository", async () => {
    const run = await runStack(BUDGET);
    const builder = "serviceAccount:warmstart-gbuild@acme-test-123.iam.gserviceaccount.com";
    const grants = run.resources.filter((r) => r.inputs.member === builder).map((r) => [r.type.split(":").pop(), r.inputs.role]);
    expect(grants.sort()).toEqual(
      [
        ["IAMMember", "roles/logging.logWriter"],
        ["BucketIAMMember", "roles/storage.objectViewer"],
        ["RepositoryIamMember", "roles/artifactregistry.writer"],
      ].sort(),
    );
  });

  test("budgetGuard: false keeps the budget and alerts but deploys no guard", async () => {
    const run = await runStack({ ...BUDGET, "warmstart:budgetGuard": "false" });
    expect(run.ofType("gcp:billing/budget:Budget")).toHaveLength(1);
    expect(run.ofType("gcp:cloudfunctionsv2/function:Function")).toEqual([]);
  });
});

describe("the guard's runtime", () => {
  test("Node.js 24: supported today, warned 90 days before its deprecation, refused once decommissioned", () => {
    expect(GUARD_RUNTIME).toBe("nodejs24");
    expect(runtimeStatus("nodejs24", new Date("2026-11-29T00:00:00Z")).kind).toBe("supported");
    expect(runtimeStatus("nodejs24", new Date("2028-01-30T00:00:00Z")).kind).toBe("supported"); // 91 days before
    expect(runtimeStatus("nodejs24", new Date("2028-02-01T00:00:00Z"))).toMatchObject({ kind: "deprecation-soon", message: expect.stringMatching(/deprecated in 89 day\(s\), on 2028-04-30/) });
    expect(runtimeStatus("nodejs24", new Date("2028-04-30T00:00:00Z")).kind).toBe("deprecated");
    expect(runtimeStatus("nodejs24", new Date("2028-10-31T00:00:00Z")).kind).toBe("decommissioned");
    // The runtime this stack used before: decommissioned on 2026-10-30 (docs.cloud.google.com/run/docs/runtimes/function-runtimes).
    expect(runtimeStatus("nodejs20", new Date("2026-11-29T00:00:00Z")).kind).toBe("decommissioned");
  });

  test("a deploy after the decommission date stops with the reason; one within 90 days of deprecation warns", async () => {
    const late = (await runStack(BUDGET, { now: "2028-11-01T12:00:00Z" }).catch((e: unknown) => e)) as Error;
    expect(late.message).toMatch(/runtime nodejs24 was decommissioned on 2028-10-31: Cloud Run functions refuses to create or update/);
    const soon = await runStack(BUDGET, { now: "2028-03-01T12:00:00Z" });
    expect(soon.warnings).toContainEqual(expect.stringMatching(/runtime nodejs24 is deprecated in 60 day\(s\)/));
  });
});
