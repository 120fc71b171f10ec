import { beforeAll, describe, expect, test } from "vitest";
import { REQUIRED_OUTPUTS, GUARD_OUTPUTS, targetsFromOutputs } from "../scripts/guard-reset";
import { runStack, type StackRun } from "./harness";

const BUDGET = { "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C", "warmstart:monthlyBudget": "600", "warmstart:warmWindows": "weekdays 09:00-21:00", "warmstart:guardMaxInstances": "1" };

describe("the stack outputs the runbooks use", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runStack(BUDGET);
  });
  const env = (type: string) => (run.one(type).inputs as any);

  test("warmJobResourceNames are the jobs the guard pauses and a deploy re-pauses, as gcloud takes them without --location", () => {
    const names = run.outputs.warmJobResourceNames as string[];
    expect(names).toHaveLength(3);
    for (const n of names) expect(n).toMatch(/^projects\/acme-test-123\/locations\/us-central1\/jobs\/warmstart-[a-z0-9-]+$/);
    expect(env("gcp:cloudfunctionsv2/function:Function").serviceConfig.environmentVariables.GUARD_JOBS).toBe(names.join(","));
    expect((run.command("reconcile").inputs as any).environment.RECONCILE_JOBS).toBe(names.join(","));
    expect(run.outputs.warmJobNames).toEqual(names.map((n) => n.split("/").pop()));
    expect(run.ofType("gcp:cloudscheduler/job:Job").map((j) => j.inputs.name)).toEqual(run.outputs.warmJobNames);
  });

  test("warmJobs stays the readable view (cron, zone, level), not names", () => {
    expect(run.outputs.warmJobs).toEqual(["55 8 * * 1-5 (UTC) -> 1", "0 21 * * 1-5 (UTC) -> 0"]);
  });

  test("the service, the schedule and the guard's state are what the guard acts on", () => {
    const guardEnv = env("gcp:cloudfunctionsv2/function:Function").serviceConfig.environmentVariables;
    expect(run.outputs.serviceResourceName).toBe(guardEnv.GUARD_SERVICE);
    expect(run.outputs.warmScheduleEdges).toEqual(JSON.parse(guardEnv.GUARD_SCHEDULE));
    expect(run.outputs.guardStateObject).toBe(guardEnv.GUARD_STATE);
    expect(run.outputs.guardSettings).toEqual({ ratio: 1, monthlyBudget: 600, maxInstances: 1 });
  });

  test("npm run guard:reset reads every output it needs from them", () => {
    for (const k of [...REQUIRED_OUTPUTS, ...GUARD_OUTPUTS]) expect(run.outputs, k).toHaveProperty(k);
    expect(targetsFromOutputs(run.outputs, "test")).toMatchObject({ service: run.outputs.serviceResourceName, jobs: run.outputs.warmJobResourceNames, budget: { ratio: 1, monthlyBudget: 600 } });
  });
});
