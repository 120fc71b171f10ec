/**
 * What `npm run plan` and `npm run synth -- --requests` share: one way from a stack's config and a request log to
 * the planner's inputs and the price of the stack's windows, so that both print the same monthly cost for the same
 * windows and the same traffic (issue #18).
 */
import * as fs from "node:fs";
import type { StackConfig } from "../config/types";
import { DEFAULT_PRICES, type TrafficAssumption } from "../components/budget/costModel";
import { evaluateWindows, planClock, type PlanInputs, type PlanOutcome } from "./recommender";
import { dropOutliers } from "./planSanity";
import type { ScaleOutRule, SimulationOptions } from "./simulator";
import { parseRequestLog, type ReadOptions, type RequestLog } from "./requestLog";

/** The simulator's defaults, as `npm run plan -- --help` lists them. */
export const SIM_DEFAULTS = { serviceSeconds: 20, idleSeconds: 900, coldStartSeconds: 120, scaleOut: "on-demand" as ScaleOutRule };

/** The instance shape and limits when no stack is given (the defaults of config/parse.ts). */
const NO_STACK = { shape: { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false }, maxInstances: 2, concurrency: 1, warmMinInstances: 1, leadMinutes: 5 };

export interface LoadedLog extends RequestLog {
  readonly file: string;
  /** Rows dropped as far outside the bulk of the log. */
  readonly outliers: number;
}

/** Reads a request log and drops the outliers (planSanity.dropOutliers), as both tools must see the same requests. */
export function loadRequestLog(file: string, text: string = fs.readFileSync(file, "utf8"), o: ReadOptions = {}): LoadedLog {
  const log = parseRequestLog(text, file, o);
  const { kept, dropped, bulkFrom, bulkTo } = dropOutliers(log.times);
  const sessionStarts = log.sessionStarts.filter((t) => t >= bulkFrom && t <= bulkTo);
  return { ...log, times: kept, sessionStarts, file, outliers: dropped };
}

export function simulationOptions(stack: StackConfig | undefined, o: Partial<SimulationOptions> = {}): SimulationOptions {
  return {
    serviceSeconds: o.serviceSeconds ?? SIM_DEFAULTS.serviceSeconds,
    idleSeconds: o.idleSeconds ?? SIM_DEFAULTS.idleSeconds,
    coldStartSeconds: o.coldStartSeconds ?? SIM_DEFAULTS.coldStartSeconds,
    scaleOut: o.scaleOut ?? SIM_DEFAULTS.scaleOut,
    maxInstances: stack?.service.maxInstances ?? NO_STACK.maxInstances,
    concurrency: stack?.service.concurrency ?? NO_STACK.concurrency,
  };
}

export function planInputs(stack: StackConfig | undefined, log: LoadedLog, timeZone: string, sim: SimulationOptions): PlanInputs {
  const days = (log.times[log.times.length - 1] - log.times[0]) / 86_400_000;
  const retentionDays = stack?.cost.requestLogRetentionDays ?? 0;
  return {
    times: log.times,
    timeZone,
    sim,
    schedule: stack ? { warmMinInstances: stack.warm.warmMinInstances, idleMinInstances: stack.warm.idleMinInstances, leadMinutes: stack.warm.leadMinutes } : { warmMinInstances: NO_STACK.warmMinInstances, idleMinInstances: 0, leadMinutes: NO_STACK.leadMinutes },
    shape: stack ? stack.service : NO_STACK.shape,
    prices: stack?.cost.prices ?? { ...DEFAULT_PRICES },
    requestLog: retentionDays > 0 ? { retentionDays, requestsPerDay: log.times.length / Math.max(1, days) } : undefined,
    clock: planClock(log.times, timeZone),
  };
}

/** The stack's own windows priced against the log: the `current` strategy of plan, and synth's figure with --requests. */
export function priceStackWindows(stack: StackConfig, inputs: PlanInputs, name = "current"): PlanOutcome {
  return evaluateWindows(name, stack.warm.windowsText, inputs);
}

export function trafficFromLog(outcome: PlanOutcome, log: LoadedLog): TrafficAssumption {
  return { source: "log", instanceHoursPerDay: outcome.offWindowInstanceHoursPerDay, file: log.file, requests: log.times.length, days: (log.times[log.times.length - 1] - log.times[0]) / 86_400_000 };
}
