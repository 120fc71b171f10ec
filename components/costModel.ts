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
} as const;
export const PRICES_SOURCE = "cloud.google.com/run/pricing and /scheduler/pricing, public copies read 2026";

export type Prices = { -readonly [K in keyof typeof DEFAULT_PRICES]: number };

/** Average weeks and days in a month (365.25 / 12 days). */
export const WEEKS_PER_MONTH = 365.25 / 12 / 7;
export const DAYS_PER_MONTH = 365.25 / 12;

export interface InstanceShape {
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpuZonalRedundancy: boolean;
}

/** USD per hour for one running instance of this shape. */
export function instanceHourlyCost(shape: InstanceShape, prices: Prices): number {
  const gpu = shape.gpuZonalRedundancy ? prices.l4ZonalRedundantPerSecond : prices.l4PerSecond;
  return (gpu + shape.cpu * prices.vcpuPerSecond + shape.memoryGiB * prices.gibPerSecond) * 3600;
}

export interface CostInputs {
  readonly shape: InstanceShape;
  /** Instance-hours per week kept warm by the schedule (sum over instances). */
  readonly warmInstanceHoursPerWeek: number;
  /** Instance-hours per day billed outside the windows for traffic (requests plus the idle tail after each). */
  readonly offWindowInstanceHoursPerDay: number;
  readonly schedulerJobs: number;
  readonly prices: Prices;
}

export interface CostEstimate {
  readonly perInstanceHour: number;
  readonly warmInstanceHoursPerMonth: number;
  readonly warm: number;
  readonly offWindow: number;
  readonly scheduler: number;
  readonly total: number;
}

export function monthlyCost(c: CostInputs): CostEstimate {
  const perInstanceHour = instanceHourlyCost(c.shape, c.prices);
  const warmInstanceHoursPerMonth = c.warmInstanceHoursPerWeek * WEEKS_PER_MONTH;
  const warm = warmInstanceHoursPerMonth * perInstanceHour;
  const offWindow = c.offWindowInstanceHoursPerDay * DAYS_PER_MONTH * perInstanceHour;
  const scheduler = Math.max(0, c.schedulerJobs - c.prices.freeSchedulerJobs) * c.prices.schedulerJobPerMonth;
  return { perInstanceHour, warmInstanceHoursPerMonth, warm, offWindow, scheduler, total: warm + offWindow + scheduler };
}

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
