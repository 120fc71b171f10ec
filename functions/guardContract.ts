/**
 * What the stack and the budget guard must agree on, in a module with no dependencies, so that the stack can import
 * it without loading the guard (which registers itself with the Functions Framework on import).
 */

/** The name the guard registers under: the deployed function's entry point. */
export const GUARD_ENTRY_POINT = "budgetGuard";
/** The `component` field of every guard log line, which the trip alert's log metric selects on. */
export const GUARD_LOG_COMPONENT = "warmstart-budget-guard";
/** How the message of a first trip begins; the trip counter matches it. */
export const GUARD_TRIPPED_MESSAGE = "budget guard tripped";
/** The guard's state object in its bucket (guardState.ts defines what it holds). */
export const GUARD_STATE_OBJECT = "guard-state.json";
/**
 * The midnight tick's message body: what the stack's Cloud Scheduler job publishes to the guard's topic at local
 * midnight, so that a daily hold ends on time without waiting for a budget notification. Neither a budget
 * notification (costAmount, budgetAmount, costIntervalStart) nor a Monitoring incident ({incident, version}) has
 * this field.
 */
export const GUARD_TICK = { warmstart: "guard-midnight-tick" } as const;
