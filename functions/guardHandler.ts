/**
 * The budget guard: a Cloud Run function (gen2, Node) subscribed to the budget's Pub/Sub topic. Three kinds of
 * message arrive there, told apart by their shape (parseMessage):
 * - budget notifications (Cloud Billing): when the period's cost reaches `GUARD_RATIO` × budget the guard holds the
 *   service down; a message of a later budget period (or a raised budget) releases that hold;
 * - Monitoring incidents of the daily spend-limit policy (its Pub/Sub notification channel): an open incident holds
 *   the service down until the next local midnight in the stack's time zone;
 * - the midnight tick (a Cloud Scheduler job, GUARD_TICK): it carries only the time, and ends a daily hold on time.
 * Holding means min instances 0, max capped when `GUARD_MAX_INSTANCES` > 0, and the warm-window jobs paused; the
 * service stays held while either hold is in force. What "tripped" means and which message may change it is
 * guardState.ts; the state is kept in `GUARD_STATE` (guardStore.ts), where the deploy's reconcile step reads it too.
 *
 * Registered with the Functions Framework as a CloudEvent function named `budgetGuard`: Eventarc delivers the
 * Pub/Sub message as a CloudEvent (binary content mode) whose data is `{ message: { data: <base64 JSON> } }`.
 * Returning acknowledges the event; throwing makes Eventarc deliver it again (the trigger retries), so the handler
 * throws only when an API call failed, and everything it does is safe to repeat.
 *
 * Environment: GUARD_SERVICE (projects/P/locations/R/services/S), GUARD_JOBS (comma-separated
 * projects/P/locations/R/jobs/J), GUARD_STATE (gs://BUCKET/OBJECT), GUARD_SCHEDULE (the weekly levels as JSON,
 * ScheduleEdges; its time zone is the stack's), GUARD_RATIO (default 1), GUARD_MAX_INSTANCES (default 0: leave max
 * alone), GUARD_DAILY_THRESHOLD (the daily spend limit in billable instance-seconds in 24 hours; default 0: none),
 * GUARD_DAILY_LIMIT (the same limit in USD, for the log). WARMSTART_NOW pins the clock (tests only, as for the
 * program: components/schedule/clock.ts).
 */
import * as functions from "@google-cloud/functions-framework";
import { deployTime } from "../components/schedule/clock";
import { hold, release, type Enforced, type GuardTargets } from "./enforce";
import { GUARD_ENTRY_POINT, GUARD_LOG_COMPONENT, GUARD_TICK, GUARD_TRIPPED_MESSAGE } from "./guardContract";
import { endpointsFromEnv, googleApis, metadataToken, type GoogleApis } from "./googleApis";
import { activeTrips, decideMessage, finishRelease, HOLD_LABELS, type BudgetNotification, type Decision, type GuardMessage, type MonitoringIncident } from "./guardState";
import { parseStateLocation, updateState, type StateLocation } from "./guardStore";
import { jobsFromEnv, maxInstancesFromEnv, scheduleFromEnv, serviceFromEnv } from "./guardTargets";

export interface GuardConfig extends GuardTargets {
  readonly ratio: number;
  readonly state: StateLocation;
  /** The daily spend limit in billable instance-seconds in 24 hours; 0: none. */
  readonly dailyThresholdSeconds: number;
  /** The same limit in USD, for the log; 0: none. */
  readonly dailySpendLimit?: number;
}

export type GuardOutcome = Decision["enforce"];

function nonNegative(value: string | undefined, variable: string): number {
  const n = Number(value ?? "0");
  if (!Number.isFinite(n) || n < 0) throw new Error(`${variable} must be a number 0 or above, got "${value}"`);
  return n;
}

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
    dailyThresholdSeconds: nonNegative(env.GUARD_DAILY_THRESHOLD, "GUARD_DAILY_THRESHOLD"),
    dailySpendLimit: nonNegative(env.GUARD_DAILY_LIMIT, "GUARD_DAILY_LIMIT"),
  };
}

/** Parses and checks a budget notification; undefined when it is not one. */
export function parseNotification(data: unknown): BudgetNotification | undefined {
  const n = data as Partial<BudgetNotification> | null;
  if (!n || typeof n !== "object") return undefined;
  if (typeof n.costAmount !== "number" || typeof n.budgetAmount !== "number" || typeof n.costIntervalStart !== "string") return undefined;
  if (Number.isNaN(Date.parse(n.costIntervalStart))) return undefined;
  return n as BudgetNotification;
}

/** Monitoring writes values as strings ("126701.3"); undefined when there is no number. */
const numberOf = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const stringOf = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * Parses a Cloud Monitoring incident notification, as its Pub/Sub channel publishes it: `{"incident": {"incident_id",
 * "state": "open" | "closed", "started_at", "policy_name", "condition_name", "observed_value", "threshold_value",
 * ...}, "version": "1.2"}` (https://cloud.google.com/monitoring/support/notification-options#schema-pubsub);
 * undefined when it is not one.
 */
export function parseIncident(data: unknown): MonitoringIncident | undefined {
  const d = data as { incident?: Record<string, unknown>; version?: unknown } | null;
  if (!d || typeof d !== "object" || typeof d.version !== "string" || !d.incident || typeof d.incident !== "object") return undefined;
  const i = d.incident;
  const incidentId = stringOf(i.incident_id);
  const state = typeof i.state === "string" ? i.state.toLowerCase() : "";
  if (!incidentId || (state !== "open" && state !== "closed")) return undefined;
  const startedAt = numberOf(i.started_at);
  const optional = {
    policyName: stringOf(i.policy_name),
    conditionName: stringOf(i.condition_name),
    startedAt,
    observedValue: numberOf(i.observed_value),
    thresholdValue: numberOf(i.threshold_value),
  };
  return {
    incidentId,
    state,
    ...(Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<MonitoringIncident>),
    test: d.version === "test",
  };
}

/** What a message on the guard's topic is, told apart by shape; undefined when it is none of the three. */
export function parseMessage(data: unknown): GuardMessage | undefined {
  if (!data || typeof data !== "object" || Array.isArray(data)) return undefined;
  if ((data as { warmstart?: unknown }).warmstart === GUARD_TICK.warmstart) return { kind: "tick" };
  const notification = parseNotification(data);
  if (notification) return { kind: "budget", notification };
  const incident = parseIncident(data);
  return incident ? { kind: "incident", incident } : undefined;
}

const MESSAGE_LABELS: Readonly<Record<GuardMessage["kind"], string>> = { budget: "budget notification", incident: "Monitoring incident", tick: "midnight tick" };

/** The log fields that say what the message was. */
function messageFields(msg: GuardMessage): Record<string, unknown> {
  if (msg.kind === "budget") {
    const n = msg.notification;
    return { costAmount: n.costAmount, budgetAmount: n.budgetAmount, currencyCode: n.currencyCode, costIntervalStart: n.costIntervalStart };
  }
  if (msg.kind === "incident") {
    const i = msg.incident;
    return { incidentId: i.incidentId, incidentState: i.state, policyName: i.policyName, observedValue: i.observedValue, test: i.test || undefined };
  }
  return {};
}

function log(severity: "INFO" | "WARNING" | "ERROR", message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ severity, message, component: GUARD_LOG_COMPONENT, ...fields }));
}

/** Acts on one message. Throws only when a Google API call failed, so the event is delivered again. */
export async function handleMessage(msg: GuardMessage, cfg: GuardConfig, api: GoogleApis, now = new Date()): Promise<{ outcome: GuardOutcome; enforced?: Enforced; decision: Decision }> {
  const rules = { ratio: cfg.ratio, timeZone: cfg.schedule.timeZone, dailyThresholdSeconds: cfg.dailyThresholdSeconds };
  // The state is written before anything is enforced: a deploy that runs meanwhile then sees the trip.
  const decision = await updateState(api, cfg.state, (s) => decideMessage(s, msg, rules, now));
  const fields = { messageKind: MESSAGE_LABELS[msg.kind], ...messageFields(msg), reason: decision.reason, ...(decision.released.length > 0 ? { released: decision.released } : {}) };
  if (decision.enforce === "hold") {
    const enforced = await hold(api, cfg);
    const trips = activeTrips(decision.next);
    const cap = enforced.scaling.maxInstanceCount ? `, max instances capped at ${enforced.scaling.maxInstanceCount}` : "";
    const message = decision.tripped
      ? `${GUARD_TRIPPED_MESSAGE} by ${HOLD_LABELS[decision.tripped]}: min instances set to 0${cap} and warm-window jobs paused`
      : `budget guard holds (${trips.map((t) => HOLD_LABELS[t.budget]).join(" and ")}): the service stays down`;
    log("WARNING", message, {
      ...fields,
      ...(decision.tripped ? { trippedBy: decision.tripped } : {}),
      heldBy: trips.map((t) => t.budget),
      service: cfg.service,
      scaling: enforced.scaling,
      pausedJobs: enforced.changed,
      trips: decision.next.trips,
      ...(decision.tripped === "daily" ? { dailySpendLimit: cfg.dailySpendLimit, dailyThresholdSeconds: cfg.dailyThresholdSeconds } : {}),
    });
    return { outcome: "hold", enforced, decision };
  }
  if (decision.enforce === "release") {
    const enforced = await release(api, cfg, now);
    await updateState(api, cfg.state, (s) => ({ next: finishRelease(s) }));
    log("INFO", "budget guard released: warm-window jobs resumed and min instances back on the schedule", { ...fields, resumedJobs: enforced.changed, scaling: enforced.scaling });
    return { outcome: "release", enforced, decision };
  }
  log("INFO", `no action: ${decision.reason}`, fields);
  return { outcome: "none", decision };
}

/** Acts on one budget notification (handleMessage for that kind). */
export function handleNotification(n: BudgetNotification, cfg: GuardConfig, api: GoogleApis, now = new Date()): Promise<{ outcome: GuardOutcome; enforced?: Enforced }> {
  return handleMessage({ kind: "budget", notification: n }, cfg, api, now);
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
  const msg = parseMessage(payload);
  if (!msg) {
    // Acknowledged: a message that is none of the three will not become one on redelivery.
    log("ERROR", "not a budget notification, Monitoring incident or midnight tick; dropped", { messageId: event.data?.message?.messageId });
    return;
  }
  await handleMessage(msg, cfg, deps.api ?? defaultApi(process.env), deps.now?.() ?? deployTime(process.env));
}

functions.cloudEvent<MessagePublishedData>(GUARD_ENTRY_POINT, (event: functions.CloudEvent<MessagePublishedData>) => budgetGuard(event));
