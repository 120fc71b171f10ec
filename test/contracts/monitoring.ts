/**
 * Cloud Monitoring alert policies and notification channels, and the Scheduler job that publishes to a topic: what the
 * Monitoring and Scheduler APIs refuse that the mocks accept.
 */
import type { RecordedResource } from "../../scripts/offline";
import type { SynthesizedStack } from "./exampleStacks";
import { label, type ContractRule } from "./rule";

const CHECKED = "2026-11-29";
const ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";

/** "86400s" → 86400; NaN when it is not a duration in seconds. */
const seconds = (d: unknown): number => (typeof d === "string" && /^\d+(\.\d+)?s$/.test(d) ? Number(d.slice(0, -1)) : NaN);

type Threshold = { duration?: string; evaluationMissingData?: string; aggregations?: { alignmentPeriod?: string }[] };
const thresholds = (p: RecordedResource): Threshold[] =>
  ((p.plainInputs.conditions as { conditionThreshold?: Threshold }[] | undefined) ?? []).flatMap((c) => (c.conditionThreshold ? [c.conditionThreshold] : []));
type Strategy = { notificationChannelNames?: string[]; renotifyInterval?: string };
const strategy = (p: RecordedResource) => p.plainInputs.alertStrategy as { notificationPrompts?: string[]; notificationChannelStrategies?: Strategy[] } | undefined;

/** The Pub/Sub channels of a stack and the topic each names. */
const pubsubChannels = (stack: SynthesizedStack) => stack.ofType("gcp:monitoring/notificationChannel:NotificationChannel").filter((c) => c.plainInputs.type === "pubsub");

export const MONITORING_RULES: readonly ContractRule[] = [
  {
    id: "monitoring/alignment-period",
    rule: "An alert policy's alignment period is at most 90,000 s (25 hours).",
    source: 'googleapis google/monitoring/v3/common.proto, Aggregation.alignment_period: "90,000 seconds (25 hours) for alerting policies"',
    checked: CHECKED,
    violations: (stack) =>
      stack
        .ofType(ALERT_POLICY)
        .flatMap((p) => thresholds(p).flatMap((t) => (t.aggregations ?? []).filter((a) => a.alignmentPeriod !== undefined && !(seconds(a.alignmentPeriod) <= 90_000)).map((a) => `${label(p)}: alignmentPeriod ${a.alignmentPeriod}`))),
    exercised: (stack) => stack.ofType(ALERT_POLICY).flatMap((p) => thresholds(p).flatMap((t) => t.aggregations ?? [])).length,
  },
  {
    id: "monitoring/missing-data",
    rule: "A condition that sets evaluationMissingData has a duration of at least 60 s.",
    source: 'googleapis google/monitoring/v3/alert.proto, MetricThreshold.evaluation_missing_data: "the value of the `duration` field must be greater than or equal to 60 seconds"',
    checked: CHECKED,
    violations: (stack) =>
      stack
        .ofType(ALERT_POLICY)
        .flatMap((p) => thresholds(p).filter((t) => t.evaluationMissingData !== undefined && !(seconds(t.duration ?? "0s") >= 60)).map((t) => `${label(p)}: evaluationMissingData with duration ${t.duration ?? "unset"}`)),
    exercised: (stack) => stack.ofType(ALERT_POLICY).flatMap((p) => thresholds(p).filter((t) => t.evaluationMissingData !== undefined)).length,
  },
  {
    id: "monitoring/alert-strategy",
    rule: "A metric policy's notificationPrompts are [OPENED] or [OPENED, CLOSED]; a channel strategy names channels of the policy's notificationChannels, with a renotifyInterval from 30 minutes to 24 hours.",
    source:
      "googleapis google/monitoring/v3/alert.proto, AlertStrategy.notification_prompts and NotificationChannelStrategy; renotify_interval: https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#notificationchannelstrategy",
    checked: CHECKED,
    violations: (stack) =>
      stack.ofType(ALERT_POLICY).flatMap((p) => {
        const s = strategy(p);
        if (!s) return [];
        const problems: string[] = [];
        const prompts = (s.notificationPrompts ?? []).join(",");
        if (s.notificationPrompts && prompts !== "OPENED" && prompts !== "OPENED,CLOSED") problems.push(`${label(p)}: notificationPrompts ${prompts}`);
        const channels = new Set((p.plainInputs.notificationChannels as string[] | undefined) ?? []);
        for (const st of s.notificationChannelStrategies ?? []) {
          for (const c of st.notificationChannelNames ?? []) if (!channels.has(c)) problems.push(`${label(p)}: strategy channel ${c} is not among its notificationChannels`);
          const r = seconds(st.renotifyInterval);
          if (st.renotifyInterval !== undefined && !(r >= 1800 && r <= 86_400)) problems.push(`${label(p)}: renotifyInterval ${st.renotifyInterval}`);
        }
        return problems;
      }),
    exercised: (stack) => stack.ofType(ALERT_POLICY).filter((p) => strategy(p)?.notificationChannelStrategies).length,
  },
  {
    id: "monitoring/pubsub-channel",
    rule: "A Pub/Sub notification channel names its topic as projects/P/topics/T, and Monitoring's notification agent (service-NUMBER@gcp-sa-monitoring-notification) may publish to it, granted after the channel made the agent exist.",
    source: "https://cloud.google.com/monitoring/support/notification-options#pubsub and https://cloud.google.com/iam/docs/service-agents",
    checked: CHECKED,
    violations: (stack) =>
      pubsubChannels(stack).flatMap((c) => {
        const topic = String((c.plainInputs.labels as Record<string, string> | undefined)?.topic ?? "");
        const m = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(topic);
        if (!m) return [`${label(c)}: labels.topic ${JSON.stringify(topic)} is not projects/P/topics/T`];
        const grant = stack
          .ofType("gcp:pubsub/topicIAMMember:TopicIAMMember")
          .find((g) => g.plainInputs.topic === m[2] && g.plainInputs.role === "roles/pubsub.publisher" && /^serviceAccount:service-\d+@gcp-sa-monitoring-notification\.iam\.gserviceaccount\.com$/.test(String(g.plainInputs.member)));
        if (!grant) return [`${label(c)}: no roles/pubsub.publisher on ${m[2]} for the notification agent`];
        return grant.dependencies.includes(c.urn) ? [] : [`${label(grant)} does not wait for ${label(c)}, which makes the agent exist`];
      }),
    exercised: (stack) => pubsubChannels(stack).length,
  },
  {
    id: "scheduler/pubsub-target",
    rule: "A Scheduler job's Pub/Sub topic is projects/P/topics/T in the job's own project, and its message has non-empty data or an attribute.",
    source: "googleapis google/cloud/scheduler/v1/target.proto, PubsubTarget.topic_name and data",
    checked: CHECKED,
    violations: (stack) =>
      stack
        .ofType("gcp:cloudscheduler/job:Job")
        .filter((j) => j.plainInputs.pubsubTarget)
        .flatMap((j) => {
          const t = j.plainInputs.pubsubTarget as { topicName?: string; data?: string; attributes?: Record<string, string> };
          const m = /^projects\/([^/]+)\/topics\/[^/]+$/.exec(String(t.topicName));
          const problems: string[] = [];
          if (!m || m[1] !== j.plainInputs.project) problems.push(`${label(j)}: topic ${t.topicName} is not in project ${String(j.plainInputs.project)}`);
          if (!t.data && Object.keys(t.attributes ?? {}).length === 0) problems.push(`${label(j)}: a message with neither data nor attributes`);
          return problems;
        }),
    exercised: (stack) => stack.ofType("gcp:cloudscheduler/job:Job").filter((j) => j.plainInputs.pubsubTarget).length,
  },
];
