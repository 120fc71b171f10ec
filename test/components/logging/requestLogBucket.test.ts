import { describe, expect, test } from "vitest";
import { runStack } from "../../harness";

describe("request-log bucket", () => {
  test("keeps the service's request log 120 days by default, routed by a sink that takes nothing else", async () => {
    const run = await runStack();
    const bucket = run.one("gcp:logging/projectBucketConfig:ProjectBucketConfig").inputs as any;
    expect(bucket).toMatchObject({ project: "acme-test-123", location: "global", bucketId: "warmstart-requests", retentionDays: 120 });
    const sink = run.one("gcp:logging/projectSink:ProjectSink").inputs as any;
    expect(sink.destination).toBe("logging.googleapis.com/projects/acme-test-123/locations/global/buckets/warmstart-requests");
    expect(sink.filter).toBe('resource.type="cloud_run_revision" AND resource.labels.service_name="warmstart" AND logName="projects/acme-test-123/logs/run.googleapis.com%2Frequests"');
    // A sink into a bucket of its own project writes without a grant: none is made.
    expect(run.ofType("gcp:projects/iAMMember:IAMMember").filter((m) => String(m.inputs.role).startsWith("roles/logging.bucketWriter"))).toEqual([]);
  });

  test("its retention is a config key, priced in the estimate; 0 makes no bucket", async () => {
    const long = await runStack({ "warmstart:requestLogRetentionDays": "400" });
    expect((long.one("gcp:logging/projectBucketConfig:ProjectBucketConfig").inputs as any).retentionDays).toBe(400);
    // 1,000 requests a day assumed: 120 days kept cost $0.0225 a month (test/planner/recommender.test.ts), 400 days $0.0264.
    expect((long.outputs.monthlyCostEstimate as any).requestLogUsd).toBe(0.03);
    const none = await runStack({ "warmstart:requestLogRetentionDays": "0" });
    expect(none.ofType("gcp:logging/projectBucketConfig:ProjectBucketConfig")).toEqual([]);
    expect((none.outputs.monthlyCostEstimate as any).requestLogUsd).toBe(0);
    const bad = (await runStack({ "warmstart:requestLogRetentionDays": "5000" }).catch((e: unknown) => e)) as Error;
    expect(bad.message).toMatch(/warmstart:requestLogRetentionDays: must be an integer 0\.\.3650/);
  });
});
