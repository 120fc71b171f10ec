/**
 * Log filters and the Cloud Monitoring dashboard for the service. Pure: builds strings and JSON; the
 * Observability component turns them into resources. Field names come from the supervisor, never retyped.
 */
import { GUARD_LOG_COMPONENT, GUARD_TRIPPED_MESSAGE } from "../../functions/guardContract";
import { COLD_START_FIELD, COLD_START_PHASES, READY_MESSAGE, WARMUP_FAILED_MESSAGE } from "../../container/logContract";
import type { LatencyObjective, Objectives } from "./objectives";
import { DAY_NAMES, edgesByDay, type CompiledSchedule } from "../schedule/warmWindows";

/** The weekly schedule as a markdown table: per day, the level at midnight and each edge. */
export function scheduleMarkdown(s: CompiledSchedule): string {
  const rows = edgesByDay(s.levels).map((d, i) => `| ${DAY_NAMES[i]} | ${d.atMidnight} | ${d.changes.map((c) => `${c.time} → ${c.level}`).join(", ") || "—"} |`);
  return [`Min instances by ${s.timeZone} wall clock:`, "", "| day | at 00:00 | changes |", "|---|---|---|", ...rows].join("\n");
}

/**
 * Built-in Cloud Run metric types used here (cloud.google.com/run/docs/monitoring, read 2026-11-23). request_latencies
 * is a DELTA DISTRIBUTION in ms on cloud_run_revision, "Distribution of request latency in milliseconds reaching the
 * revision" (https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run; its wording as
 * https://docs.observeinc.com/en/latest/content/integrations/gcp/cloud-run-metrics.html lists it, read 2026-11-29; Google's
 * own Cloud Run dashboard aligns it with ALIGN_DELTA, GoogleCloudPlatform/monitoring-dashboard-samples
 * dashboards/google-cloud-run/cloudrun-monitoring.json). It is Cloud Run's measure, not the supervisor's: a request that
 * queued while an instance started never reached the supervisor (issue #19).
 */
export const RUN_METRICS = {
  instanceCount: "run.googleapis.com/container/instance_count",
  requestCount: "run.googleapis.com/request_count",
  requestLatencies: "run.googleapis.com/request_latencies",
  startupLatencies: "run.googleapis.com/container/startup_latencies",
  billableInstanceTime: "run.googleapis.com/container/billable_instance_time",
  gpuUtilization: "run.googleapis.com/container/gpu/utilizations",
  gpuMemoryUsage: "run.googleapis.com/container/gpu/memory_usages",
} as const;


/** Monitoring filter of the service's time series (label syntax differs from the log filter's). */
export function monitoringServiceFilter(serviceName: string): string {
  return `resource.type="cloud_run_revision" AND resource.label."service_name"="${serviceName}"`;
}

/** Log filter of the service's own container logs. */
export function serviceLogFilter(serviceName: string): string {
  return `resource.type="cloud_run_revision" AND resource.labels.service_name="${serviceName}"`;
}

/** The supervisor's ready line, which carries the cold-start phases. */
export function readyLogFilter(serviceName: string): string {
  return `${serviceLogFilter(serviceName)} AND jsonPayload.message="${READY_MESSAGE}"`;
}

export function warmupFailedLogFilter(serviceName: string): string {
  return `${serviceLogFilter(serviceName)} AND jsonPayload.message="${WARMUP_FAILED_MESSAGE}"`;
}

/** The budget guard's trip line (its own function service). */
export function guardTrippedLogFilter(): string {
  return `jsonPayload.component="${GUARD_LOG_COMPONENT}" AND jsonPayload.message:"${GUARD_TRIPPED_MESSAGE}"`;
}

/** `EXTRACT(jsonPayload.coldStart.<phase>)` for a log-based distribution metric. */
export function coldStartExtractor(phase: (typeof COLD_START_PHASES)[number]): string {
  return `EXTRACT(jsonPayload.${COLD_START_FIELD}.${phase})`;
}

/** Metric type of a user-defined log-based metric. */
export function logMetricType(metricName: string): string {
  return `logging.googleapis.com/user/${metricName}`;
}

interface FilterSeries {
  readonly filter: string;
  readonly aligner: string;
  readonly reducer?: string;
  readonly groupBy?: readonly string[];
  readonly legend?: string;
}

/** A series from a PromQL query (https://cloud.google.com/monitoring/promql): what the aggregation enums cannot say. */
interface PromQlSeries {
  readonly promql: string;
  readonly legend?: string;
}

type ChartSeries = FilterSeries | PromQlSeries;

/**
 * A line drawn across the chart at `value`, in the metric's own unit. XyChart takes `thresholds` of Threshold
 * {label, value, targetAxis}; "Color is not allowed in a XyChart", nor is direction
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards, XyChart and Threshold;
 * https://cloud.google.com/python/docs/reference/monitoring-dashboards/latest/google.cloud.monitoring_dashboard_v1.types.Threshold).
 */
interface ChartThreshold {
  readonly label: string;
  readonly value: number;
}

function xyChart(title: string, series: readonly ChartSeries[], plotType = "LINE", thresholds?: readonly ChartThreshold[]): Record<string, unknown> {
  return {
    title,
    xyChart: {
      dataSets: series.map((s) => ({
        plotType,
        legendTemplate: s.legend,
        timeSeriesQuery:
          "promql" in s
            ? { prometheusQuery: s.promql }
            : {
                timeSeriesFilter: {
                  filter: s.filter,
                  aggregation: {
                    alignmentPeriod: "60s",
                    perSeriesAligner: s.aligner,
                    ...(s.reducer ? { crossSeriesReducer: s.reducer, groupByFields: [...(s.groupBy ?? [])] } : {}),
                  },
                },
              },
      })),
      ...(thresholds ? { thresholds: thresholds.map((t) => ({ label: t.label, value: t.value, targetAxis: "Y1" })) } : {}),
      yAxis: { scale: "LINEAR" },
    },
  };
}

/**
 * A PromQL selector of a Cloud Monitoring metric in the UTF-8 form, `{"__name__"="<type>", ...}`: the metric type as
 * written, no name mangling (a log-based metric's name holds hyphens). A distribution reads as a Prometheus histogram
 * with `_bucket` appended, and `monitored_resource` picks the resource type
 * (https://cloud.google.com/monitoring/promql/promql-mapping, https://cloud.google.com/monitoring/promql).
 */
export function promqlSelector(metricType: string, labels: Readonly<Record<string, string>>): string {
  return `{${[["__name__", metricType], ...Object.entries(labels)].map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(",")}}`;
}

/** Request-latency percentiles shown when no latency objective is set: the users' p50/p90/p99. */
const DEFAULT_PERCENTILES = [50, 90, 99];

/**
 * Cloud Run's request latency at each objective's percentile over the last hour. PromQL, because the aggregation
 * enums stop at ALIGN/REDUCE_PERCENTILE_50, 95 and 99 (Aggregation.Aligner and .Reducer in
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies): no p90.
 */
export function latencyChart(serviceName: string, objectives: readonly LatencyObjective[]): Record<string, unknown> {
  const buckets = promqlSelector(`${RUN_METRICS.requestLatencies}_bucket`, { monitored_resource: "cloud_run_revision", service_name: serviceName });
  const percentiles = objectives.length > 0 ? objectives.map((o) => o.percentile) : DEFAULT_PERCENTILES;
  return xyChart(
    "Request latency against the objective (ms)",
    percentiles.map((p) => ({ promql: `histogram_quantile(${p / 100}, sum by (le) (rate(${buckets}[1h])))`, legend: `p${p} (last hour)` })),
    "LINE",
    objectives.map((o) => ({ label: `p${o.percentile} objective ${o.seconds} s`, value: o.seconds * 1000 })),
  );
}

/** The supervisor's ready lines (one per instance start) over the 24 hours before each point: what the alert counts. */
export function coldStartsChart(countMetric: string, objective: number): Record<string, unknown> {
  const starts = promqlSelector(logMetricType(countMetric), { monitored_resource: "cloud_run_revision" });
  return xyChart(
    "Cold starts in the last 24 h",
    [{ promql: `sum(increase(${starts}[24h]))` }],
    "LINE",
    objective > 0 ? [{ label: `objective: fewer than ${objective}`, value: objective }] : [],
  );
}

export interface DashboardInput {
  readonly serviceName: string;
  /** Log-based metric names, per cold-start phase. */
  readonly coldStartMetrics: Readonly<Record<(typeof COLD_START_PHASES)[number], string>>;
  /** Log-based counter of the supervisor's ready lines: one per cold start. */
  readonly coldStartCountMetric: string;
  readonly warmupFailureMetric: string;
  /** Drawn as thresholds on the cold-start and latency charts. */
  readonly objectives: Objectives;
  /** The weekly schedule as markdown, shown beside the instance count. */
  readonly scheduleMarkdown: string;
}

/** The dashboard, as the Monitoring API's `Dashboard` JSON (mosaicLayout). */
export function dashboardJson(d: DashboardInput): Record<string, unknown> {
  const svc = monitoringServiceFilter(d.serviceName);
  const metric = (type: string) => `metric.type="${type}" AND ${svc}`;
  const percentiles = (type: string, name: string) =>
    (["50", "95", "99"] as const).map((p) => ({ filter: metric(type), aligner: `ALIGN_PERCENTILE_${p}`, reducer: "REDUCE_MAX", legend: `${name} p${p}` }));
  const widgets = [
    xyChart("Instances (by state)", [{ filter: metric(RUN_METRICS.instanceCount), aligner: "ALIGN_MAX", reducer: "REDUCE_SUM", groupBy: ["metric.label.state"] }], "STACKED_AREA"),
    { title: "Scheduled min instances", text: { content: d.scheduleMarkdown, format: "MARKDOWN" } },
    xyChart("Requests (by response class)", [{ filter: metric(RUN_METRICS.requestCount), aligner: "ALIGN_RATE", reducer: "REDUCE_SUM", groupBy: ["metric.label.response_code_class"] }]),
    latencyChart(d.serviceName, d.objectives.latency),
    coldStartsChart(d.coldStartCountMetric, d.objectives.coldStartsPerDay),
    xyChart(
      "Cold start phases (p95, ms)",
      COLD_START_PHASES.map((phase) => ({ filter: `metric.type="${logMetricType(d.coldStartMetrics[phase])}"`, aligner: "ALIGN_PERCENTILE_95", reducer: "REDUCE_MAX", legend: phase })),
    ),
    xyChart("Container startup latency", percentiles(RUN_METRICS.startupLatencies, "startup")),
    xyChart("GPU utilization", [{ filter: metric(RUN_METRICS.gpuUtilization), aligner: "ALIGN_PERCENTILE_95", reducer: "REDUCE_MAX" }]),
    xyChart("GPU memory", [{ filter: metric(RUN_METRICS.gpuMemoryUsage), aligner: "ALIGN_PERCENTILE_95", reducer: "REDUCE_MAX" }]),
    xyChart("Billable instance time (s/s)", [{ filter: metric(RUN_METRICS.billableInstanceTime), aligner: "ALIGN_RATE", reducer: "REDUCE_SUM" }]),
    xyChart("Warmup failures", [{ filter: `metric.type="${logMetricType(d.warmupFailureMetric)}"`, aligner: "ALIGN_SUM", reducer: "REDUCE_SUM" }], "STACKED_BAR"),
    {
      title: "Budget spend",
      text: { content: "Spend against the budget is in Billing → Budgets & alerts (Cloud Billing does not publish it as a Monitoring metric); alerts go to the budget's email channels.", format: "MARKDOWN" },
    },
  ];
  return {
    displayName: `warmstart: ${d.serviceName}`,
    mosaicLayout: {
      columns: 12,
      tiles: widgets.map((widget, i) => ({ xPos: (i % 2) * 6, yPos: Math.floor(i / 2) * 4, width: 6, height: 4, widget })),
    },
  };
}
