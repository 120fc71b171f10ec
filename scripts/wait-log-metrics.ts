/**
 * npm run wait-log-metrics: run by `pulumi up` between the log-based metrics and the alert policies on them. A new
 * log-based metric exists at once in Logging but takes minutes to reach Monitoring, which refuses an alert policy on
 * it meanwhile ("Cannot find metric(s) ... If a metric was created recently, it could take up to 10 minutes to become
 * available", hashicorp/terraform-provider-google#11102, still open): a dependency alone does not help, so this waits
 * until Monitoring knows each metric type.
 *
 * Environment: WAIT_PROJECT, WAIT_METRIC_TYPES (comma-separated logging.googleapis.com/user/NAME), WAIT_SECONDS
 * (default 600), WAIT_POLL_SECONDS (default 10). Exit codes: 0 all known; 1 still unknown at the deadline, or an API
 * call failed; 2 bad environment.
 */
import { CommandError } from "../container/commandError";
import { endpointsFromEnv, googleApis, type GoogleApis } from "../functions/googleApis";
import { deployerToken } from "./deployerToken";

export interface MetricWait {
  readonly project: string;
  readonly metricTypes: readonly string[];
  readonly seconds: number;
  readonly pollSeconds: number;
}

export function waitFromEnv(env: NodeJS.ProcessEnv): MetricWait {
  const project = env.WAIT_PROJECT ?? "";
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) throw new CommandError(`wait-log-metrics: WAIT_PROJECT must be a project id, got "${project}"`, 2);
  const metricTypes = (env.WAIT_METRIC_TYPES ?? "").split(",").filter((t) => t !== "");
  for (const t of metricTypes) {
    if (!/^logging\.googleapis\.com\/user\/[A-Za-z0-9._/-]+$/.test(t)) throw new CommandError(`wait-log-metrics: "${t}" in WAIT_METRIC_TYPES is not logging.googleapis.com/user/NAME`, 2);
  }
  const number = (key: string, def: number) => {
    const n = Number(env[key] ?? def);
    if (!(n > 0)) throw new CommandError(`wait-log-metrics: ${key} must be a positive number of seconds, got "${env[key]}"`, 2);
    return n;
  };
  return { project, metricTypes, seconds: number("WAIT_SECONDS", 600), pollSeconds: number("WAIT_POLL_SECONDS", 10) };
}

/** Polls until every metric type is known; throws naming the ones still missing at the deadline. */
export async function waitForMetrics(api: GoogleApis, w: MetricWait, log: (line: string) => void = () => undefined): Promise<void> {
  const deadline = Date.now() + w.seconds * 1000;
  let missing = [...w.metricTypes];
  for (;;) {
    const known = await Promise.all(missing.map((t) => api.metricDescriptorExists(w.project, t)));
    missing = missing.filter((_, i) => !known[i]);
    if (missing.length === 0) return;
    if (Date.now() + w.pollSeconds * 1000 > deadline) {
      throw new CommandError(`wait-log-metrics: Monitoring still does not know ${missing.join(", ")} after ${w.seconds} s; run pulumi up again in a few minutes`, 1);
    }
    log(`wait-log-metrics: ${missing.length} log-based metric(s) not in Monitoring yet; checking again in ${w.pollSeconds} s`);
    await new Promise((r) => setTimeout(r, w.pollSeconds * 1000));
  }
}

if (require.main === module) {
  (async () => {
    const w = waitFromEnv(process.env);
    await waitForMetrics(googleApis(deployerToken(process.env), endpointsFromEnv(process.env)), w, (l) => console.error(l));
    console.error(`wait-log-metrics: Monitoring knows all ${w.metricTypes.length} log-based metric(s)`);
  })().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof CommandError ? err.message : `wait-log-metrics: ${(err as Error).message}`);
      process.exit(err instanceof CommandError ? err.exitCode : 1);
    },
  );
}
