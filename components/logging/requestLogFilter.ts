/**
 * The contract between the stack's request-log bucket (components/logging/requestLogBucket.ts), the identity that may read
 * it (components/ci/ciAccess.ts) and the planner that reads it back (`npm run plan -- --from-cloud-logging`): names, the
 * filter, and the `gcloud logging read` command. Pure, so the planner does not load the Pulumi program.
 *
 * Sources (read 2026-11-30):
 * - Cloud Run writes a request log entry for every request to a service, automatically
 *   (https://cloud.google.com/run/docs/logging, "Request logs"); its log name is
 *   `projects/PROJECT/logs/run.googleapis.com%2Frequests` and its resource type `cloud_run_revision`, labelled with
 *   `service_name`.
 * - `gcloud logging read [FILTER] --bucket=B --location=L --view=V --order=asc --format=json`
 *   (https://cloud.google.com/sdk/gcloud/reference/logging/read). `--freshness` (default 1d) "works only with DESC
 *   ordering and filters without a timestamp", so the window is given as a timestamp term in the filter instead.
 * - Every log bucket gets an `_AllLogs` view (https://cloud.google.com/logging/docs/logs-views, "Automatically
 *   created log views").
 */

/** Log buckets live in a location; `global` keeps the command the same in every region. */
export const REQUEST_LOG_LOCATION = "global";
export const REQUEST_LOG_VIEW = "_AllLogs";

/** Bucket ids: letters, digits, underscores and hyphens, at most 100 (LogBucket.name in the Logging API). */
export function requestLogBucketId(serviceName: string): string {
  return `${serviceName}-requests`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 100);
}

export function requestLogViewName(project: string, serviceName: string): string {
  return `projects/${project}/locations/${REQUEST_LOG_LOCATION}/buckets/${requestLogBucketId(serviceName)}/views/${REQUEST_LOG_VIEW}`;
}

/** What the sink routes: the service's request log, nothing else. */
export function requestLogSinkFilter(project: string, serviceName: string): string {
  return [`resource.type="cloud_run_revision"`, `resource.labels.service_name="${serviceName}"`, `logName="projects/${project}/logs/run.googleapis.com%2Frequests"`].join(" AND ");
}

/**
 * What the planner reads: the sink's entries since `since`, less the calls that are not users' (the warm schedule's
 * POST /warmup, sent by Cloud Scheduler).
 */
export function requestLogReadFilter(project: string, serviceName: string, since: Date): string {
  return [requestLogSinkFilter(project, serviceName), `timestamp>="${since.toISOString()}"`, `NOT httpRequest.requestUrl:"/warmup"`, `NOT httpRequest.userAgent:"Google-Cloud-Scheduler"`].join(" AND ");
}

/** The arguments after `gcloud`: oldest first, only the timestamps, as a JSON array. */
export function gcloudReadArgs(project: string, serviceName: string, days: number, now: Date): string[] {
  const since = new Date(now.getTime() - days * 86_400_000);
  return [
    "logging",
    "read",
    requestLogReadFilter(project, serviceName, since),
    `--project=${project}`,
    `--bucket=${requestLogBucketId(serviceName)}`,
    `--location=${REQUEST_LOG_LOCATION}`,
    `--view=${REQUEST_LOG_VIEW}`,
    "--order=asc",
    "--format=json(timestamp)",
  ];
}
