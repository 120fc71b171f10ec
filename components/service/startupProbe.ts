/**
 * Fits Cloud Run's startup probe to a cold-start budget. Pure.
 *
 * Cloud Run caps a startup probe's `initialDelaySeconds` at 240 and `periodSeconds × failureThreshold` at 240, so
 * a probe can wait about 480 s in all. The probe polls every 10 s so a ready instance is seen quickly; only the
 * part of the budget beyond 240 s becomes initial delay.
 */
export const PROBE_CAP_SECONDS = 240;
export const MAX_COLD_START_SECONDS = 2 * PROBE_CAP_SECONDS;

export interface StartupProbeTiming {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
  readonly timeoutSeconds: number;
}

export function startupProbeTiming(maxColdStartSeconds: number): StartupProbeTiming {
  if (!Number.isInteger(maxColdStartSeconds) || maxColdStartSeconds < 1 || maxColdStartSeconds > MAX_COLD_START_SECONDS) {
    throw new RangeError(`maxColdStartSeconds must be 1..${MAX_COLD_START_SECONDS}, got ${maxColdStartSeconds}`);
  }
  const periodSeconds = 10;
  const initialDelaySeconds = Math.max(0, maxColdStartSeconds - PROBE_CAP_SECONDS);
  const failureThreshold = Math.max(1, Math.ceil((maxColdStartSeconds - initialDelaySeconds) / periodSeconds));
  return { initialDelaySeconds, periodSeconds, failureThreshold, timeoutSeconds: 5 };
}

/** How long a probe with this timing waits before Cloud Run gives up on the instance. */
export function probeBudgetSeconds(t: StartupProbeTiming): number {
  return t.initialDelaySeconds + t.periodSeconds * t.failureThreshold;
}
