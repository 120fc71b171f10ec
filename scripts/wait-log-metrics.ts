/**
 * npm run wait-log-metrics: run by `pulumi up` between the log-based metrics and the alert policies on them. A new
 * log-based metric exists at once in Logging but takes minutes to reach Monitoring, which refuses an alert policy on
 * it meanwhile ("Cannot find metric(s) ... If a metric was created recently, it could take up to 10 minutes to become
 * available", hashicorp/terraform-provider-google#11102, still open): a dependency alone does not help, so this waits
 * until Monitoring knows each metric type. Environment and exit codes: WAIT_LOG_METRICS (its --help).
 */
import { command, runCommand } from "../container/cli";
import { CommandError } from "../container/commandError";
import { endpointsFromEnv, googleApis, type GoogleApis } from "../functions/googleApis";
import { deployerToken } from "./deployerToken";

const WAIT_LOG_METRICS = command({
  name: "wait-log-metrics",
  purpose: "Waits until Cloud Monitoring knows each new log-based metric, so that alert policies on them can be made.",
  usage: "npm run wait-log-metrics (configured by the environment; pulumi up runs it)",
  about: `A new log-based metric takes minutes to reach Monitoring, which refuses an alert policy on it meanwhile
(hashicorp/terraform-provider-google#11102): pulumi up runs this between the metrics and the policies.`,
  flags: {},
  env: {
    WAIT_PROJECT: "the project id (required)",
    WAIT_METRIC_TYPES: "comma-separated logging.googleapis.com/user/NAME (default none)",
    WAIT_SECONDS: "how long to wait at most (default 600)",
    WAIT_POLL_SECONDS: "how often to ask (default 10)",
    GOOGLE_OAUTH_ACCESS_TOKEN: "the deploying identity's token (default: gcloud auth print-access-token)",
  },
  example: "WAIT_PROJECT=acme-imagegen-prod WAIT_METRIC_TYPES=logging.googleapis.com/user/imagegen-warmup-failures npm run wait-log-metrics",
  exitCodes: { 0: "Monitoring knows every metric", 1: "one is still unknown at the deadline, or an API call failed", 2: "bad environment or usage" },
});

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

async function main(): Promise<number> {
  const w = waitFromEnv(process.env);
  await waitForMetrics(googleApis(deployerToken(process.env), endpointsFromEnv(process.env)), w, (l) => console.error(l));
  console.error(`wait-log-metrics: Monitoring knows all ${w.metricTypes.length} log-based metric(s)`);
  return 0;
}

if (require.main === module) {
  // pulumi up runs it: a failed API call is one line, the reason and no stack.
  void runCommand(WAIT_LOG_METRICS, process.argv.slice(2), main, { userErrors: "all" }).then((code) => process.exit(code));
}
