import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { schedulerJobId, schedulerJobResourceName } from "../names";
import { dstWarnings, type CompiledSchedule } from "./warmWindows";

export interface WarmScheduleArgs {
  /**
   * The compiled weekly schedule (`warmstart:warmWindows` in `warmstart:timezone`).
   * @example buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "Europe/London", opts)
   */
  readonly schedule: CompiledSchedule;
  /** The Google Cloud project (`gcp:project`): the jobs are made in it. */
  readonly project: string;
  /** Region of the service; the jobs run there too. */
  readonly region: string;
  /** The Cloud Run service (GpuService's `service`): the min-instance jobs PATCH it, the warmup jobs call its URL. */
  readonly service: gcp.cloudrunv2.Service;
  /** The min-instance jobs PATCH the service as it (StackIdentities lets it act as the runtime account). */
  readonly schedulerServiceAccount: gcp.serviceaccount.Account;
  /** An account that may only invoke the service; warmup calls carry its OIDC token (StackIdentities). */
  readonly invokerServiceAccount: gcp.serviceaccount.Account;
  /** The instant of the deploy, for the DST look-ahead (12 months from it). */
  readonly now: Date;
}

/** Cloud Run's Admin API scope, which the scheduler's OAuth token needs to PATCH the service. */
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/**
 * Cloud Scheduler jobs that set the service's service-level min instances at each edge of the warm schedule, and
 * call `/warmup` as each window opens. The deploy itself sets the level in force at deploy time (GpuService's
 * `minInstanceCount`), so these jobs only ever move it at edges.
 */
export class WarmSchedule extends pulumi.ComponentResource {
  public readonly schedulerServiceAccount: gcp.serviceaccount.Account;
  public readonly jobs: gcp.cloudscheduler.Job[];
  public readonly warmupJobs: gcp.cloudscheduler.Job[];
  /** Job ids (the short names). */
  public readonly jobNames: pulumi.Output<string>[];
  /**
   * Full job names, projects/P/locations/R/jobs/J: what the budget guard pauses and the reconcile step re-pauses, and
   * what `gcloud scheduler jobs resume` takes without --location.
   */
  public readonly jobResourceNames: pulumi.Output<string>[];

  constructor(name: string, args: WarmScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:schedule:WarmSchedule", name, {}, opts);
    const parent = { parent: this };
    const s = args.schedule;

    for (const w of dstWarnings([...s.jobs, ...s.warmups], s.timeZone, args.now)) void pulumi.log.warn(w.message, this);

    this.schedulerServiceAccount = args.schedulerServiceAccount;
    const member = pulumi.interpolate`serviceAccount:${this.schedulerServiceAccount.email}`;
    // Google lists both for changing min instances: run.developer on this one service (not the project), and
    // iam.serviceAccountUser on the runtime account only (StackIdentities), because an update acts as that account.
    const grants = [
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-scheduler-run-developer`,
        { project: args.project, location: args.region, name: args.service.name, role: "roles/run.developer", member },
        parent,
      ),
    ];

    // Without updateMask the PATCH body would replace the whole service, image and all.
    const patchUri = pulumi.interpolate`https://run.googleapis.com/v2/projects/${args.project}/locations/${args.region}/services/${args.service.name}?updateMask=scaling.minInstanceCount`;
    const retryConfig = { retryCount: 5, minBackoffDuration: "10s", maxBackoffDuration: "120s", maxDoublings: 3 };

    // Every job is named, placed and timed the same way; what it calls differs.
    type JobCall = Pick<gcp.cloudscheduler.JobArgs, "description" | "attemptDeadline" | "retryConfig" | "httpTarget">;
    // `paused` is the budget guard's to change: declared or compared here, a `pulumi up --refresh` would resume jobs
    // the guard paused (the provider resumes on a diff of `paused`, terraform-provider-google
    // resource_cloud_scheduler_job.go). A job this deploy creates starts ENABLED; DeployReconcile pauses it if need be.
    const scheduled = (id: string, cron: string, call: JobCall, opts: pulumi.CustomResourceOptions) =>
      new gcp.cloudscheduler.Job(
        `${name}-${id}`,
        { name: schedulerJobId(name, id), project: args.project, region: args.region, schedule: cron, timeZone: s.timeZone, ...call },
        { ...opts, ignoreChanges: ["paused"] },
      );

    this.jobs = s.jobs.map((job) =>
      scheduled(
        job.name,
        job.cron,
        {
          description: `Set ${job.level} min instance(s) (${job.cron}, ${s.timeZone})`,
          attemptDeadline: "60s",
          retryConfig,
          httpTarget: {
            httpMethod: "PATCH",
            uri: patchUri,
            headers: { "Content-Type": "application/json" },
            body: Buffer.from(JSON.stringify({ scaling: { minInstanceCount: job.level } })).toString("base64"),
            oauthToken: { serviceAccountEmail: this.schedulerServiceAccount.email, scope: CLOUD_PLATFORM_SCOPE },
          },
        },
        { ...parent, dependsOn: grants },
      ),
    );

    const warmupUri = pulumi.interpolate`${args.service.uri}/warmup`;
    this.warmupJobs = s.warmups.map((job) =>
      scheduled(
        job.name,
        job.cron,
        {
          description: `Warm the model as a window opens (${job.cron}, ${s.timeZone})`,
          // A warmup may wait for a cold start (up to the startup probe's budget) before it answers.
          attemptDeadline: "600s",
          retryConfig: { ...retryConfig, retryCount: 2 },
          httpTarget: {
            httpMethod: "POST",
            uri: warmupUri,
            oidcToken: { serviceAccountEmail: args.invokerServiceAccount.email, audience: args.service.uri },
          },
        },
        parent,
      ),
    );
    this.jobNames = [...this.jobs, ...this.warmupJobs].map((j) => j.name);
    this.jobResourceNames = this.jobNames.map((name) => name.apply((id) => schedulerJobResourceName(args.project, args.region, id)));
    this.registerOutputs({ schedulerServiceAccount: this.schedulerServiceAccount.email, jobNames: this.jobNames, jobResourceNames: this.jobResourceNames });
  }
}
