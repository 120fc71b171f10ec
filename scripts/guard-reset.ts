/**
 * npm run guard:reset -- --stack <name> [--dry-run]
 *
 * Puts a stack back where the warm schedule wants it after the budget guard held it down, in one command: clears the
 * guard's trip from its state object, resumes every warm-window and warmup job that is paused, lifts a service-level
 * max-instances cap, and sets the service-level min instances to the schedule's level now. This is what the guard's
 * own release does (functions/enforce.ts, `release`), and it runs only when the guard itself would release at its
 * next budget notification (functions/guardState.ts, `releasableNow`): a new budget period has begun, or the budget
 * as deployed was raised above the trip's cost. While the budget is still over by the guard's figures it refuses
 * (exit 3), since the next notification would trip the guard again.
 *
 * None of this is in `pulumi up`'s diff: the program ignores the service's min and max instances and the jobs' paused
 * state (GpuService, WarmSchedule), and the deploy's reconcile step only ever pauses jobs and sets min instances.
 * The cap in particular is left by a release by hand, and by the guard's own release when warmstart:guardMaxInstances
 * was set to 0 while it held (docs/operations.md, "When the budget guard trips").
 *
 * Reads the stack's outputs with `pulumi stack output --json --stack <name>` and calls the Cloud Run Admin, Cloud
 * Scheduler and Cloud Storage APIs with your gcloud credentials (GOOGLE_OAUTH_ACCESS_TOKEN, else
 * `gcloud auth print-access-token`). With --dry-run it makes the same reads and prints each change it would make as
 * a curl command instead of making it.
 *
 * Exit codes: 0 done (or nothing to do); 1 a command or API call failed; 2 bad usage or stack outputs; 3 refused
 * while the budget is still over.
 */
import { spawnSync } from "node:child_process";
import { deployTime } from "../components/schedule/clock";
import { levelAt, type ScheduleEdges } from "../components/schedule/warmWindows";
import { command, runCommand, type Values } from "../container/cli";
import { CommandError } from "../container/commandError";
import { release, type Enforced } from "../functions/enforce";
import { endpointsFromEnv, googleApis, type ApiEndpoints } from "../functions/googleApis";
import { held, released, releasableNow, type DeployedBudget } from "../functions/guardState";
import { parseStateLocation, updateState } from "../functions/guardStore";
import { jobsFromEnv, scheduleFromEnv, serviceFromEnv } from "../functions/guardTargets";
import { deployerToken } from "./deployerToken";

export const GUARD_RESET = command({
  name: "guard:reset",
  purpose: "Puts the stack back where the warm schedule wants it after the budget guard held it down.",
  usage: "npm run guard:reset -- --stack NAME [--dry-run]",
  about: `It clears the guard's trip from its state object (output guardStateObject), resumes every paused warm-window
and warmup job (warmJobResourceNames), lifts the service-level max-instances cap (warmstart:guardMaxInstances) and
sets the service-level min instances to the schedule's level now (warmScheduleEdges): the same as the guard's own
release. It refuses (exit 3) while the budget is still over by the guard's figures: raise warmstart:monthlyBudget and
pulumi up first, or wait for the next budget period. No pulumi up is needed afterwards and none undoes this: the
program ignores these settings (docs/operations.md).`,
  flags: {
    stack: { type: "string", value: "NAME", required: true, help: "the Pulumi stack (its outputs name the service, the jobs and the guard's state)" },
    "dry-run": { type: "boolean", help: "make the reads only; print each change as the curl command that would make it" },
  },
  env: {
    GOOGLE_OAUTH_ACCESS_TOKEN: "the token for the Google APIs (default: gcloud auth print-access-token)",
    WARMSTART_NOW: "the instant to act at, ISO 8601 (default now)",
  },
  example: "npm run guard:reset -- --stack prod --dry-run",
  exitCodes: { 0: "done, or nothing to do", 1: "a command or API call failed (running it again is safe: each step checks before it changes)", 2: "usage error, or stack outputs it cannot use", 3: "refused: the budget is still over" },
});

/** The stack outputs this reads (index.ts exports them; test/scripts/guardReset.test.ts holds the two together). */
export const REQUIRED_OUTPUTS = ["serviceResourceName", "warmJobResourceNames", "warmScheduleEdges"] as const;
export const GUARD_OUTPUTS = ["guardStateObject", "guardSettings"] as const;

export interface ResetTargets {
  readonly service: string;
  readonly jobs: readonly string[];
  readonly schedule: ScheduleEdges;
  /** gs://BUCKET/OBJECT; undefined when the stack has no budget guard. */
  readonly guardState: string | undefined;
  readonly budget: DeployedBudget | undefined;
}

/** Reads the targets from `pulumi stack output --json`, naming the output that is missing or malformed. */
export function targetsFromOutputs(outputs: Record<string, unknown>, stack: string): ResetTargets {
  const missing = REQUIRED_OUTPUTS.filter((k) => outputs[k] === undefined);
  if (missing.length > 0) {
    throw new CommandError(`guard:reset: stack ${stack} has no output ${missing.join(", ")}: it was deployed by an older version of this program; run pulumi up first`, 2);
  }
  try {
    const guardState = outputs.guardStateObject === undefined ? undefined : String(outputs.guardStateObject);
    if (guardState) parseStateLocation(guardState);
    const settings = outputs.guardSettings as { ratio?: unknown; monthlyBudget?: unknown } | undefined;
    if (guardState && (typeof settings?.ratio !== "number" || typeof settings.monthlyBudget !== "number")) {
      throw new Error(`output guardSettings must be {ratio, monthlyBudget, maxInstances}, got ${JSON.stringify(settings)}`);
    }
    return {
      service: serviceFromEnv(String(outputs.serviceResourceName), "output serviceResourceName"),
      jobs: jobsFromEnv(Array.isArray(outputs.warmJobResourceNames) ? outputs.warmJobResourceNames.join(",") : "", "output warmJobResourceNames"),
      schedule: scheduleFromEnv(JSON.stringify(outputs.warmScheduleEdges), "output warmScheduleEdges"),
      guardState,
      budget: guardState ? { ratio: settings!.ratio as number, monthlyBudget: settings!.monthlyBudget as number } : undefined,
    };
  } catch (err) {
    throw new CommandError(`guard:reset: ${(err as Error).message}`, 2);
  }
}

export function stackOutputs(stack: string): Record<string, unknown> {
  const r = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new CommandError(`guard:reset: pulumi stack output --json --stack ${stack} failed: ${r.error?.message ?? r.stderr.trim()}`, 1);
  }
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** A change the reset makes (or, with --dry-run, would make). */
export interface Change {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The change as a command a person could run: the same request with their gcloud token. */
export function asCurl(c: Change): string {
  return `curl -sS -X ${c.method} -H "Authorization: Bearer $(gcloud auth print-access-token)" -H "Content-Type: application/json" --data ${shellQuote(c.body)} ${shellQuote(c.url)}`;
}

/** fetch for --dry-run: reads go through; every other request is recorded and answered as if it succeeded. */
export function dryRunFetch(changes: Change[], send: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const method = init?.method ?? "GET";
    if (method === "GET") return send(input, init);
    changes.push({ method, url: String(input), body: typeof init?.body === "string" ? init.body : "" });
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  };
}

export type ResetOutcome =
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "reset"; readonly reason: string; readonly before: { minInstanceCount: number; maxInstanceCount: number }; readonly enforced: Enforced; readonly stateCleared: boolean };

export async function reset(t: ResetTargets, token: () => Promise<string>, now: Date, endpoints: ApiEndpoints, send: typeof fetch = fetch): Promise<ResetOutcome> {
  const api = googleApis(token, endpoints, send);
  let reason = "this stack has no budget guard";
  let stateCleared = false;
  if (t.guardState) {
    // The state first, with its generation precondition: a deploy or the guard running meanwhile then sees no trip,
    // and a refusal is decided on the state actually written over.
    const verdict = await updateState(api, parseStateLocation(t.guardState), (s) => {
      const v = releasableNow(s, t.budget, now);
      return { next: v.release ? released(s, now) : s, verdict: v, changed: v.release && held(s) };
    });
    if (!verdict.verdict.release) return { kind: "refused", reason: verdict.verdict.reason };
    reason = verdict.verdict.reason;
    stateCleared = verdict.changed;
  }
  const before = await api.serviceScaling(t.service);
  // release() lifts a cap only when told one is there: the one found, whatever warmstart:guardMaxInstances says now.
  const enforced = await release(api, { service: t.service, jobs: t.jobs, schedule: t.schedule, maxInstances: before.maxInstanceCount }, now);
  return { kind: "reset", reason, before, enforced, stateCleared };
}

/** What happened, for a person: one line per fact. */
export function summary(o: Extract<ResetOutcome, { kind: "reset" }>, t: ResetTargets, now: Date, dryRun: boolean): string[] {
  const would = (done: string, todo: string) => (dryRun ? todo : done);
  const lines = [`guard:reset${dryRun ? " (dry run)" : ""}: ${o.reason}`];
  if (t.guardState) lines.push(`  guard state ${t.guardState}: ${o.stateCleared ? would("trip cleared", "would clear the trip") : "no trip to clear"}`);
  lines.push(`  jobs: ${o.enforced.changed.length} ${would("resumed", "to resume")}, ${o.enforced.unchanged.length} already running (or stopped by Cloud Scheduler itself)`);
  const cap = o.before.maxInstanceCount > 0 ? `max instances ${o.before.maxInstanceCount} -> no service-level cap` : "no service-level max-instances cap";
  lines.push(`  service: ${cap}; min instances ${o.before.minInstanceCount} -> ${levelAt(t.schedule, now)} (the schedule's level now, ${t.schedule.timeZone})`);
  return lines;
}

async function main(args: Values<typeof GUARD_RESET.flags>): Promise<number> {
  const dryRun = Boolean(args["dry-run"]);
  const targets = targetsFromOutputs(stackOutputs(args.stack), args.stack);
  const changes: Change[] = [];
  // WARMSTART_NOW pins the clock, as for the program (components/schedule/clock.ts).
  const now = deployTime(process.env);
  const outcome = await reset(targets, deployerToken(process.env), now, endpointsFromEnv(process.env), dryRun ? dryRunFetch(changes) : fetch);
  if (outcome.kind === "refused") {
    console.error(`guard:reset: refused: ${outcome.reason}`);
    return 3;
  }
  for (const line of summary(outcome, targets, now, dryRun)) console.log(line);
  if (dryRun) {
    console.log(changes.length === 0 ? "Nothing to change." : `Would run (${changes.length}):`);
    for (const c of changes) console.log(asCurl(c));
  }
  return 0;
}

if (require.main === module) {
  // Every step checks before it changes, so a second run finishes what a failed one began.
  void runCommand(GUARD_RESET, process.argv.slice(2), main, { userErrors: "all" }).then((code) => process.exit(code));
}
