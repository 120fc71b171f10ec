/**
 * npm run reconcile: the last step of every `pulumi up` (the DeployReconcile component runs it once the service,
 * the jobs and the guard are in place). It makes the service match the moment the deploy ends, not the moment it
 * began, because an image build can take an hour and a window edge can pass meanwhile:
 * - the budget guard holds the service down (its state says so): min instances 0, the cap, every warm-window job
 *   paused, the ones this deploy created or replaced included (Cloud Scheduler creates jobs ENABLED);
 * - otherwise: min instances set to what the schedule wants now.
 * Run with the deploying identity; its token comes from GOOGLE_OAUTH_ACCESS_TOKEN (as for the gcp provider) or
 * `gcloud auth print-access-token`. Environment and exit codes: RECONCILE (its --help).
 */
import type { ScheduleEdges } from "../components/schedule/warmWindows";
import { command, runCommand } from "../container/cli";
import { CommandError } from "../container/commandError";
import { applyScheduleLevel, hold } from "../functions/enforce";
import { endpointsFromEnv, GOOGLE_ENDPOINTS, googleApis, type ApiEndpoints } from "../functions/googleApis";
import { heldSince } from "../functions/guardState";
import { parseStateLocation, readState } from "../functions/guardStore";
import { jobsFromEnv, maxInstancesFromEnv, scheduleFromEnv, serviceFromEnv } from "../functions/guardTargets";
import { deployerToken } from "./deployerToken";

export interface ReconcileTargets {
  readonly service: string;
  readonly schedule: ScheduleEdges;
  readonly jobs: readonly string[];
  readonly guardState: string | undefined;
  readonly guardMaxInstances: number;
}

export type ReconcileResult =
  | { readonly guard: "holds"; readonly minInstances: 0; readonly pausedJobs: string[]; readonly since: string }
  | { readonly guard: "clear" | "absent"; readonly minInstances: number };

export function targetsFromEnv(env: NodeJS.ProcessEnv): ReconcileTargets {
  try {
    const guardState = env.RECONCILE_GUARD_STATE || undefined;
    if (guardState) parseStateLocation(guardState);
    return {
      service: serviceFromEnv(env.RECONCILE_SERVICE, "RECONCILE_SERVICE"),
      schedule: scheduleFromEnv(env.RECONCILE_SCHEDULE, "RECONCILE_SCHEDULE"),
      jobs: jobsFromEnv(env.RECONCILE_JOBS, "RECONCILE_JOBS"),
      guardState,
      guardMaxInstances: maxInstancesFromEnv(env.RECONCILE_GUARD_MAX_INSTANCES, "RECONCILE_GUARD_MAX_INSTANCES"),
    };
  } catch (err) {
    throw new CommandError(`reconcile: ${(err as Error).message}`, 2);
  }
}

export async function reconcile(t: ReconcileTargets, token: () => Promise<string>, now: Date, endpoints: ApiEndpoints = GOOGLE_ENDPOINTS): Promise<ReconcileResult> {
  const api = googleApis(token, endpoints);
  if (t.guardState) {
    const { state } = await readState(api, parseStateLocation(t.guardState));
    // Either hold (the monthly budget, the daily spend limit) keeps the service down.
    const since = heldSince(state);
    if (since) {
      const held = await hold(api, { service: t.service, jobs: t.jobs, maxInstances: t.guardMaxInstances, schedule: t.schedule });
      return { guard: "holds", minInstances: 0, pausedJobs: held.changed, since };
    }
  }
  const minInstances = await applyScheduleLevel(api, t.service, t.schedule, now);
  return { guard: t.guardState ? "clear" : "absent", minInstances };
}

const RECONCILE = command({
  name: "reconcile",
  purpose: "Sets the service's min instances to what the schedule wants now, or holds it down while the budget guard trips.",
  usage: "npm run reconcile (configured by the environment; pulumi up runs it last)",
  about: `The deploy's DeployReconcile component runs it once the service, the jobs and the guard are in place: an image
build can take an hour and a window edge can pass meanwhile. Prints one JSON line with what it did on stdout.`,
  flags: {},
  env: {
    RECONCILE_SERVICE: "the service, projects/P/locations/R/services/S (required)",
    RECONCILE_SCHEDULE: "the weekly levels, ScheduleEdges JSON (required)",
    RECONCILE_JOBS: "the warm-window jobs, comma-separated projects/P/locations/R/jobs/J (default none)",
    RECONCILE_GUARD_STATE: "the budget guard's state, gs://BUCKET/OBJECT (default none: no guard)",
    RECONCILE_GUARD_MAX_INSTANCES: "the cap while the guard holds (default 0)",
    GOOGLE_OAUTH_ACCESS_TOKEN: "the deploying identity's token (default: gcloud auth print-access-token)",
  },
  example: `RECONCILE_SERVICE=projects/acme-imagegen-prod/locations/us-central1/services/imagegen RECONCILE_SCHEDULE='{"timeZone":"UTC","start":0,"edges":[]}' npm run reconcile`,
  exitCodes: { 0: "done", 1: "a Google API call failed", 2: "bad environment or usage" },
});

async function main(): Promise<number> {
  const t = targetsFromEnv(process.env);
  const result = await reconcile(t, deployerToken(process.env), new Date(), endpointsFromEnv(process.env));
  console.error(
    result.guard === "holds"
      ? `reconcile: the budget guard holds the service down (since ${result.since}): min instances 0, ${result.pausedJobs.length} job(s) paused now`
      : `reconcile: min instances set to ${result.minInstances}, what the schedule wants now`,
  );
  console.log(JSON.stringify(result));
  return 0;
}

if (require.main === module) {
  // pulumi up runs it: a failed API call is one line, the reason and no stack.
  void runCommand(RECONCILE, process.argv.slice(2), main, { userErrors: "all" }).then((code) => process.exit(code));
}
