import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GUARD_TICK } from "../../functions/guardContract";
import { monitoringServiceFilter, RUN_METRICS } from "../observability/dashboardWidgets";
import { schedulerJobId, schedulerJobResourceName } from "../names";
import { dstWarnings } from "../schedule/warmWindows";

export interface DailySpendLimitArgs {
  /** USD a day (`warmstart:dailySpendLimit`), for the policy's name and documentation. */
  readonly limitUsd: number;
  /**
   * The alert's threshold: the billable instance-seconds in 24 hours that cost `limitUsd` at the service's shape
   * (costModel's instanceSecondsFor).
   * @example 126678.49 // $50 at 8 vCPU, 32 GiB, one L4 without zonal redundancy
   */
  readonly thresholdSeconds: number;
  /** The Google Cloud project (`gcp:project`). */
  readonly project: string;
  /** The region of the service; the midnight job runs there too. */
  readonly region: string;
  /**
   * The name of the Cloud Run service whose billable instance time is summed (`warmstart:serviceName`): a string
   * known before the service exists, so nothing here waits for it (the service waits for its image build).
   */
  readonly serviceName: string;
  /** The budget guard's topic (the budget's): the alert's channel and the midnight job publish to it. */
  readonly topic: gcp.pubsub.Topic;
  /** The stack's time zone (`warmstart:timezone`): the midnight job runs at its midnight. */
  readonly timeZone: string;
  /** Where people hear of the alert too: the budget's email channels. */
  readonly notificationChannels: readonly pulumi.Input<string>[];
  /** The deploy's instant, for the DST look-ahead of the midnight job (12 months from it). */
  readonly now: Date;
  /** What must exist before an alert is sent: the guard that receives it. */
  readonly after: readonly pulumi.Resource[];
}

/**
 * Alignment period of the alert: the last 24 hours, as a window sliding with each evaluation. At most 90,000 s for an
 * alert policy (Aggregation.alignmentPeriod: "104 weeks (2 years) for charts, and 90,000 seconds (25 hours) for
 * alerting policies", https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies).
 */
export const DAILY_WINDOW = "86400s";
/** How often Monitoring repeats the notification of an incident that stays open. */
export const DAILY_RENOTIFY = "3600s";

/**
 * The condition: the service's billable instance time summed over the last 24 hours and over its revisions, above the
 * threshold. `run.googleapis.com/container/billable_instance_time` is a DELTA DOUBLE metric in seconds on the
 * `cloud_run_revision` resource (labels project_id, service_name, revision_name, location, configuration_name),
 * sampled every 60 s and visible up to 120 s later, so the incident opens a few minutes after the line is passed (https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run,
 * as reproduced in googlecloudmonitoringreceiver's catalogue). Pure.
 */
export function dailySpendCondition(serviceName: string, thresholdSeconds: number, limitUsd: number): gcp.types.input.monitoring.AlertPolicyCondition {
  return {
    displayName: `billable instance time in the last 24 h above ${Math.round(thresholdSeconds)} s (${limitUsd} USD)`,
    conditionThreshold: {
      filter: `metric.type="${RUN_METRICS.billableInstanceTime}" AND ${monitoringServiceFilter(serviceName)}`,
      comparison: "COMPARISON_GT",
      thresholdValue: thresholdSeconds,
      // The window is already a day long; 60 s is the least a condition with evaluationMissingData may wait
      // (alert.proto, MetricThreshold.evaluation_missing_data).
      duration: "60s",
      aggregations: [{ alignmentPeriod: DAILY_WINDOW, perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
      // A service without instances for a day writes no point: the condition is then not met.
      evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
    },
  };
}

/**
 * The daily spend limit: an alert policy on the service's billable instance time in the last 24 hours, priced at its
 * shape, that notifies the budget guard through a Pub/Sub notification channel on the guard's topic; and a Cloud
 * Scheduler job that publishes the midnight tick there at local midnight, so a daily hold ends on time. The guard
 * (functions/guardHandler.ts) tells the incident and the tick from a budget notification by their shape.
 */
export class DailySpendLimit extends pulumi.ComponentResource {
  public readonly channel: gcp.monitoring.NotificationChannel;
  public readonly alertPolicy: gcp.monitoring.AlertPolicy;
  public readonly midnightJob: gcp.cloudscheduler.Job;
  /** projects/P/locations/R/jobs/J of the midnight job. */
  public readonly midnightJobResourceName: pulumi.Output<string>;

  constructor(name: string, args: DailySpendLimitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:budget:DailySpendLimit", name, {}, opts);
    const parent = { parent: this };

    this.channel = new gcp.monitoring.NotificationChannel(
      `${name}-daily-limit-channel`,
      { project: args.project, type: "pubsub", displayName: `warmstart ${args.serviceName}: budget guard (daily spend limit)`, labels: { topic: args.topic.id } },
      parent,
    );
    // Monitoring publishes as its notification service agent, which needs publish on the topic
    // (https://cloud.google.com/monitoring/support/notification-options#pubsub). The agent is made with the project's
    // first Pub/Sub channel, so the grant waits for the channel.
    const project = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this });
    const publisher = new gcp.pubsub.TopicIAMMember(
      `${name}-monitoring-publisher`,
      {
        project: args.project,
        topic: args.topic.name,
        role: "roles/pubsub.publisher",
        member: pulumi.interpolate`serviceAccount:service-${project.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com`,
      },
      { ...parent, dependsOn: [this.channel] },
    );

    this.alertPolicy = new gcp.monitoring.AlertPolicy(
      `${name}-daily-spend-limit`,
      {
        project: args.project,
        displayName: `warmstart ${args.serviceName}: daily spend limit`,
        combiner: "OR",
        conditions: [dailySpendCondition(args.serviceName, args.thresholdSeconds, args.limitUsd)],
        notificationChannels: [this.channel.id, ...args.notificationChannels],
        alertStrategy: {
          notificationPrompts: ["OPENED"],
          // Reminders while the incident stays open: the guard trips again on one only once a whole day lies after
          // its release (functions/guardState.ts), which catches spend that never drops back under the line.
          notificationChannelStrategies: [{ notificationChannelNames: [this.channel.id], renotifyInterval: DAILY_RENOTIFY }],
        },
        documentation: {
          mimeType: "text/markdown",
          content:
            `The service's billable instance time in the last 24 hours costs more than warmstart:dailySpendLimit (${args.limitUsd} USD; ` +
            `${Math.round(args.thresholdSeconds)} instance-seconds at its shape). The budget guard holds the service (min instances 0, ` +
            `the guardMaxInstances cap, warm-window jobs paused) until local midnight (${args.timeZone}). See docs/operations.md, "When the budget guard trips".`,
        },
      },
      { ...parent, dependsOn: [publisher, ...args.after] },
    );

    const midnight = { name: "guard-midnight", days: [0, 1, 2, 3, 4, 5, 6], hours: [0], minutes: [0] };
    for (const w of dstWarnings([midnight], args.timeZone, args.now)) {
      void pulumi.log.warn(`the guard's midnight tick: ${w.date} has no 00:00 in ${args.timeZone} (or has it twice); a daily hold then ends at the guard's next message (a budget notification, within hours) or the next midnight`, this);
    }
    this.midnightJob = new gcp.cloudscheduler.Job(
      `${name}-guard-midnight`,
      {
        name: schedulerJobId(name, midnight.name),
        project: args.project,
        region: args.region,
        description: `Tell the budget guard a new local day began: a daily spend-limit hold ends at midnight (${args.timeZone})`,
        schedule: "0 0 * * *",
        timeZone: args.timeZone,
        // Published by Cloud Scheduler's service agent, whose role holds pubsub.topics.publish: a Pub/Sub job has no
        // account of its own (https://cloud.google.com/scheduler/docs/access-control).
        pubsubTarget: { topicName: args.topic.id, data: Buffer.from(JSON.stringify(GUARD_TICK)).toString("base64") },
        retryConfig: { retryCount: 5, minBackoffDuration: "10s", maxBackoffDuration: "300s", maxDoublings: 3 },
      },
      { ...parent, dependsOn: [...args.after] },
    );
    this.midnightJobResourceName = this.midnightJob.name.apply((id) => schedulerJobResourceName(args.project, args.region, id));
    this.registerOutputs({ alertPolicy: this.alertPolicy.name, channel: this.channel.id, midnightJob: this.midnightJobResourceName });
  }
}
