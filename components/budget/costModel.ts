/**
 * What a configuration costs per month on Cloud Run with an L4. Pure: used by synth, the stack's outputs and the
 * warm-window planner.
 */

/**
 * Cloud Run prices (instance-based billing, Tier 1 regions, USD) as read from public copies of
 * cloud.google.com/run/pricing and cloud.google.com/scheduler/pricing in 2026. Verify them there before relying on
 * an estimate, and override any of them with `warmstart:prices` (e.g. '{"l4PerSecond": 0.00019}').
 */
export const DEFAULT_PRICES = {
  /** One NVIDIA L4, GPU zonal redundancy off. */
  l4PerSecond: 0.0001867,
  /** One NVIDIA L4, GPU zonal redundancy on. */
  l4ZonalRedundantPerSecond: 0.0002909,
  vcpuPerSecond: 0.000018,
  gibPerSecond: 0.000002,
  schedulerJobPerMonth: 0.1,
  /** Free jobs per billing account (assumed all available to this stack). */
  freeSchedulerJobs: 3,
  /**
   * Cloud Logging storage, charged once per GiB streamed into a log bucket (includes 30 days), and retention past 30
   * days per GiB-month (https://cloud.google.com/stackdriver/pricing, "Cloud Logging pricing summary", read 2026).
   * The first 50 GiB a project streams each month are free; the estimate does not count on it, since the
   * project's other logs use that allotment first.
   */
  logStoragePerGiB: 0.5,
  logRetentionPerGiBMonth: 0.01,
} as const;
export const PRICES_SOURCE = "cloud.google.com/run/pricing, /scheduler/pricing and /stackdriver/pricing, public copies read 2026";

export type Prices = { -readonly [K in keyof typeof DEFAULT_PRICES]: number };

/** Average weeks and days in a month (365.25 / 12 days). */
export const WEEKS_PER_MONTH = 365.25 / 12 / 7;
export const DAYS_PER_MONTH = 365.25 / 12;

export interface InstanceShape {
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpuZonalRedundancy: boolean;
}

/** USD per second for one running instance of this shape: the L4 (with or without zonal redundancy), vCPUs, memory. */
export function instanceSecondCost(shape: InstanceShape, prices: Prices): number {
  const gpu = shape.gpuZonalRedundancy ? prices.l4ZonalRedundantPerSecond : prices.l4PerSecond;
  return gpu + shape.cpu * prices.vcpuPerSecond + shape.memoryGiB * prices.gibPerSecond;
}

/** USD per hour for one running instance of this shape. */
export function instanceHourlyCost(shape: InstanceShape, prices: Prices): number {
  return instanceSecondCost(shape, prices) * 3600;
}

/**
 * The billable instance-seconds that cost `usd` at this shape's prices: what Cloud Run's billable instance time must
 * reach for the spend to reach `usd` (the daily spend limit's alert threshold). Instance-based billing, which a GPU
 * requires, bills each instance's whole lifetime at the per-second rate of its shape.
 */
export function instanceSecondsFor(usd: number, shape: InstanceShape, prices: Prices): number {
  return usd / instanceSecondCost(shape, prices);
}

export interface CostInputs {
  readonly shape: InstanceShape;
  /** Instance-hours per week kept warm by the schedule (sum over instances). */
  readonly warmInstanceHoursPerWeek: number;
  /**
   * Instance-hours per day billed above the schedule's floor for traffic: instances that requests start outside the
   * windows (with the idle tail Cloud Run keeps after each), and extra instances inside them.
   */
  readonly offWindowInstanceHoursPerDay: number;
  readonly schedulerJobs: number;
  readonly prices: Prices;
  /** The stack's request-log bucket (components/logging/requestLogBucket.ts), when it has one. */
  readonly requestLog?: RequestLogVolume;
}

/** What the request-log bucket stores: the planner reads it back (`npm run plan -- --from-cloud-logging`). */
export interface RequestLogVolume {
  readonly retentionDays: number;
  readonly requestsPerDay: number;
}

/**
 * Bytes one Cloud Run request log entry takes, as Cloud Logging meters it (the entry's size before indexing): an
 * httpRequest block, resource labels, trace and ids. An assumption, printed with the figure.
 */
export const REQUEST_LOG_ENTRY_BYTES = 1500;
/** Requests a day assumed for the log bucket's price when no request log says otherwise. */
export const ASSUMED_REQUESTS_PER_DAY = 1000;

export interface CostEstimate {
  readonly perInstanceHour: number;
  readonly warmInstanceHoursPerMonth: number;
  readonly warm: number;
  readonly offWindow: number;
  readonly scheduler: number;
  readonly requestLog: number;
  readonly total: number;
}

export function monthlyCost(c: CostInputs): CostEstimate {
  const perInstanceHour = instanceHourlyCost(c.shape, c.prices);
  const warmInstanceHoursPerMonth = c.warmInstanceHoursPerWeek * WEEKS_PER_MONTH;
  const warm = warmInstanceHoursPerMonth * perInstanceHour;
  const offWindow = c.offWindowInstanceHoursPerDay * DAYS_PER_MONTH * perInstanceHour;
  const scheduler = Math.max(0, c.schedulerJobs - c.prices.freeSchedulerJobs) * c.prices.schedulerJobPerMonth;
  const requestLog = c.requestLog ? requestLogMonthlyCost(c.requestLog, c.prices) : 0;
  return { perInstanceHour, warmInstanceHoursPerMonth, warm, offWindow, scheduler, requestLog, total: warm + offWindow + scheduler + requestLog };
}

/**
 * A month of request logs streamed into the bucket, plus the GiB-months kept past the 30 included days: in steady
 * state the bucket holds `retentionDays` of entries, of which all but 30 days' worth are billed for retention.
 */
export function requestLogMonthlyCost(v: RequestLogVolume, prices: Prices): number {
  const gibPerDay = (v.requestsPerDay * REQUEST_LOG_ENTRY_BYTES) / 2 ** 30;
  return gibPerDay * DAYS_PER_MONTH * prices.logStoragePerGiB + gibPerDay * Math.max(0, v.retentionDays - 30) * prices.logRetentionPerGiBMonth;
}

/**
 * Where the traffic outside the windows comes from, printed with every figure so that two tools that disagree say
 * why: the stack's `offWindowInstanceHoursPerDay`, or a request log replayed by the planner's simulator.
 */
export type TrafficAssumption =
  | { readonly source: "config"; readonly instanceHoursPerDay: number }
  | { readonly source: "log"; readonly instanceHoursPerDay: number; readonly file: string; readonly requests: number; readonly days: number };

export function describeTraffic(t: TrafficAssumption): string {
  if (t.source === "config") {
    return `${fmt(t.instanceHoursPerDay)} instance-hours a day assumed (warmstart:offWindowInstanceHoursPerDay; measure it from a request log with --requests FILE)`;
  }
  return `${fmt(t.instanceHoursPerDay)} instance-hours a day above the schedule, measured by replaying ${t.file} (${t.requests} requests over ${t.days.toFixed(1)} days) with the planner's simulator`;
}

const fmt = (n: number) => (Math.round(n * 100) / 100).toString();

/** Parses a `warmstart:prices` override: a JSON object of known price keys with non-negative numbers. */
export function parsePriceOverrides(text: string): Partial<Prices> {
  const t = text.trim();
  if (t === "" || t === "{}") return {};
  let data: unknown;
  try {
    data = JSON.parse(t);
  } catch {
    throw new Error(`must be a JSON object such as {"l4PerSecond": 0.0001867}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new Error(`must be a JSON object such as {"l4PerSecond": 0.0001867}`);
  const out: Partial<Prices> = {};
  for (const [k, v] of Object.entries(data)) {
    if (!(k in DEFAULT_PRICES)) throw new Error(`unknown price "${k}"; known: ${Object.keys(DEFAULT_PRICES).join(", ")}`);
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`price "${k}" must be a non-negative number`);
    out[k as keyof Prices] = v;
  }
  return out;
}
