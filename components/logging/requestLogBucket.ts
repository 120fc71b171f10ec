import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { REQUEST_LOG_LOCATION, requestLogBucketId, requestLogSinkFilter, requestLogViewName } from "./requestLogFilter";

export interface RequestLogBucketArgs {
  /** The Google Cloud project (`gcp:project`): the bucket and the sink are made in it. */
  readonly project: string;
  /**
   * The name of the Cloud Run service whose request log is kept (`warmstart:serviceName`); the bucket and sink are
   * named from it: a string known before the service exists, so nothing here waits for it (the service waits for its
   * image build).
   */
  readonly serviceName: string;
  /**
   * Days the bucket keeps each entry (`warmstart:requestLogRetentionDays`, 120 unless set): long enough for the
   * planner's window (`npm run plan -- --from-cloud-logging --days 90`). Cloud Logging allows 1..3650
   * (LogBucket.retention_days).
   */
  readonly retentionDays: number;
}

/**
 * Keeps the service's request log long enough to plan warm windows from it: Cloud Logging's `_Default` bucket keeps
 * 30 days (https://cloud.google.com/logging/docs/routing/overview), the planner reads 90. A log bucket with its own
 * retention and a sink that routes only this service's request log into it (the entries stay in `_Default` too,
 * which the dashboard's log metrics read). Priced in the stack's cost estimate (components/budget/costModel.ts).
 *
 * The sink needs no grant: "Sinks that have a destination that is a log bucket in the same project as the sink do
 * not have a writer_identity and no additional permissions are required" (LogSink.writer_identity,
 * https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.sinks). Reading it back takes
 * `roles/logging.viewAccessor` on the bucket's `_AllLogs` view (components/ci/ciAccess.ts grants it to the replan
 * identity, conditioned on that view).
 */
export class RequestLogBucket extends pulumi.ComponentResource {
  /** projects/P/locations/global/buckets/B/views/_AllLogs: what `gcloud logging read --view` reads. */
  public readonly viewName: string;
  public readonly bucketId: string;

  constructor(name: string, args: RequestLogBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:logging:RequestLogBucket", name, {}, opts);
    const parent = { parent: this };
    this.bucketId = requestLogBucketId(args.serviceName);
    this.viewName = requestLogViewName(args.project, args.serviceName);
    const bucket = new gcp.logging.ProjectBucketConfig(
      `${name}-requests`,
      {
        project: args.project,
        location: REQUEST_LOG_LOCATION,
        bucketId: this.bucketId,
        retentionDays: args.retentionDays,
        description: `Cloud Run request log of ${args.serviceName}, kept for the warm-window planner (npm run plan -- --from-cloud-logging)`,
      },
      parent,
    );
    new gcp.logging.ProjectSink(
      `${name}-requests`,
      {
        project: args.project,
        name: `${args.serviceName}-requests`,
        destination: `logging.googleapis.com/projects/${args.project}/locations/${REQUEST_LOG_LOCATION}/buckets/${this.bucketId}`,
        filter: requestLogSinkFilter(args.project, args.serviceName),
        description: "Routes the service's request log to its planner bucket",
      },
      { ...parent, dependsOn: [bucket] },
    );
    this.registerOutputs({ viewName: this.viewName });
  }
}
