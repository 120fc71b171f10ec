/**
 * The readable plan `npm run synth` prints, as `pulumi preview` would lay it out: a summary first (what will exist,
 * warm hours, monthly cost, warnings), then the warnings, the warm schedule, the cost, the outputs and every resource
 * with its key settings; lines wrapped to the terminal's width; values the mocks made up shown as <placeholders>.
 * Pure formatting.
 */
import type { StackConfig } from "../config/types";
import { describeTraffic, PRICES_SOURCE, type CostEstimate, type TrafficAssumption } from "../components/budget/costModel";
import { DAY_NAMES, edgesByDay, warmInstanceHoursPerWeek, type CompiledSchedule } from "../components/schedule/warmWindows";
import type { OfflineRun, Placeholders, RecordedResource } from "./offline";

type Inputs = Record<string, any>;

/** The settings worth a glance for each resource type; the full inputs are in `--json`. */
const KEY_SETTINGS: Record<string, (i: Inputs) => string> = {
  "gcp:cloudrunv2/service:Service": (i) => {
    const c = i.template?.containers?.[0] ?? {};
    const lim = c.resources?.limits ?? {};
    const p = c.startupProbe ?? {};
    return [
      `${i.location} gpu=${i.template?.nodeSelector?.accelerator} x${lim["nvidia.com/gpu"]} cpu=${lim.cpu} memory=${lim.memory}`,
      `concurrency=${i.template?.maxInstanceRequestConcurrency} timeout=${i.template?.timeout} instances=${i.scaling?.minInstanceCount}..${i.template?.scaling?.maxInstanceCount}`,
      `zonalRedundancy=${!i.template?.gpuZonalRedundancyDisabled} cpuIdle=${c.resources?.cpuIdle} startupCpuBoost=${c.resources?.startupCpuBoost} deletionProtection=${i.deletionProtection}`,
      `startupProbe=${p.httpGet?.path} delay ${p.initialDelaySeconds}s + ${p.periodSeconds}s x ${p.failureThreshold}`,
      `image=${c.image}`,
      ...(c.envs ?? []).map((e: Inputs) => `env ${e.name}=${e.valueSource ? `<secret ${e.valueSource.secretKeyRef?.secret}:${e.valueSource.secretKeyRef?.version}>` : JSON.stringify(e.value)}`),
    ].join("\n");
  },
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": (i) => `${i.role} -> ${i.member}`,
  "gcp:serviceaccount/iAMMember:IAMMember": (i) => `${i.role} -> ${i.member}`,
  "gcp:projects/iAMMember:IAMMember": (i) => `${i.role} -> ${i.member} (project ${i.project})`,
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": (i) => `${i.role} -> ${i.member}`,
  "gcp:secretmanager/secretIamMember:SecretIamMember": (i) => `${i.role} -> ${i.member}`,
  "gcp:storage/bucketIAMMember:BucketIAMMember": (i) => `${i.role} -> ${i.member}`,
  "gcp:serviceaccount/account:Account": (i) => `${i.accountId} (${i.displayName})`,
  "gcp:artifactregistry/repository:Repository": (i) =>
    `${i.location}/${i.repositoryId} keeps ${i.cleanupPolicies?.find((p: Inputs) => p.mostRecentVersions)?.mostRecentVersions?.keepCount} images`,
  "gcp:cloudscheduler/job:Job": (i) =>
    i.pubsubTarget
      ? `"${i.schedule}" ${i.timeZone}: publish ${Buffer.from(i.pubsubTarget.data ?? "", "base64").toString()} to ${i.pubsubTarget.topicName}`
      : `"${i.schedule}" ${i.timeZone}: ${i.httpTarget?.httpMethod} ${shortApiUri(String(i.httpTarget?.uri))}${i.httpTarget?.body ? ` ${Buffer.from(i.httpTarget.body, "base64").toString()}` : ""}`,
  "command:local:Command": (i) => `${i.create} (re-runs when ${(i.triggers ?? []).map((t: unknown) => (typeof t === "string" ? t : JSON.stringify(t))).join(", ")} changes)`,
  "gcp:storage/bucket:Bucket": (i) => `gs://${i.name} (${i.location})`,
  "gcp:secretmanager/secret:Secret": (i) => `${i.secretId}`,
  "gcp:billing/budget:Budget": (i) =>
    [
      `${i.amount?.specifiedAmount?.units} a month on ${i.billingAccount}, ${i.budgetFilter?.projects?.join(",")} ${i.budgetFilter?.services?.join(",")}`,
      `alerts at ${(i.thresholdRules ?? []).map((t: Inputs) => `${t.thresholdPercent * 100}%${t.spendBasis === "FORECASTED_SPEND" ? " forecast" : ""}`).join(", ")}; updates to ${i.allUpdatesRule?.pubsubTopic}`,
    ].join("\n"),
  "gcp:monitoring/notificationChannel:NotificationChannel": (i) => `${i.type} ${i.labels?.email_address ?? i.labels?.topic}`,
  "gcp:pubsub/topicIAMMember:TopicIAMMember": (i) => `${i.role} -> ${i.member}`,
  "gcp:cloudfunctionsv2/function:Function": (i) =>
    `${i.buildConfig?.runtime} on ${i.eventTrigger?.eventType} from ${i.eventTrigger?.pubsubTopic}; acts at ${i.serviceConfig?.environmentVariables?.GUARD_RATIO} x budget`,
  "gcp:projects/iAMCustomRole:IAMCustomRole": (i) => `${i.roleId}: ${(i.permissions ?? []).join(", ")}`,
  "gcp:pubsub/topic:Topic": (i) => `${i.name}`,
  "cloudflare:index/r2Bucket:R2Bucket": (i) => `${i.name}${i.location ? ` (${i.location})` : ""}`,
  "cloudflare:index/r2CustomDomain:R2CustomDomain": (i) => `https://${i.domain} (TLS >= ${i.minTls})`,
  "cloudflare:index/r2ManagedDomain:R2ManagedDomain": (i) => `r2.dev ${i.enabled ? "on" : "off"}`,
  "cloudflare:index/ruleset:Ruleset": (i) => `${i.phase}: blocks requests without the access header (expression secret)`,
  "cloudflare:index/accountToken:AccountToken": (i) => `${i.name}: account token limited to ${Object.keys(JSON.parse(i.policies?.[0]?.resources ?? "{}")).join(", ")}`,
  "gcp:logging/metric:Metric": (i) => `${i.metricDescriptor?.valueType} ${i.valueExtractor ?? "count"}`,
  "gcp:monitoring/alertPolicy:AlertPolicy": (i) => {
    const t = i.conditions?.[0]?.conditionThreshold;
    const a = t?.aggregations?.[0];
    // A threshold on a platform metric is worth its figures (the daily spend limit's instance-seconds in 24 h).
    const figures = t?.filter?.startsWith('metric.type="run.googleapis.com/') && a?.alignmentPeriod === "86400s" ? `; ${a.perSeriesAligner}/${a.crossSeriesReducer} over ${a.alignmentPeriod} ${t.comparison} ${t.thresholdValue}` : "";
    return `${i.displayName} -> ${(i.notificationChannels ?? []).length} channel(s)${figures}`;
  },
  "gcp:monitoring/slo:Slo": (i) => `${Math.round(i.goal * 1000) / 10}% of requests within ${i.requestBasedSli?.distributionCut?.range?.max} ms over ${i.rollingPeriodDays} days`,
};

/** A Cloud Run Admin API URI without the part every job shares: `…/services/NAME?updateMask=…`. */
function shortApiUri(uri: string): string {
  return uri.replace(/^https:\/\/run\.googleapis\.com\/v2\/projects\/[^/]+\/locations\/[^/]+\//, "…/");
}

function shortType(type: string): string {
  const parts = type.split(":");
  return `${parts[0]}:${parts[parts.length - 1]}`;
}

export function renderResources(run: OfflineRun): string {
  const byParent = new Map<string | undefined, RecordedResource[]>();
  for (const r of run.resources) byParent.set(r.parent, [...(byParent.get(r.parent) ?? []), r]);
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const r of byParent.get(parent) ?? []) {
      const indent = "  ".repeat(depth);
      if (!r.custom) {
        lines.push(`${indent}${r.type}  ${r.name}`);
      } else {
        lines.push(`${indent}- ${shortType(r.type)}  ${r.name}`);
        const settings = KEY_SETTINGS[r.type]?.(r.inputs);
        if (settings) for (const l of settings.split("\n")) lines.push(`${indent}    ${l}`);
      }
      walk(r.urn, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join("\n");
}

/** One row per day: the edges that day with the level each sets, and the level in force at 00:00. */
export function renderSchedule(schedule: CompiledSchedule, leadMinutes: number): string {
  const lines = [`Warm schedule (${schedule.timeZone}; idle ${schedule.idleMinInstances}, raised ${leadMinutes} min before each window)`];
  if (schedule.windows.length === 0) lines.push("  no warm windows: min instances stay at the idle level all week");
  edgesByDay(schedule.levels).forEach((d, i) => {
    const cells = d.changes.map((c) => `${c.time}→${c.level}`);
    lines.push(`  ${DAY_NAMES[i]}  from 00:00: ${d.atMidnight}${cells.length ? "   " + cells.join("  ") : ""}`);
  });
  lines.push(`Scheduler jobs (${schedule.jobs.length} min-instance, ${schedule.warmups.length} warmup):`);
  for (const j of schedule.jobs) lines.push(`  ${j.name.padEnd(34)} ${j.cron.padEnd(18)} min instances → ${j.level}`);
  for (const j of schedule.warmups) lines.push(`  ${j.name.padEnd(34)} ${j.cron.padEnd(18)} POST /warmup`);
  return lines.join("\n");
}

/** The monthly estimate, what traffic outside the windows it assumes, and where its prices come from. */
export interface SynthCost {
  readonly estimate: CostEstimate;
  readonly traffic: TrafficAssumption;
  readonly schedulerJobs: number;
  /** Requests a day the request-log bucket is priced for, and whether a log measured them. */
  readonly requestLog?: { readonly retentionDays: number; readonly requestsPerDay: number; readonly measured: boolean };
}

export function renderCost(c: SynthCost | undefined): string[] {
  if (!c) return [];
  const e = c.estimate;
  return [
    `Monthly cost estimate: $${e.total.toFixed(2)} (USD, ${PRICES_SOURCE}; override with warmstart:prices)`,
    `  warm windows        $${e.warm.toFixed(2)}  (${e.warmInstanceHoursPerMonth.toFixed(1)} instance-hours at $${e.perInstanceHour.toFixed(4)}/h)`,
    `  outside windows     $${e.offWindow.toFixed(2)}  (${describeTraffic(c.traffic)})`,
    `  Cloud Scheduler     $${e.scheduler.toFixed(2)}  (${c.schedulerJobs} jobs, 3 free)`,
    ...(c.requestLog
      ? [`  request-log bucket  $${e.requestLog.toFixed(2)}  (${c.requestLog.retentionDays} days kept, ${Math.round(c.requestLog.requestsPerDay)} requests a day ${c.requestLog.measured ? "from the log" : "assumed"})`]
      : []),
    "",
  ];
}

/** Wraps each line at `width`: at a space, continued with the line's own indent and four more spaces. */
export function wrap(text: string, width: number): string {
  return text
    .split("\n")
    .flatMap((line) => {
      if (line.length <= width) return [line];
      const indent = " ".repeat(line.length - line.trimStart().length + 4);
      const out: string[] = [];
      let rest = line;
      while (rest.length > width) {
        const cut = rest.lastIndexOf(" ", width);
        if (cut <= rest.length - rest.trimStart().length) break; // one long word (a URL): left whole
        out.push(rest.slice(0, cut));
        rest = indent + rest.slice(cut + 1).trimStart();
      }
      return [...out, rest];
    })
    .join("\n");
}

/** Every made-up value shown as <what it stands for>, so nothing offline passes for a real project number or digest. */
export function markPlaceholders(text: string, placeholders: Placeholders): string {
  let out = text;
  // Longest first: a digest may contain a shorter placeholder's digits.
  for (const [value, label] of [...placeholders].sort((a, b) => b[0].length - a[0].length)) out = out.split(value).join(`<${label}>`);
  return out;
}

/** The commonest resource types with their counts, the rest counted. */
function summarizeTypes(byType: Map<string, number>): string {
  const sorted = [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, 5).map(([t, n]) => `${n} ${t.split(":")[1]}`);
  const rest = sorted.slice(5).reduce((sum, [, n]) => sum + n, 0);
  return [...shown, ...(rest ? [`${rest} more (${sorted.length - 5} types)`] : [])].join(", ");
}

/** The first screen: what the stack will hold and cost, before the details. */
function renderSummary(run: OfflineRun, config: StackConfig, cost: SynthCost): string[] {
  const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  const byType = new Map<string, number>();
  for (const r of custom) byType.set(shortType(r.type), (byType.get(shortType(r.type)) ?? 0) + 1);
  const s = config.service;
  const schedule = config.warm.schedule;
  const weekHours = warmInstanceHoursPerWeek(schedule.levels);
  const base = config.image.baseReference ? `${config.image.baseReference.folder}/${config.image.baseReference.dockerfile}, built by the stack` : config.image.baseImage;
  return [
    "Summary:",
    `  service     ${s.name} in ${s.region}: 1 NVIDIA L4, ${s.cpu} vCPU, ${s.memory}, ${schedule.idleMinInstances}..${s.maxInstances} instances; model server ${config.image.mode === "none" ? "a prebuilt image" : `on ${base}`}`,
    `  warm        ${weekHours.toFixed(1)} instance-hours a week in ${schedule.windows.length} window(s), ${schedule.timeZone}; ${schedule.jobs.length + schedule.warmups.length} scheduler jobs`,
    `  cost        $${cost.estimate.total.toFixed(2)} a month (${describeTraffic(cost.traffic).split(" (")[0]} outside the windows)`,
    `  resources   ${custom.length}: ${summarizeTypes(byType)}`,
    `  warnings    ${run.warnings.length}${run.warnings.length ? " (below)" : ""}`,
    "",
  ];
}

/** A stack output as `pulumi stack output` would list it: a list one item a line, an object's fields as k=v. */
function renderOutput(key: string, value: unknown): string[] {
  if (Array.isArray(value)) return [`  ${key}:`, ...value.map((v) => `    - ${typeof v === "string" ? v : JSON.stringify(v)}`)];
  if (value && typeof value === "object") return [`  ${key}: ${Object.entries(value).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")}`];
  return [`  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`];
}

export interface ReportOptions {
  /** Columns to wrap at (the terminal's, or 100). */
  readonly width: number;
  /** With --diff: the changes against the earlier plan, shown right after the summary. */
  readonly diff?: string[];
}

export function renderReport(run: OfflineRun, config: StackConfig, stack: string, cost: SynthCost, opts: ReportOptions = { width: 100 }): string {
  const sections = [
    `warmstart plan for stack "${stack}": offline, nothing deployed; <...> is known only after pulumi up`,
    "",
    ...renderSummary(run, config, cost),
    ...(opts.diff ?? []),
    ...(run.warnings.length > 0 ? ["Warnings:", ...run.warnings.map((w) => `  ! ${w}`), ""] : []),
    renderSchedule(config.warm.schedule, config.warm.leadMinutes),
    "",
    ...renderCost(cost),
    "Outputs:",
    ...Object.entries(run.outputs).flatMap(([k, v]) => renderOutput(k, v)),
    "",
    `Resources (${run.resources.filter((r) => r.custom).length}):`,
    renderResources(run),
  ];
  return wrap(markPlaceholders(sections.join("\n"), run.placeholders), opts.width);
}
