import { describe, expect, test } from "vitest";
import { runStack } from "../../harness";
import { configProblems, parseConfig } from "../../support/stackConfig";

const TOPIC = "projects/acme-test-123/topics/warmstart-budget-updates";
const DAILY = {
  "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C",
  "warmstart:monthlyBudget": "600",
  "warmstart:alertEmails": "ops@example.com",
  "warmstart:warmWindows": "weekdays 09:00-21:00",
  "warmstart:timezone": "America/New_York",
  "warmstart:dailySpendLimit": "50",
};

describe("warmstart:dailySpendLimit", () => {
  test("is off by default, and the guard caps max instances at 1 while it holds", () => {
    expect(parseConfig({}).budget).toMatchObject({ dailySpendLimit: 0, guardMaxInstances: 1 });
  });

  test("needs the budget and its guard, which act on it", () => {
    expect(configProblems({ "warmstart:dailySpendLimit": "50" })).toEqual([expect.stringMatching(/^warmstart:dailySpendLimit: needs warmstart:billingAccount .*; set it, or set the limit to 0$/)]);
    expect(configProblems({ ...DAILY, "warmstart:budgetGuard": "false" })).toEqual([expect.stringMatching(/^warmstart:dailySpendLimit: needs warmstart:budgetGuard true/)]);
    expect(configProblems({ ...DAILY, "warmstart:dailySpendLimit": "-1" })).toEqual([expect.stringMatching(/must be a number 0\.\.1000000/)]);
  });

  test("warns when the warm schedule alone passes it in its busiest 24 hours", () => {
    // 12 h 05 min warm on a weekday at $1.42092 an hour: about $17.17.
    expect(parseConfig({ ...DAILY, "warmstart:dailySpendLimit": "15" }).warnings).toContainEqual(
      expect.stringMatching(/^the warm schedule alone keeps 12\.1 instance-hours warm in its busiest 24 h \(about 17\.17 USD\), more than warmstart:dailySpendLimit \(15\)/),
    );
    expect(parseConfig(DAILY).warnings.join("\n")).not.toMatch(/dailySpendLimit/);
  });
});

describe("the daily spend limit's resources", () => {
  test("an alert on the service's billable instance time in 24 h, through a Pub/Sub channel to the guard, and a midnight tick", async () => {
    const run = await runStack(DAILY);
    const policy = run.ofType("gcp:monitoring/alertPolicy:AlertPolicy").find((p) => (p.inputs as any).displayName === "warmstart warmstart: daily spend limit")!;
    const condition = (policy.inputs as any).conditions[0].conditionThreshold;
    expect(condition).toMatchObject({
      filter: 'metric.type="run.googleapis.com/container/billable_instance_time" AND resource.type="cloud_run_revision" AND resource.label."service_name"="warmstart"',
      comparison: "COMPARISON_GT",
      // $50 / 0.0003947 $ per instance-second (8 vCPU, 32 GiB, L4 without zonal redundancy) = 126,678.49 s
      thresholdValue: 126678.5,
      duration: "60s",
      evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
      aggregations: [{ alignmentPeriod: "86400s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
    });

    const [pubsub, email] = ["pubsub", "email"].map((t) => run.ofType("gcp:monitoring/notificationChannel:NotificationChannel").find((c) => (c.inputs as any).type === t)!);
    expect((pubsub.inputs as any).labels).toEqual({ topic: TOPIC });
    expect((policy.inputs as any).notificationChannels).toEqual([pubsub.id, email.id]);
    expect((policy.inputs as any).alertStrategy).toEqual({
      notificationPrompts: ["OPENED"],
      notificationChannelStrategies: [{ notificationChannelNames: [pubsub.id], renotifyInterval: "3600s" }],
    });

    // Monitoring's notification agent may publish to the guard's topic, once the channel made the agent exist.
    const grant = run.ofType("gcp:pubsub/topicIAMMember:TopicIAMMember").find((g) => String((g.inputs as any).member).includes("gcp-sa-monitoring-notification"))!;
    expect(grant.inputs).toMatchObject({ topic: "warmstart-budget-updates", role: "roles/pubsub.publisher", member: expect.stringMatching(/^serviceAccount:service-\d+@gcp-sa-monitoring-notification\.iam\.gserviceaccount\.com$/) });
    expect(grant.dependencies).toContain(pubsub.urn);
    expect(policy.dependencies).toContain(grant.urn);

    // The guard is the topic's subscriber, told the limit.
    const fn = run.one("gcp:cloudfunctionsv2/function:Function").inputs as any;
    expect(fn.eventTrigger.pubsubTopic).toBe(TOPIC);
    expect(fn.serviceConfig.environmentVariables).toMatchObject({ GUARD_DAILY_THRESHOLD: "126678.5", GUARD_DAILY_LIMIT: "50", GUARD_MAX_INSTANCES: "1" });

    const job = run.ofType("gcp:cloudscheduler/job:Job").find((j) => (j.inputs as any).pubsubTarget)!.inputs as any;
    expect(job).toMatchObject({ name: "warmstart-guard-midnight", schedule: "0 0 * * *", timeZone: "America/New_York", pubsubTarget: { topicName: TOPIC } });
    expect(JSON.parse(Buffer.from(job.pubsubTarget.data, "base64").toString())).toEqual({ warmstart: "guard-midnight-tick" });
    // Not a job the guard pauses: it is what ends a daily hold.
    expect(fn.serviceConfig.environmentVariables.GUARD_JOBS).not.toContain("guard-midnight");
    expect(run.outputs.guardMidnightJob).toBe("projects/acme-test-123/locations/us-central1/jobs/warmstart-guard-midnight");
    expect(run.outputs.guardSettings).toEqual({ ratio: 1, monthlyBudget: 600, maxInstances: 1, dailySpendLimit: 50, dailyThresholdSeconds: 126678.5, timeZone: "America/New_York" });
  });
});
