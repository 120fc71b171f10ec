/**
 * The budget guard: a Cloud Run function (gen2, Node) subscribed to the budget's Pub/Sub topic. When the period's
 * cost reaches `GUARD_RATIO` × budget it holds the service down (min instances 0, max capped when
 * `GUARD_MAX_INSTANCES` > 0) and pauses the warm-window jobs; a message of a later budget period (or a raised budget)
 * releases it. What "tripped" means and which message may change it is guardState.ts; the state is kept in
 * `GUARD_STATE` (guardStore.ts), where the deploy's reconcile step reads it too.
 *
 * Registered with the Functions Framework as a CloudEvent function named `budgetGuard`: Eventarc delivers the
 * Pub/Sub message as a CloudEvent (binary content mode) whose data is `{ message: { data: <base64 JSON> } }`.
 * Returning acknowledges the event; throwing makes Eventarc deliver it again (the trigger retries), so the handler
 * throws only when an API call failed, and everything it does is safe to repeat.
 *
 * Environment: GUARD_SERVICE (projects/P/locations/R/services/S), GUARD_JOBS (comma-separated
 * projects/P/locations/R/jobs/J), GUARD_STATE (gs://BUCKET/OBJECT), GUARD_SCHEDULE (the weekly levels as JSON,
 * ScheduleEdges), GUARD_RATIO (default 1), GUARD_MAX_INSTANCES (default 0: leave max alone).
 */
import * as functions from "@google-cloud/functions-framework";
import { hold, release, type Enforced, type GuardTargets } from "./enforce";
import { GUARD_ENTRY_POINT, GUARD_LOG_COMPONENT, GUARD_TRIPPED_MESSAGE } from "./guardContract";
import { endpointsFromEnv, googleApis, metadataToken, type GoogleApis } from "./googleApis";
import { decide, released, type BudgetNotification, type Decision } from "./guardState";
import { parseStateLocation, updateState, type StateLocation } from "./guardStore";
import { jobsFromEnv, maxInstancesFromEnv, scheduleFromEnv, serviceFromEnv } from "./guardTargets";


export interface GuardConfig extends GuardTargets {
  readonly ratio: number;
  readonly state: StateLocation;
}

export type GuardOutcome = Decision["enforce"];

export function configFromEnv(env: NodeJS.ProcessEnv): GuardConfig {
  const ratio = Number(env.GUARD_RATIO ?? "1");
  if (!(ratio > 0)) throw new Error(`GUARD_RATIO must be a positive number, got "${env.GUARD_RATIO}"`);
  return {
    service: serviceFromEnv(env.GUARD_SERVICE, "GUARD_SERVICE"),
    jobs: jobsFromEnv(env.GUARD_JOBS, "GUARD_JOBS"),
    ratio,
    maxInstances: maxInstancesFromEnv(env.GUARD_MAX_INSTANCES, "GUARD_MAX_INSTANCES"),
    schedule: scheduleFromEnv(env.GUARD_SCHEDULE, "GUARD_SCHEDULE"),
    state: parseStateLocation(env.GUARD_STATE ?? ""),
  };
}

/** Parses and checks a notification; undefined when it is not one. */
export function parseNotification(data: unknown): BudgetNotification | undefined {
  const n = data as Partial<BudgetNotification> | null;
  if (!n || typeof n !== "object") return undefined;
  if (typeof n.costAmount !== "number" || typeof n.budgetAmount !== "number" || typeof n.costIntervalStart !== "string") return undefined;
  if (Number.isNaN(Date.parse(n.costIntervalStart))) return undefined;
  return n as BudgetNotification;
}

function log(severity: "INFO" | "WARNING" | "ERROR", message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ severity, message, component: GUARD_LOG_COMPONENT, ...fields }));
}

/** Acts on one budget notification. Throws only when a Google API call failed, so the event is delivered again. */
export async function handleNotification(n: BudgetNotification, cfg: GuardConfig, api: GoogleApis, now = new Date()): Promise<{ outcome: GuardOutcome; enforced?: Enforced }> {
  // The state is written before anything is enforced: a deploy that runs meanwhile then sees the trip.
  const decision = await updateState(api, cfg.state, (s) => decide(s, n, cfg.ratio, now));
  const fields = { costAmount: n.costAmount, budgetAmount: n.budgetAmount, currencyCode: n.currencyCode, costIntervalStart: n.costIntervalStart, reason: decision.reason };
  if (decision.enforce === "hold") {
    const enforced = await hold(api, cfg);
    const first = decision.next.trip?.since === now.toISOString();
    log("WARNING", first ? `${GUARD_TRIPPED_MESSAGE}: min instances set to 0 and warm-window jobs paused` : "budget guard holds: the service stays down", {
      ...fields,
      service: cfg.service,
      scaling: enforced.scaling,
      pausedJobs: enforced.changed,
      trip: decision.next.trip,
    });
    return { outcome: "hold", enforced };
  }
  if (decision.enforce === "release") {
    const enforced = await release(api, cfg, now);
    await updateState(api, cfg.state, (s) => ({ next: s.releasing && !s.trip ? released(s) : s }));
    log("INFO", "budget guard released: warm-window jobs resumed and min instances back on the schedule", { ...fields, resumedJobs: enforced.changed, scaling: enforced.scaling });
    return { outcome: "release", enforced };
  }
  log("INFO", `no action: ${decision.reason}`, fields);
  return { outcome: "none" };
}

/** The Pub/Sub message inside the CloudEvent Eventarc delivers. */
export interface MessagePublishedData {
  readonly message?: { readonly data?: string; readonly messageId?: string };
  readonly subscription?: string;
}

/** Test seams: where the APIs are and what time it is. Google's endpoints and the metadata token by default. */
export interface GuardEnvironment {
  readonly api?: GoogleApis;
  readonly now?: () => Date;
}

function defaultApi(env: NodeJS.ProcessEnv): GoogleApis {
  return googleApis(metadataToken(env.GUARD_TOKEN_URL), endpointsFromEnv(env));
}

export async function budgetGuard(event: { readonly data?: MessagePublishedData }, deps: GuardEnvironment = {}): Promise<void> {
  const cfg = configFromEnv(process.env);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(event.data?.message?.data ?? "", "base64").toString("utf8"));
  } catch {
    payload = undefined;
  }
  const n = parseNotification(payload);
  if (!n) {
    // Acknowledged: a message that is not a notification will not become one on redelivery.
    log("ERROR", "not a budget notification; dropped", { messageId: event.data?.message?.messageId });
    return;
  }
  await handleNotification(n, cfg, deps.api ?? defaultApi(process.env), deps.now?.() ?? new Date());
}

functions.cloudEvent<MessagePublishedData>(GUARD_ENTRY_POINT, (event: functions.CloudEvent<MessagePublishedData>) => budgetGuard(event));
