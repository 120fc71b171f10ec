/**
 * Makes the service and its warm-window jobs match the guard's state: `hold` (min instances 0, the optional cap,
 * every job paused) or `release` (every paused job resumed, the cap lifted, min instances back to the schedule's
 * level). Shared by the budget guard and the deploy's reconcile step, so both act the same way.
 *
 * Each job's state is read before it is changed: Cloud Scheduler pauses only an ENABLED job and resumes only a
 * PAUSED one (google/cloud/scheduler/v1/cloudscheduler.proto, PauseJob and ResumeJob: "A job must be in
 * Job.State.ENABLED to be paused", "must be in Job.State.PAUSED to be resumed"), so blind calls fail on a redelivered
 * message and stop at the first job already in the wanted state.
 */
import { levelAt, type ScheduleEdges } from "../components/schedule/warmWindows";
import { ApiError, type GoogleApis } from "./googleApis";

export interface GuardTargets {
  /** projects/P/locations/R/services/S */
  readonly service: string;
  /** projects/P/locations/R/jobs/J, every warm-window and warmup job. */
  readonly jobs: readonly string[];
  /** Service-level max instances while held; 0 leaves max instances alone. */
  readonly maxInstances: number;
  /** The weekly levels, to put min instances back where the schedule wants them on release. */
  readonly schedule: ScheduleEdges;
}

export interface Enforced {
  /** Jobs whose state this call changed. */
  readonly changed: string[];
  /** Jobs that were already as wanted (or are stopped by Cloud Scheduler itself: DISABLED, UPDATE_FAILED). */
  readonly unchanged: string[];
  /** The service-level scaling that was set. */
  readonly scaling: { minInstanceCount: number; maxInstanceCount?: number };
}

/** Calls `change` unless the job is already in `wanted`; a concurrent change to `wanted` meanwhile is fine too. */
async function moveJob(api: GoogleApis, job: string, from: "ENABLED" | "PAUSED", wanted: "PAUSED" | "ENABLED", change: () => Promise<void>): Promise<boolean> {
  const state = await api.jobState(job);
  if (state !== from) return false;
  try {
    await change();
    return true;
  } catch (err) {
    // Someone else (a duplicate delivery, a person) moved it between the read and the call.
    if (err instanceof ApiError && err.status === 400 && (await api.jobState(job)) === wanted) return false;
    throw err;
  }
}

export async function hold(api: GoogleApis, t: GuardTargets): Promise<Enforced> {
  // The service first: it is what costs money; the jobs only stop it from coming back at the next edge.
  const scaling = t.maxInstances > 0 ? { minInstanceCount: 0, maxInstanceCount: t.maxInstances } : { minInstanceCount: 0 };
  await api.patchServiceScaling(t.service, scaling);
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const job of t.jobs) ((await moveJob(api, job, "ENABLED", "PAUSED", () => api.pauseJob(job))) ? changed : unchanged).push(job);
  return { changed, unchanged, scaling };
}

export async function release(api: GoogleApis, t: GuardTargets, now: Date): Promise<Enforced> {
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const job of t.jobs) ((await moveJob(api, job, "PAUSED", "ENABLED", () => api.resumeJob(job))) ? changed : unchanged).push(job);
  // Jobs first, then the level: a window edge between the two is then applied by its job, not missed.
  // maxInstanceCount 0 is the field's default: no service-level cap, as before the trip.
  const scaling = { minInstanceCount: levelAt(t.schedule, now), ...(t.maxInstances > 0 ? { maxInstanceCount: 0 } : {}) };
  await api.patchServiceScaling(t.service, scaling);
  return { changed, unchanged, scaling };
}

/** Outside the guard: the level the schedule wants now, unless the guard holds the service down. */
export async function applyScheduleLevel(api: GoogleApis, service: string, schedule: ScheduleEdges, now: Date): Promise<number> {
  const minInstanceCount = levelAt(schedule, now);
  await api.patchServiceScaling(service, { minInstanceCount });
  return minInstanceCount;
}
