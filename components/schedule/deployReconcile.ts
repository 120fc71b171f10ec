import * as command from "@pulumi/command";
import type * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ScheduleEdges } from "./warmWindows";

export interface DeployReconcileArgs {
  /** The Google Cloud project (`gcp:project`). */
  readonly project: string;
  /** The service's region (`gcp:region`). */
  readonly region: string;
  /** The Cloud Run service whose min instances the step sets (GpuService's `service`). */
  readonly service: gcp.cloudrunv2.Service;
  /** The weekly levels: the reconcile step sets the one in force when the deploy ends. */
  readonly schedule: ScheduleEdges;
  /** Every warm-window and warmup job (projects/P/locations/R/jobs/J); paused again when the guard holds the service down. */
  readonly jobs: readonly pulumi.Input<string>[];
  /**
   * The budget guard's state object, whose hold the step re-applies.
   * @default none: no guard, the step sets the schedule's level
   * @example "gs://acme-prod-imagegen-guard/guard-state.json"
   */
  readonly guardState?: pulumi.Input<string>;
  /** Service-level max instances while the guard holds (`warmstart:guardMaxInstances`). */
  readonly guardMaxInstances: number;
  /** The deploy's instant: a new value on every `pulumi up`, so the step runs on every one. */
  readonly now: Date;
  /** What must be in place first: the service, the jobs and the guard (components: each of their resources). */
  readonly after: readonly pulumi.Resource[];
}

/**
 * The last step of every `pulumi up`: `npm run reconcile` (scripts/reconcile.ts), run after the service, the jobs and
 * the guard. The service's min instances and the jobs' paused state are owned by the schedule and the guard, not by
 * this program (GpuService and WarmSchedule ignore drift on them), because a value the program computed when it
 * started is stale by the time a long image build ends, and a job the deploy creates starts ENABLED whatever the
 * guard says. No provider can read a job's state or the guard's at that moment, hence a command.
 */
export class DeployReconcile extends pulumi.ComponentResource {
  /** What the step did, as JSON: `{ guard, minInstances, pausedJobs? }`. */
  public readonly result: pulumi.Output<string>;

  constructor(name: string, args: DeployReconcileArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:schedule:DeployReconcile", name, {}, opts);
    const step = new command.local.Command(
      `${name}-reconcile`,
      {
        create: "npm run --silent reconcile",
        environment: {
          RECONCILE_SERVICE: pulumi.interpolate`projects/${args.project}/locations/${args.region}/services/${args.service.name}`,
          RECONCILE_SCHEDULE: JSON.stringify(args.schedule),
          RECONCILE_JOBS: pulumi.all([...args.jobs]).apply((names) => names.join(",")),
          ...(args.guardState ? { RECONCILE_GUARD_STATE: args.guardState } : {}),
          RECONCILE_GUARD_MAX_INSTANCES: String(args.guardMaxInstances),
        },
        triggers: [args.now.toISOString()],
        logging: "stderr",
      },
      // On the command itself: a component's dependsOn does not hold back the component's children.
      { parent: this, dependsOn: [...args.after] },
    );
    this.result = step.stdout.apply((s) => s.trim());
    this.registerOutputs({ result: this.result });
  }
}
