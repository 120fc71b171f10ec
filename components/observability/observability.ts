import * as command from "@pulumi/command";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { COLD_START_PHASES } from "../../container/logContract";
import { latencySloId, type Objectives } from "./objectives";
import {
  coldStartExtractor,
  dashboardJson,
  guardTrippedLogFilter,
  logMetricType,
  monitoringServiceFilter,
  readyLogFilter,
  RUN_METRICS,
  warmupFailedLogFilter,
} from "./dashboardWidgets";

export interface ObservabilityArgs {
  /** The Google Cloud project (`gcp:project`): the metrics, dashboard, policies and SLOs are made in it. */
  readonly project: string;
  /**
   * The Cloud Run service's name (`warmstart:serviceName`), which the log filters, charts and metric ids select on:
   * a string known before the service exists, so nothing here waits for it (the service waits for its image build).
   */
  readonly serviceName: string;
  /** Alert when a cold start's total exceeds this (`warmstart:coldStartAlertSeconds`). */
  readonly coldStartAlertSeconds: number;
  /** Where alerts go: the budget's email channels, when there are any. */
  readonly notificationChannels: readonly pulumi.Input<string>[];
  /**
   * The weekly schedule as markdown, shown on the dashboard beside the instance count.
   * @example "| day | edges |\n|---|---|\n| mon | 08:55→1 21:00→0 |"
   */
  readonly scheduleMarkdown: string;
  /** Whether the budget guard is deployed (its trip alert is created only then). */
  readonly guardDeployed: boolean;
  /**
   * Cold starts a day and request latency to aim for (`warmstart:coldStartsPerDayObjective`, `latencyObjectiveSeconds`):
   * charted, alerted on, and each latency objective an SLO.
   * @example { coldStartsPerDay: 5, latency: [{ percentile: 90, seconds: 10 }] }
   */
  readonly objectives: Objectives;
}

type Phase = (typeof COLD_START_PHASES)[number];

/**
 * Log-based metrics from the supervisor's JSON lines (cold-start phases, warmup failures) and the guard's, a
 * dashboard of the service, and alert policies to the budget's notification channels.
 */
export class Observability extends pulumi.ComponentResource {
  public readonly dashboard: gcp.monitoring.Dashboard;
  public readonly alertPolicies: gcp.monitoring.AlertPolicy[];
  /** One request-based SLO per latency objective; empty when none is set. */
  public readonly slos: gcp.monitoring.Slo[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:observability:Observability", name, {}, opts);
    const parent = { parent: this };
    const svc = args.serviceName;

    const metricName = (suffix: string) => `${svc}-${suffix}`;
    // The dashboard and the alert policies name these metrics by string, so both depend on them.
    const logMetrics: gcp.logging.Metric[] = [];
    const coldStartMetrics = Object.fromEntries(
      COLD_START_PHASES.map((phase) => {
        const id = metricName(`cold-start-${phase.replace(/Ms$/, "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        const metric = new gcp.logging.Metric(
          `${name}-${id}`,
          {
            project: args.project,
            name: id,
            description: `Cold start ${phase} of ${svc}, from the supervisor's ready line`,
            filter: readyLogFilter(svc),
            valueExtractor: coldStartExtractor(phase),
            metricDescriptor: { metricKind: "DELTA", valueType: "DISTRIBUTION", unit: "ms" },
            // 100 ms .. ~10 min
            bucketOptions: { exponentialBuckets: { numFiniteBuckets: 26, growthFactor: 1.4, scale: 100 } },
          },
          parent,
        );
        logMetrics.push(metric);
        return [phase, id];
      }),
    ) as Record<Phase, string>;
    const counter = (suffix: string, description: string, filter: string) => {
      const id = metricName(suffix);
      logMetrics.push(
        new gcp.logging.Metric(`${name}-${id}`, { project: args.project, name: id, description, filter, metricDescriptor: { metricKind: "DELTA", valueType: "INT64", unit: "1" } }, parent),
      );
      return id;
    };
    const warmupFailures = counter("warmup-failures", `Warmups of ${svc} that failed`, warmupFailedLogFilter(svc));
    const warmupJobFailures = counter(
      "warmup-job-failures",
      `Scheduler warmup calls to ${svc} that failed`,
      `resource.type="cloud_scheduler_job" AND resource.labels.job_id:"${svc}-warmup-" AND severity>=ERROR`,
    );
    const guardTrips = counter("budget-guard-trips", "Times the budget guard stopped the spend", guardTrippedLogFilter());
    // The ready line is logged once per instance start. The phase distributions above hold that count too, but a
    // metric-threshold condition cannot read it: ALIGN_COUNT takes numeric or Boolean values, not distributions
    // (Aggregation.Aligner, https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies).
    const coldStarts = counter("cold-starts", `Cold starts of ${svc}: the supervisor's ready line, once per instance start`, readyLogFilter(svc));

    this.dashboard = new gcp.monitoring.Dashboard(
      `${name}-dashboard`,
      {
        project: args.project,
        dashboardJson: JSON.stringify(
          dashboardJson({ serviceName: svc, coldStartMetrics, coldStartCountMetric: coldStarts, warmupFailureMetric: warmupFailures, scheduleMarkdown: args.scheduleMarkdown, objectives: args.objectives }),
        ),
      },
      { ...parent, dependsOn: logMetrics },
    );

    // Monitoring refuses an alert policy on a log-based metric for up to 10 minutes after the metric is created
    // ("Cannot find metric(s)", hashicorp/terraform-provider-google#11102, still open with the dependency in place):
    // the policies wait until Monitoring knows every one. Re-runs only when the set of metrics changes.
    const metricTypes = logMetrics.map((m) => m.name.apply(logMetricType));
    const metricsKnown = new command.local.Command(
      `${name}-wait-log-metrics`,
      {
        create: "npm run --silent wait-log-metrics",
        environment: { WAIT_PROJECT: args.project, WAIT_METRIC_TYPES: pulumi.all(metricTypes).apply((t) => t.join(",")) },
        triggers: metricTypes,
        logging: "stderr",
      },
      { ...parent, dependsOn: logMetrics },
    );
    const svcFilter = monitoringServiceFilter(svc);
    const policy = (id: string, displayName: string, documentation: string, conditions: gcp.types.input.monitoring.AlertPolicyCondition[], after: pulumi.Resource[] = []) =>
      new gcp.monitoring.AlertPolicy(
        `${name}-${id}`,
        {
          project: args.project,
          displayName: `warmstart ${svc}: ${displayName}`,
          combiner: "OR",
          conditions,
          notificationChannels: [...args.notificationChannels],
          documentation: { content: documentation, mimeType: "text/markdown" },
        },
        { ...parent, dependsOn: [metricsKnown, ...after] },
      );
    /** Any occurrence of a log-counter metric; `resourceType` is what the counted lines are logged under. */
    const countAbove0 = (displayName: string, metric: string, resourceType: string): gcp.types.input.monitoring.AlertPolicyCondition => ({
      displayName,
      conditionThreshold: {
        filter: `metric.type="${logMetricType(metric)}" AND resource.type="${resourceType}"`,
        comparison: "COMPARISON_GT",
        thresholdValue: 0,
        duration: "0s",
        aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
      },
    });
    this.alertPolicies = [
      policy("warmup-failed", "warmup failed", "A warmup at a window opening failed, or the supervisor's warmup failed: the window may have opened cold. See the supervisor's `warmup failed` log lines and the scheduler job's log.", [
        countAbove0("supervisor warmup failed", warmupFailures, "cloud_run_revision"),
        countAbove0("scheduler warmup call failed", warmupJobFailures, "cloud_scheduler_job"),
      ]),
      policy("cold-start-slow", `cold start above ${args.coldStartAlertSeconds} s`, "A cold start took longer than warmstart:coldStartAlertSeconds. The phases are on the dashboard (prefetch, model server ready, warmup).", [
        {
          displayName: `cold start total above ${args.coldStartAlertSeconds} s`,
          conditionThreshold: {
            filter: `metric.type="${logMetricType(coldStartMetrics.totalMs)}" AND resource.type="cloud_run_revision"`,
            comparison: "COMPARISON_GT",
            thresholdValue: args.coldStartAlertSeconds * 1000,
            duration: "0s",
            aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX" }],
          },
        },
      ]),
      policy("5xx-rate", "5xx above 5% of requests", "More than 5% of requests answered 5xx for 5 minutes.", [
        {
          displayName: "5xx ratio above 5%",
          conditionThreshold: {
            filter: `metric.type="${RUN_METRICS.requestCount}" AND ${svcFilter} AND metric.label."response_code_class"="5xx"`,
            denominatorFilter: `metric.type="${RUN_METRICS.requestCount}" AND ${svcFilter}`,
            comparison: "COMPARISON_GT",
            thresholdValue: 0.05,
            duration: "300s",
            aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" }],
            denominatorAggregations: [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" }],
          },
        },
      ]),
    ];
    const { coldStartsPerDay, latency } = args.objectives;
    if (coldStartsPerDay > 0) {
      this.alertPolicies.push(
        policy(
          "cold-starts-objective",
          `${coldStartsPerDay} or more cold starts in 24 h`,
          `The last 24 hours held ${coldStartsPerDay} or more cold starts: warmstart:coldStartsPerDayObjective asks for fewer. Each instance start counts, a warm window's opening too. See the dashboard's "Cold starts in the last 24 h" and "Instances (by state)": a window that opens too late, min instances too low for the traffic, or instances replaced (a deploy, a crash).`,
          [
            {
              displayName: `cold starts in the last 24 h reach ${coldStartsPerDay}`,
              conditionThreshold: {
                filter: `metric.type="${logMetricType(coldStarts)}" AND resource.type="cloud_run_revision"`,
                // Counts are whole: more than N-1 is N or more. A threshold condition compares only GT or LT.
                comparison: "COMPARISON_GT",
                thresholdValue: coldStartsPerDay - 1,
                // 60 s: the least a condition with evaluationMissingData may wait (alert.proto,
                // MetricThreshold.evaluation_missing_data); the API refuses 0 s with it.
                duration: "60s",
                // An alert policy's alignment period is a window sliding with each evaluation, at most 90,000 s
                // (Aggregation.alignmentPeriod, https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies;
                // https://cloud.google.com/monitoring/alerts/concepts-indepth): 86,400 s is the last 24 hours.
                aggregations: [{ alignmentPeriod: "86400s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
                // A quiet day writes no point: the condition is then not met and the incident closes, rather than
                // staying open until Monitoring's auto-close.
                evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
              },
            },
          ],
        ),
      );
    }

    // Latency objectives as SLOs: a request-based SLI is the fraction of Cloud Run's request latencies within a range
    // (DistributionCut, https://cloud.google.com/stackdriver/docs/solutions/slo-monitoring/sli-metrics/req-resp-metrics),
    // so "p90 < 10 s" is "90% of requests take at most 10,000 ms". A custom service holds them: the SLI's filter names
    // the Cloud Run service, and a custom service refers to nothing that must exist first.
    this.slos = [];
    if (latency.length > 0) {
      const serviceId = `${svc}-objectives`;
      const service = new gcp.monitoring.CustomService(`${name}-objectives`, { project: args.project, serviceId, displayName: `warmstart ${svc}: objectives` }, parent);
      const slos = latency.map(
        (o) =>
          new gcp.monitoring.Slo(
            `${name}-${latencySloId(o)}`,
            {
              project: args.project,
              service: service.serviceId,
              sloId: latencySloId(o),
              displayName: `p${o.percentile} latency below ${o.seconds} s`,
              goal: o.percentile / 100,
              rollingPeriodDays: 28,
              requestBasedSli: {
                distributionCut: {
                  distributionFilter: `metric.type="${RUN_METRICS.requestLatencies}" AND ${svcFilter}`,
                  range: { max: o.seconds * 1000 },
                },
              },
            },
            { ...parent, dependsOn: [service] },
          ),
      );
      this.slos.push(...slos);
      // Burn rate is the bad fraction of the lookback's requests over the SLO's budget (1 - goal): above 1 over the
      // last 24 hours means more than (100 - p)% of that day's requests took longer than the objective, i.e. the day's
      // pN missed it. A higher threshold could never fire for p50 (its burn rate is at most 1 / 0.5 = 2).
      // select_slo_burn_rate: https://cloud.google.com/stackdriver/docs/solutions/slo-monitoring/alerting-on-budget-burn-rate.
      // Resource names take the project id or number (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/services).
      this.alertPolicies.push(
        policy(
          "latency-objective",
          "request latency above its objective over 24 h",
          "Over the last 24 hours a request-latency percentile missed warmstart:latencyObjectiveSeconds (Cloud Run's request latencies). The SLOs are under Monitoring → SLOs; the dashboard charts the percentiles against the objectives. With little traffic one slow request (a cold start) can miss p99 on its own.",
          latency.map((o) => ({
            displayName: `p${o.percentile} above ${o.seconds} s over the last 24 h`,
            conditionThreshold: {
              filter: `select_slo_burn_rate("projects/${args.project}/services/${serviceId}/serviceLevelObjectives/${latencySloId(o)}", "86400s")`,
              comparison: "COMPARISON_GT",
              thresholdValue: 1,
              // At least 60 s with evaluationMissingData (alert.proto), as above.
              duration: "60s",
              evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
            },
          })),
          slos,
        ),
      );
    }

    if (args.guardDeployed) {
      this.alertPolicies.push(
        policy("budget-guard-tripped", "budget guard tripped", "The budget guard set min instances to 0 and paused the warm-window jobs. See docs/operations.md, 'When the budget guard trips'.", [
          // Gen2 functions log as Cloud Run revisions.
          countAbove0("budget guard tripped", guardTrips, "cloud_run_revision"),
        ]),
      );
    }
    this.registerOutputs({ dashboard: this.dashboard.id });
  }
}
