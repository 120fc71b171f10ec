/** Names that Google Cloud constrains. Pure. */

/**
 * A service account id `<base>-<suffix>`: 6-30 characters, lowercase letters, digits and hyphens, starting with a
 * letter and not ending with a hyphen. The base is shortened, never the suffix, so ids stay telling and distinct.
 */
export function accountId(base: string, suffix: string): string {
  const room = 30 - suffix.length - 1;
  const trimmed = base.slice(0, room).replace(/-+$/, "");
  return `${trimmed}-${suffix}`;
}

/** A Cloud Scheduler job id: letters, digits, hyphens and underscores, at most 500 characters. */
export function schedulerJobId(serviceName: string, jobName: string): string {
  return `${serviceName}-${jobName}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 500);
}

/** A Cloud Scheduler job's full name, projects/P/locations/R/jobs/J: what gcloud and the API take. */
export function schedulerJobResourceName(project: string, region: string, jobId: string): string {
  return `projects/${project}/locations/${region}/jobs/${jobId}`;
}
