/**
 * The budget guard: a Cloud Run function (gen2, Node) subscribed to the budget's Pub/Sub topic. When the period's
 * cost reaches `GUARD_RATIO` × budget it sets the service's min instances to 0 (and caps max instances when
 * `GUARD_MAX_INSTANCES` > 0) and pauses the warm-window jobs. A message of a later budget period resumes the jobs.
 *
 * Stateless and idempotent: Pub/Sub may deliver a message twice or out of order. Tripping twice sets the same
 * values again. Jobs are resumed only by a message whose period began after they were paused, so a late message
 * from the tripped period (cost still below the line back then) does not undo the trip.
 *
 * Environment: GUARD_SERVICE (projects/P/locations/R/services/S), GUARD_JOBS (comma-separated job names,
 * projects/P/locations/R/jobs/J), GUARD_RATIO (default 1), GUARD_MAX_INSTANCES (default 0: leave max alone).
 */

/** The budget notification's JSON (Cloud Billing, schema 1.0). */
export interface BudgetNotification {
  readonly budgetDisplayName?: string;
  readonly costAmount: number;
  readonly budgetAmount: number;
  readonly alertThresholdExceeded?: number;
  readonly costIntervalStart: string;
  readonly currencyCode?: string;
}

export interface GuardConfig {
  readonly service: string;
  readonly jobs: readonly string[];
  readonly ratio: number;
  readonly maxInstances: number;
  /** Overridable for tests; Google's endpoints by default. */
  readonly runApi: string;
  readonly schedulerApi: string;
  readonly tokenUrl: string;
}

export type GuardOutcome =
  | { readonly action: "tripped"; readonly paused: readonly string[] }
  | { readonly action: "resumed"; readonly resumed: readonly string[] }
  | { readonly action: "none"; readonly reason: string };

export function configFromEnv(env: NodeJS.ProcessEnv): GuardConfig {
  const service = env.GUARD_SERVICE ?? "";
  if (!/^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/.test(service)) throw new Error(`GUARD_SERVICE must be projects/P/locations/R/services/S, got "${service}"`);
  const jobs = (env.GUARD_JOBS ?? "").split(",").filter((j) => j !== "");
  for (const j of jobs) if (!/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/.test(j)) throw new Error(`GUARD_JOBS: "${j}" is not projects/P/locations/R/jobs/J`);
  const ratio = Number(env.GUARD_RATIO ?? "1");
  if (!(ratio > 0)) throw new Error(`GUARD_RATIO must be a positive number, got "${env.GUARD_RATIO}"`);
  const maxInstances = Number(env.GUARD_MAX_INSTANCES ?? "0");
  if (!Number.isInteger(maxInstances) || maxInstances < 0) throw new Error(`GUARD_MAX_INSTANCES must be a whole number, got "${env.GUARD_MAX_INSTANCES}"`);
  return {
    service,
    jobs,
    ratio,
    maxInstances,
    runApi: env.GUARD_RUN_API ?? "https://run.googleapis.com",
    schedulerApi: env.GUARD_SCHEDULER_API ?? "https://cloudscheduler.googleapis.com",
    tokenUrl: env.GUARD_TOKEN_URL ?? "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
  };
}

/** Parses and checks a notification; undefined (and a log line) when it is not one. */
export function parseNotification(data: unknown): BudgetNotification | undefined {
  const n = data as Partial<BudgetNotification> | null;
  if (!n || typeof n !== "object") return undefined;
  if (typeof n.costAmount !== "number" || typeof n.budgetAmount !== "number" || typeof n.costIntervalStart !== "string") return undefined;
  if (Number.isNaN(Date.parse(n.costIntervalStart))) return undefined;
  return n as BudgetNotification;
}

function log(severity: "INFO" | "WARNING" | "ERROR", message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ severity, message, component: "warmstart-budget-guard", ...fields }));
}

async function token(cfg: GuardConfig): Promise<string> {
  const r = await fetch(cfg.tokenUrl, { headers: { "Metadata-Flavor": "Google" } });
  if (!r.ok) throw new Error(`metadata token: HTTP ${r.status}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

async function api(method: string, url: string, bearer: string, body?: unknown): Promise<any> {
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: HTTP ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}

/** Acts on one budget notification. Throws only on API failures (so Pub/Sub retries); bad messages are logged and dropped. */
export async function handleNotification(n: BudgetNotification, cfg: GuardConfig): Promise<GuardOutcome> {
  const bearer = await token(cfg);
  if (n.costAmount >= cfg.ratio * n.budgetAmount) {
    const mask = cfg.maxInstances > 0 ? "scaling.minInstanceCount,scaling.maxInstanceCount" : "scaling.minInstanceCount";
    const scaling = cfg.maxInstances > 0 ? { minInstanceCount: 0, maxInstanceCount: cfg.maxInstances } : { minInstanceCount: 0 };
    await api("PATCH", `${cfg.runApi}/v2/${cfg.service}?updateMask=${mask}`, bearer, { scaling });
    for (const job of cfg.jobs) await api("POST", `${cfg.schedulerApi}/v1/${job}:pause`, bearer, {});
    log("WARNING", "budget guard tripped: min instances set to 0 and warm-window jobs paused", {
      costAmount: n.costAmount,
      budgetAmount: n.budgetAmount,
      currencyCode: n.currencyCode,
      costIntervalStart: n.costIntervalStart,
      service: cfg.service,
      scaling,
      pausedJobs: cfg.jobs,
    });
    return { action: "tripped", paused: cfg.jobs };
  }
  const periodStart = Date.parse(n.costIntervalStart);
  const resumed: string[] = [];
  for (const job of cfg.jobs) {
    const j = (await api("GET", `${cfg.schedulerApi}/v1/${job}`, bearer)) as { state?: string; userUpdateTime?: string };
    // Paused before this period began: the budget has renewed since the trip.
    if (j.state === "PAUSED" && j.userUpdateTime && Date.parse(j.userUpdateTime) < periodStart) {
      await api("POST", `${cfg.schedulerApi}/v1/${job}:resume`, bearer, {});
      resumed.push(job);
    }
  }
  if (resumed.length > 0) {
    log("INFO", "new budget period: warm-window jobs resumed; the next window edge restores min instances", { costIntervalStart: n.costIntervalStart, resumedJobs: resumed });
    return { action: "resumed", resumed };
  }
  return { action: "none", reason: `cost ${n.costAmount} is below ${cfg.ratio} x ${n.budgetAmount}` };
}

/** The CloudEvent a Pub/Sub-triggered gen2 function receives. */
interface PubSubCloudEvent {
  readonly data?: { readonly message?: { readonly data?: string } };
}

/** Entry point (`budgetGuard`). */
export async function budgetGuard(event: PubSubCloudEvent): Promise<void> {
  const cfg = configFromEnv(process.env);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(event.data?.message?.data ?? "", "base64").toString("utf8"));
  } catch {
    payload = undefined;
  }
  const n = parseNotification(payload);
  if (!n) {
    log("ERROR", "not a budget notification; dropped", { payload: String(event.data?.message?.data ?? "").slice(0, 200) });
    return;
  }
  const outcome = await handleNotification(n, cfg);
  if (outcome.action === "none") log("INFO", `no action: ${outcome.reason}`);
}
