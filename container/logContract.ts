/**
 * The supervisor's log contract: the field and message names of the log lines it writes, which the stack's
 * log-based metrics, alerts and dashboard select on. A module with no dependencies, so that both the supervisor and
 * the stack import it without the stack loading the supervisor program.
 */

/** The `component` field of every supervisor log line. */
export const SUPERVISOR_LOG_COMPONENT = "warmstart-supervisor";
/** Field names of the log line written when the instance becomes ready; log-based metrics read these. */
export const COLD_START_FIELD = "coldStart";
export const COLD_START_PHASES = ["prefetchMs", "serverReadyMs", "warmupMs", "totalMs"] as const;
export type ColdStart = Record<(typeof COLD_START_PHASES)[number], number> & { bytesPrefetched: number };
/** Message of the log line written when a warmup fails (at startup or on POST /warmup). */
export const WARMUP_FAILED_MESSAGE = "warmup failed";
/** Message of the log line written when the instance becomes ready. */
export const READY_MESSAGE = "ready: model loaded and warm";

export type Severity = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** One JSON line per event, which Cloud Logging parses into a structured entry. */
export function logLine(severity: Severity, message: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ severity, message, component: SUPERVISOR_LOG_COMPONENT, ...fields });
}
