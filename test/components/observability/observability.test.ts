import { describe, expect, test } from "vitest";
import { COLD_START_FIELD, COLD_START_PHASES, logLine, READY_MESSAGE, WARMUP_FAILED_MESSAGE } from "../../../container/logContract";
import { dashboardJson, scheduleMarkdown } from "../../../components/observability/dashboardWidgets";
import { buildWarmSchedule, parseWarmWindows } from "../../../components/schedule/warmWindows";
import { googleApis } from "../../../functions/googleApis";
import { waitForMetrics, waitFromEnv } from "../../../scripts/wait-log-metrics";
import { runStack, type StackRun } from "../../harness";
import { startFakeGoogle } from "../../support/fakeGoogle";

/** The stack with the default config, run once for the tests that only read it. */
let defaultRun: Promise<StackRun> | undefined;
const defaults = () => (defaultRun ??= runStack());

const BUDGET = { "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C", "warmstart:monthlyBudget": "600", "warmstart:alertEmails": "ops@example.com" };

/**
 * A tiny evaluator for the Logging filter forms used here (`a.b.c="x"` and `a.b.c:"x"` joined by AND), applied to a
 * real supervisor log line as Cloud Logging would store it: the proof that the filters match what the supervisor writes.
 */
function matches(filter: string, entry: Record<string, unknown>): boolean {
  return filter.split(" AND ").every((clause) => {
    const m = /^([\w.]+)(=|:)"(.*)"$/.exec(clause.trim());
    if (!m) return true; // severity and resource clauses are not about the payload
    const value = m[1].split(".").reduce<any>((o, k) => (o === undefined ? undefined : o[k]), entry);
    return m[2] === "=" ? value === m[3] : String(value ?? "").includes(m[3]);
  });
}
const entryOf = (line: string) => ({ resource: { type: "cloud_run_revision", labels: { service_name: "warmstart" } }, jsonPayload: JSON.parse(line) });

describe("log-based metrics", () => {
  test("a distribution per cold-start phase, extracted from the supervisor's own ready line", async () => {
    const run = await defaults();
    const metrics = run.ofType("gcp:logging/metric:Metric").filter((m) => (m.inputs as any).metricDescriptor.valueType === "DISTRIBUTION");
    expect(metrics.map((m) => m.inputs.valueExtractor).sort()).toEqual(COLD_START_PHASES.map((p) => `EXTRACT(jsonPayload.${COLD_START_FIELD}.${p})`).sort());
    const ready = entryOf(logLine("INFO", READY_MESSAGE, { [COLD_START_FIELD]: { prefetchMs: 1, serverReadyMs: 2, warmupMs: 3, totalMs: 6, bytesPrefetched: 9 } }));
    for (const m of metrics) {
      expect(matches(String(m.inputs.filter), ready), String(m.inputs.filter)).toBe(true);
      expect(matches(String(m.inputs.filter), entryOf(logLine("INFO", "listening on :8080")))).toBe(false);
    }
  });

  test("the warmup-failure counter matches the supervisor's failure line and nothing else", async () => {
    const run = await defaults();
    const counter = run.ofType("gcp:logging/metric:Metric").find((m) => m.inputs.name === "warmstart-warmup-failures")!;
    expect(matches(String(counter.inputs.filter), entryOf(logLine("ERROR", WARMUP_FAILED_MESSAGE, { attempt: 1 })))).toBe(true);
    expect(matches(String(counter.inputs.filter), entryOf(logLine("INFO", READY_MESSAGE)))).toBe(false);
  });
});

describe("dashboard", () => {
  // Dashboard JSON as https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards defines it; XyChart's
  // thresholds are Threshold {label, value, targetAxis} (color and direction are not allowed in an XyChart).
  const DASHBOARD_KEYS = new Set(["displayName", "mosaicLayout", "columns", "tiles", "xPos", "yPos", "width", "height", "widget", "title", "xyChart", "text", "content", "format", "dataSets", "plotType", "legendTemplate", "timeSeriesQuery", "timeSeriesFilter", "prometheusQuery", "filter", "aggregation", "alignmentPeriod", "perSeriesAligner", "crossSeriesReducer", "groupByFields", "yAxis", "scale", "thresholds", "label", "value", "targetAxis"]);
  const ALIGNERS = /^ALIGN_(MAX|SUM|RATE|PERCENTILE_(50|95|99))$/;

  test("uses only the Monitoring API's dashboard fields and valid enum values, tiles within 12 columns", async () => {
    const run = await defaults();
    const json = JSON.parse(String(run.one("gcp:monitoring/dashboard:Dashboard").inputs.dashboardJson));
    const walk = (v: any) => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) {
        expect(DASHBOARD_KEYS, `unknown field ${k}`).toContain(k);
        if (k === "perSeriesAligner") expect(x).toMatch(ALIGNERS);
        if (k === "crossSeriesReducer") expect(x).toMatch(/^REDUCE_(SUM|MAX)$/);
        if (k === "plotType") expect(x).toMatch(/^(LINE|STACKED_AREA|STACKED_BAR)$/);
        walk(x);
      }
    };
    walk(json);
    for (const t of json.mosaicLayout.tiles) expect(t.xPos + t.width).toBeLessThanOrEqual(json.mosaicLayout.columns);
    const titles = json.mosaicLayout.tiles.map((t: any) => t.widget.title);
    for (const want of ["Instances (by state)", "Scheduled min instances", "Request latency against the objective (ms)", "Cold starts in the last 24 h", "Cold start phases (p95, ms)", "Container startup latency", "GPU utilization", "GPU memory", "Billable instance time (s/s)", "Budget spend"]) expect(titles).toContain(want);
  });

  test("shows the weekly schedule next to the instance count", () => {
    const s = buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "Europe/London", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 });
    const md = scheduleMarkdown(s);
    expect(md).toContain("| mon | 0 | 08:55 → 1, 21:00 → 0 |");
    expect(md).toContain("| sat | 0 | — |");
    const d = dashboardJson({ ...INPUT, scheduleMarkdown: md }) as any;
    expect(d.mosaicLayout.tiles[1].widget.text.content).toBe(md);
  });

  const INPUT = {
    serviceName: "x",
    coldStartMetrics: { prefetchMs: "a", serverReadyMs: "b", warmupMs: "c", totalMs: "d" },
    coldStartCountMetric: "x-cold-starts",
    warmupFailureMetric: "w",
    scheduleMarkdown: "",
    objectives: { coldStartsPerDay: 5, latency: [] },
  };
  const chart = (d: any, title: string) => d.mosaicLayout.tiles.find((t: any) => t.widget.title === title).widget.xyChart;

  test("shows the cold starts of the last 24 h and Cloud Run's request latency p50/p90/p99 against the users' objectives", async () => {
    const run = await defaults();
    const d = JSON.parse(String(run.one("gcp:monitoring/dashboard:Dashboard").inputs.dashboardJson));
    const colds = chart(d, "Cold starts in the last 24 h");
    expect(colds.dataSets.map((s: any) => s.timeSeriesQuery.prometheusQuery)).toEqual([
      'sum(increase({"__name__"="logging.googleapis.com/user/warmstart-cold-starts","monitored_resource"="cloud_run_revision"}[24h]))',
    ]);
    expect(colds.thresholds).toEqual([{ label: "objective: fewer than 5", value: 5, targetAxis: "Y1" }]);
    const latency = chart(d, "Request latency against the objective (ms)");
    expect(latency.dataSets.map((s: any) => s.timeSeriesQuery.prometheusQuery)).toEqual(
      ["0.5", "0.9", "0.99"].map(
        (q) => `histogram_quantile(${q}, sum by (le) (rate({"__name__"="run.googleapis.com/request_latencies_bucket","monitored_resource"="cloud_run_revision","service_name"="warmstart"}[1h])))`,
      ),
    );
    expect(latency.dataSets.map((s: any) => s.legendTemplate)).toEqual(["p50 (last hour)", "p90 (last hour)", "p99 (last hour)"]);
    expect(latency.thresholds).toEqual([
      { label: "p50 objective 5 s", value: 5000, targetAxis: "Y1" },
      { label: "p90 objective 10 s", value: 10000, targetAxis: "Y1" },
      { label: "p99 objective 25 s", value: 25000, targetAxis: "Y1" },
    ]);
  });

  test("charts the objectives a stack sets, and no threshold where it sets none", () => {
    const some = dashboardJson({ ...INPUT, objectives: { coldStartsPerDay: 2, latency: [{ percentile: 95, seconds: 7.5 }] } }) as any;
    expect(chart(some, "Cold starts in the last 24 h").thresholds).toEqual([{ label: "objective: fewer than 2", value: 2, targetAxis: "Y1" }]);
    expect(chart(some, "Request latency against the objective (ms)").thresholds).toEqual([{ label: "p95 objective 7.5 s", value: 7500, targetAxis: "Y1" }]);
    expect(chart(some, "Request latency against the objective (ms)").dataSets.map((s: any) => s.legendTemplate)).toEqual(["p95 (last hour)"]);
    const none = dashboardJson({ ...INPUT, objectives: { coldStartsPerDay: 0, latency: [] } }) as any;
    expect(chart(none, "Cold starts in the last 24 h").thresholds).toEqual([]);
    expect(chart(none, "Request latency against the objective (ms)").thresholds).toEqual([]);
    expect(chart(none, "Request latency against the objective (ms)").dataSets).toHaveLength(3);
  });
});

describe("alert policies", () => {
  test("warmup failures, slow cold starts, 5xx rate, guard trips and the objectives, to the budget's email channel", async () => {
    const run = await runStack({ ...BUDGET, "warmstart:coldStartAlertSeconds": "120" });
    const policies = run.ofType("gcp:monitoring/alertPolicy:AlertPolicy").map((p) => p.inputs as any);
    expect(policies.map((p) => p.displayName).sort()).toEqual([
      "warmstart warmstart: 5 or more cold starts in 24 h",
      "warmstart warmstart: 5xx above 5% of requests",
      "warmstart warmstart: budget guard tripped",
      "warmstart warmstart: cold start above 120 s",
      "warmstart warmstart: request latency above its objective over 24 h",
      "warmstart warmstart: warmup failed",
    ]);
    const channel = run.one("gcp:monitoring/notificationChannel:NotificationChannel");
    for (const p of policies) expect(p.notificationChannels).toEqual([expect.stringMatching(/^projects\/acme-test-123\/notificationChannels\/\d+$/)]);
    expect(channel.inputs.labels).toEqual({ email_address: "ops@example.com" });
    const slow = policies.find((p) => /cold start/.test(p.displayName)).conditions[0].conditionThreshold;
    expect(slow).toMatchObject({ thresholdValue: 120_000, comparison: "COMPARISON_GT", filter: 'metric.type="logging.googleapis.com/user/warmstart-cold-start-total" AND resource.type="cloud_run_revision"' });
    const errors = policies.find((p) => /5xx/.test(p.displayName)).conditions[0].conditionThreshold;
    expect(errors.filter).toContain('metric.label."response_code_class"="5xx"');
    expect(errors.denominatorFilter).not.toContain("5xx");
  });

  let objectives: Promise<StackRun> | undefined;
  const objectivesRun = () => (objectives ??= runStack({ ...BUDGET, "warmstart:coldStartsPerDayObjective": "3", "warmstart:latencyObjectiveSeconds": '{"p90":10,"p99":25}' }));

  test("the day's cold starts: an alert when 24 h hold as many as the objective, counted from the supervisor's ready line", async () => {
    const run = await objectivesRun();
    const counter = run.ofType("gcp:logging/metric:Metric").find((m) => m.inputs.name === "warmstart-cold-starts")!;
    expect(counter.inputs.metricDescriptor).toEqual({ metricKind: "DELTA", valueType: "INT64", unit: "1" });
    expect(matches(String(counter.inputs.filter), entryOf(logLine("INFO", READY_MESSAGE, { [COLD_START_FIELD]: { totalMs: 6 } })))).toBe(true);
    expect(matches(String(counter.inputs.filter), entryOf(logLine("ERROR", WARMUP_FAILED_MESSAGE)))).toBe(false);
    const policy = run.ofType("gcp:monitoring/alertPolicy:AlertPolicy").find((p) => /cold starts in 24 h/.test(String(p.inputs.displayName)))!;
    expect(policy.inputs.displayName).toBe("warmstart warmstart: 3 or more cold starts in 24 h");
    expect((policy.inputs as any).conditions).toEqual([
      {
        displayName: "cold starts in the last 24 h reach 3",
        conditionThreshold: {
          filter: 'metric.type="logging.googleapis.com/user/warmstart-cold-starts" AND resource.type="cloud_run_revision"',
          comparison: "COMPARISON_GT",
          thresholdValue: 2,
          duration: "60s",
          aggregations: [{ alignmentPeriod: "86400s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
          evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
        },
      },
    ]);
    expect(policy.inputs.notificationChannels).toEqual([expect.stringMatching(/^projects\/acme-test-123\/notificationChannels\/\d+$/)]);
    expect(policy.dependencies).toContain(run.command("wait-log-metrics").urn);
  });

  test("each latency objective is a 28-day SLO on Cloud Run's request latencies, with an alert when the last 24 h miss it", async () => {
    const run = await objectivesRun();
    const service = run.one("gcp:monitoring/customService:CustomService");
    expect(service.inputs).toMatchObject({ project: "acme-test-123", serviceId: "warmstart-objectives" });
    const slos = run.ofType("gcp:monitoring/slo:Slo");
    expect(slos.map((s) => s.inputs as any)).toEqual([
      expect.objectContaining({ sloId: "latency-p90", goal: 0.9, rollingPeriodDays: 28 }),
      expect.objectContaining({ sloId: "latency-p99", goal: 0.99, rollingPeriodDays: 28 }),
    ]);
    expect((slos[0].inputs as any).requestBasedSli).toEqual({
      distributionCut: {
        distributionFilter: 'metric.type="run.googleapis.com/request_latencies" AND resource.type="cloud_run_revision" AND resource.label."service_name"="warmstart"',
        range: { max: 10000 },
      },
    });
    for (const s of slos) expect(s.dependencies).toContain(service.urn);
    const policy = run.ofType("gcp:monitoring/alertPolicy:AlertPolicy").find((p) => /latency above its objective/.test(String(p.inputs.displayName)))!;
    expect((policy.inputs as any).conditions.map((c: any) => [c.displayName, c.conditionThreshold])).toEqual([
      [
        "p90 above 10 s over the last 24 h",
        {
          filter: 'select_slo_burn_rate("projects/acme-test-123/services/warmstart-objectives/serviceLevelObjectives/latency-p90", "86400s")',
          comparison: "COMPARISON_GT",
          thresholdValue: 1,
          duration: "60s",
          evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
        },
      ],
      [
        "p99 above 25 s over the last 24 h",
        {
          filter: 'select_slo_burn_rate("projects/acme-test-123/services/warmstart-objectives/serviceLevelObjectives/latency-p99", "86400s")',
          comparison: "COMPARISON_GT",
          thresholdValue: 1,
          duration: "60s",
          evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
        },
      ],
    ]);
    for (const s of slos) expect(policy.dependencies).toContain(s.urn);
    expect(policy.inputs.notificationChannels).toEqual([expect.stringMatching(/^projects\/acme-test-123\/notificationChannels\/\d+$/)]);
  });

  test("no objective set, no SLO and no objective alert", async () => {
    const run = await runStack({ "warmstart:coldStartsPerDayObjective": "0", "warmstart:latencyObjectiveSeconds": "{}" });
    expect(run.ofType("gcp:monitoring/slo:Slo")).toEqual([]);
    expect(run.ofType("gcp:monitoring/customService:CustomService")).toEqual([]);
    const names = run.ofType("gcp:monitoring/alertPolicy:AlertPolicy").map((p) => String(p.inputs.displayName));
    expect(names.filter((n) => /cold starts in 24 h|latency above/.test(n))).toEqual([]);
  });

  test("without a budget there is no guard alert and no channel", async () => {
    const policies = (await defaults()).ofType("gcp:monitoring/alertPolicy:AlertPolicy").map((p) => p.inputs as any);
    expect(policies.map((p) => p.displayName)).not.toContain("warmstart warmstart: budget guard tripped");
    for (const p of policies) expect(p.notificationChannels).toEqual([]);
  });
});

describe("alert policies wait for Monitoring to know their log-based metrics", () => {
  const api = (base: string) => googleApis(async () => "fake-token", { run: base, scheduler: base, storage: base, monitoring: base });

  test("the wait ends once Monitoring knows every metric, however many reads that took", async () => {
    const google = await startFakeGoogle();
    try {
      google.metrics.set("logging.googleapis.com/user/a", 2);
      google.metrics.set("logging.googleapis.com/user/b", 0);
      await waitForMetrics(api(google.base), { project: "acme-test-123", metricTypes: ["logging.googleapis.com/user/a", "logging.googleapis.com/user/b"], seconds: 30, pollSeconds: 0.01 });
      expect(google.calls.filter((c) => c.endsWith("%2Fa")).length).toBe(3);
    } finally {
      await google.close();
    }
  });

  test("a metric still unknown at the deadline fails the deploy, naming it", async () => {
    const google = await startFakeGoogle();
    try {
      google.metrics.set("logging.googleapis.com/user/a", 0);
      const w = { project: "acme-test-123", metricTypes: ["logging.googleapis.com/user/a", "logging.googleapis.com/user/never"], seconds: 0.05, pollSeconds: 0.01 };
      await expect(waitForMetrics(api(google.base), w)).rejects.toThrow(/Monitoring still does not know logging\.googleapis\.com\/user\/never after 0\.05 s; run pulumi up again/);
    } finally {
      await google.close();
    }
    expect(() => waitFromEnv({ WAIT_PROJECT: "acme-test-123", WAIT_METRIC_TYPES: "user/x" })).toThrow(/"user\/x" in WAIT_METRIC_TYPES is not logging\.googleapis\.com\/user\/NAME/);
  });

  test("in the stack: every policy waits for the check, which waits for every metric and re-runs only when they change", async () => {
    const run = await runStack({ "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C", "warmstart:monthlyBudget": "600" });
    const wait = run.command("wait-log-metrics");
    const metrics = run.ofType("gcp:logging/metric:Metric");
    for (const m of metrics) expect(wait.dependencies).toContain(m.urn);
    expect([...(wait.inputs.triggers as string[])].sort()).toEqual(metrics.map((m) => `logging.googleapis.com/user/${m.inputs.name}`).sort());
    for (const p of run.ofType("gcp:monitoring/alertPolicy:AlertPolicy")) expect(p.dependencies, p.name).toContain(wait.urn);
  });
});
