/**
 * warmstart: a GPU inference model on Cloud Run (NVIDIA L4), warm in the windows you choose and scaled down
 * outside them. Composition only: config in, components wired, outputs out.
 */
import * as pulumi from "@pulumi/pulumi";
import { Budget } from "./components/budget/budget";
import { BudgetGuard } from "./components/budget/budgetGuard";
import { CiAccess } from "./components/ci/ciAccess";
import { DeployReconcile } from "./components/schedule/deployReconcile";
import { deployTime } from "./components/schedule/clock";
import { loadStackConfig } from "./config/parse";
import { ASSUMED_REQUESTS_PER_DAY, instanceSecondsFor, monthlyCost } from "./components/budget/costModel";
import { DailySpendLimit } from "./components/budget/dailySpendLimit";
import { scheduleMarkdown } from "./components/observability/dashboardWidgets";
import { GpuService } from "./components/service/gpuService";
import { ModelsBucket } from "./components/models/modelsBucket";
import { ModelsSync } from "./components/models/modelsSync";
import { StackIdentities } from "./components/access/stackIdentities";
import { Observability } from "./components/observability/observability";
import { RequestLogBucket } from "./components/logging/requestLogBucket";
import { WarmSchedule } from "./components/schedule/warmSchedule";
import { desiredMinInstances, scheduleEdges, warmInstanceHoursPerWeek } from "./components/schedule/warmWindows";

const rootDir = __dirname;
const config = loadStackConfig(rootDir);
const { service: svc, image } = config;
for (const w of config.warnings) void pulumi.log.warn(w);
const now = deployTime();
const schedule = config.warm.schedule;
const minInstancesNow = desiredMinInstances(schedule, now);
const edges = scheduleEdges(schedule);

// Who everything runs as, and the grants that need IAM admin (applied from a laptop; see docs/operations.md).
const identities = new StackIdentities(svc.name, {
  project: svc.project,
  guard: Boolean(config.budget.billingAccount && config.budget.guard),
});

const bucket = config.modelsBucket;
const models = bucket
  ? new ModelsBucket(svc.name, {
      accountId: bucket.accountId,
      bucketName: bucket.bucketName,
      jurisdiction: bucket.jurisdiction,
      locationHint: bucket.locationHint,
      access: bucket.access,
      domain: bucket.domain,
      gate: bucket.gate,
      writeToken: bucket.syncOnDeploy,
    })
  : undefined;
const sync = models?.writeAccess
  ? new ModelsSync(
      svc.name,
      { manifestPath: image.manifestPath, manifest: image.manifest, writeAccess: models.writeAccess, huggingFaceToken: bucket?.huggingFaceToken },
      { dependsOn: [models] },
    )
  : undefined;

const gpu = new GpuService(svc.name, {
  project: svc.project,
  region: svc.region,
  cpu: svc.cpu,
  memory: svc.memory,
  concurrency: svc.concurrency,
  requestTimeoutSeconds: svc.requestTimeoutSeconds,
  maxInstances: svc.maxInstances,
  maxColdStartSeconds: svc.maxColdStartSeconds,
  gpuZonalRedundancy: svc.gpuZonalRedundancy,
  invokers: svc.invokers,
  public: svc.public,
  warmupOrigins: svc.warmupOrigins,
  deletionProtection: svc.deletionProtection,
  modelServer: svc.modelServer,
  image: {
    mode: image.mode,
    baseImage: image.baseImage,
    baseReference: image.baseReference,
    pinned: image.image,
    manifestPath: image.manifestPath,
    manifest: image.manifest,
    buildMachineType: image.buildMachineType,
    buildTimeoutMinutes: image.buildTimeoutMinutes,
    models: image.models,
  },
  imageRetention: image.retention,
  offloadWarning: image.offloadWarning,
  minInstanceCount: minInstancesNow,
  rootDir,
  // The build writes its log as the build account, so its grants must be in place (StackIdentities).
  imageBuildDependsOn: [identities, ...(models ? [models] : []), ...(sync ? [sync] : [])],
  modelsReadAccess: models?.readAccess,
  syncedManifest: sync?.syncedManifest,
  runtimeServiceAccount: identities.runtime,
  invokerServiceAccount: identities.invoker,
  imageBuildServiceAccount: identities.imageBuild,
});

const warm = new WarmSchedule(svc.name, {
  schedule,
  project: svc.project,
  region: svc.region,
  service: gpu.service,
  schedulerServiceAccount: identities.scheduler,
  invokerServiceAccount: identities.invoker,
  now,
});

const estimate = monthlyCost({
  shape: svc,
  warmInstanceHoursPerWeek: warmInstanceHoursPerWeek(schedule.levels),
  offWindowInstanceHoursPerDay: config.cost.offWindowInstanceHoursPerDay,
  schedulerJobs: schedule.jobs.length + schedule.warmups.length,
  prices: config.cost.prices,
  requestLog: config.cost.requestLogRetentionDays > 0 ? { retentionDays: config.cost.requestLogRetentionDays, requestsPerDay: ASSUMED_REQUESTS_PER_DAY } : undefined,
});

const billingAccount = config.budget.billingAccount;
const budget = billingAccount
  ? new Budget(svc.name, {
      project: svc.project,
      billingAccount,
      monthlyBudget: config.budget.monthlyBudget,
      alertEmails: config.budget.alertEmails,
      thresholds: config.budget.thresholds,
      guarded: config.budget.guard,
      warmScheduleMonthlyCost: estimate.warm + estimate.scheduler,
    })
  : undefined;
// The daily spend limit in billable instance-seconds in 24 hours: what that many USD buy at the service's shape.
const dailyLimit = config.budget.dailySpendLimit;
const daily = { limitUsd: dailyLimit, thresholdSeconds: dailyLimit > 0 ? Number(instanceSecondsFor(dailyLimit, svc, config.cost.prices).toFixed(1)) : 0 };
const guard =
  budget && config.budget.guard
    ? new BudgetGuard(svc.name, {
        ratio: config.budget.guardRatio,
        maxInstances: config.budget.guardMaxInstances,
        daily,
        project: svc.project,
        region: svc.region,
        topic: budget.topic,
        service: gpu.service,
        serviceAccount: identities.guard!,
        buildServiceAccount: identities.guardBuild!,
        accessReady: [identities],
        jobs: warm.jobResourceNames,
        schedule: edges,
        now,
        rootDir,
      })
    : undefined;

// The daily spend limit's alert (to the guard through a Pub/Sub channel on its topic) and its midnight tick.
const dailySpendLimit =
  budget && guard && daily.limitUsd > 0
    ? new DailySpendLimit(svc.name, {
        ...daily,
        project: svc.project,
        region: svc.region,
        serviceName: svc.name,
        topic: budget.topic,
        timeZone: schedule.timeZone,
        notificationChannels: budget.notificationChannels.map((c) => c.id),
        now,
        after: [guard],
      })
    : undefined;

// Last: the level in force when the deploy ends, and the guard's hold re-applied to whatever this deploy replaced.
const reconcile = new DeployReconcile(
  svc.name,
  {
    project: svc.project,
    region: svc.region,
    service: gpu.service,
    schedule: edges,
    jobs: warm.jobResourceNames,
    guardState: guard?.stateLocation,
    guardMaxInstances: config.budget.guardMaxInstances,
    now,
    after: [gpu, warm, ...(guard ? [guard] : [])],
  },
);

new Observability(svc.name, {
  project: svc.project,
  serviceName: svc.name,
  coldStartAlertSeconds: config.coldStartAlertSeconds,
  notificationChannels: budget?.notificationChannels.map((c) => c.id) ?? [],
  scheduleMarkdown: scheduleMarkdown(schedule),
  guardDeployed: guard !== undefined,
  objectives: config.objectives,
});

// The request log kept for the planner's window (npm run plan -- --from-cloud-logging; the replan workflow).
const requestLogs =
  config.cost.requestLogRetentionDays > 0
    ? new RequestLogBucket(svc.name, { project: svc.project, serviceName: svc.name, retentionDays: config.cost.requestLogRetentionDays })
    : undefined;

const ci = config.ci.githubRepository
  ? new CiAccess(svc.name, {
      githubRepository: config.ci.githubRepository,
      project: svc.project,
      stateBucket: config.ci.stateBucket,
      secretsKmsKey: config.ci.secretsKmsKey,
      billingAccount,
      actsAs: identities.all,
      requestLogView: requestLogs?.viewName,
    })
  : undefined;

export const serviceUrl = gpu.url;
/** projects/P/locations/R/services/S, for the Cloud Run Admin API (docs/operations.md, "Is it warm right now?"). */
export const serviceResourceName = gpu.resourceName;
export const modelsBaseUrl = models?.baseUrl;
export const modelsS3Endpoint = models?.s3Endpoint;
export const modelsBucketName = models?.bucketName;
/** With syncModelsOnDeploy: the bucket's write credentials, for `npm run models:sync -- --stack <stack>` (a secret). */
export const modelsSyncAccess = models?.writeAccess;
export const imageRef = gpu.imageRef;
export const imageDigest = gpu.imageDigest;
/** The image repository (projects/P/locations/R/repositories/ID): pulumi destroy leaves it; delete it by hand (docs/operations.md, "Tear it all down"). */
export const imageRepository = gpu.imageRepository;
export const runtimeServiceAccount = gpu.runtimeServiceAccount.email;
export const invokerServiceAccount = gpu.invokerServiceAccount.email;
export const schedulerServiceAccount = warm.schedulerServiceAccount.email;
/** Min instances when the deploy ended (0 while the budget guard holds the service down). */
export const minInstancesAtDeploy = reconcile.result.apply((r) => (JSON.parse(r) as { minInstances: number }).minInstances);
/** The min-instance jobs for people to read (cron, time zone, level); not job names: see warmJobResourceNames. */
export const warmJobs = schedule.jobs.map((j) => `${j.cron} (${schedule.timeZone}) -> ${j.level}`);
/** The Cloud Scheduler job ids (min-instance and warmup jobs); with --location=<region> for `gcloud scheduler jobs ...`. */
export const warmJobNames = warm.jobNames;
/** The same jobs as projects/P/locations/R/jobs/J: what the budget guard pauses; `gcloud scheduler jobs resume NAME` takes them as they are. */
export const warmJobResourceNames = warm.jobResourceNames;
/** The weekly min-instance levels ({timeZone, start, edges}) that the reconcile step and a guard release restore (npm run guard:reset). */
export const warmScheduleEdges = edges;
/** With the budget guard: its state object, gs://BUCKET/guard-state.json (docs/operations.md, "When the budget guard trips"). */
export const guardStateObject = guard?.stateLocation;
/**
 * With the budget guard: the lines it trips at (ratio x monthly budget, in the billing account's currency; the daily
 * spend limit in USD and in billable instance-seconds in 24 h, 0: none), its max-instances cap (0: none) and the zone
 * whose midnight ends a daily hold.
 */
export const guardSettings = guard
  ? {
      ratio: config.budget.guardRatio,
      monthlyBudget: config.budget.monthlyBudget,
      maxInstances: config.budget.guardMaxInstances,
      dailySpendLimit: daily.limitUsd,
      dailyThresholdSeconds: daily.thresholdSeconds,
      timeZone: schedule.timeZone,
    }
  : undefined;
/** With a daily spend limit: the Cloud Scheduler job that tells the guard a new local day began (projects/P/locations/R/jobs/J). */
export const guardMidnightJob = dailySpendLimit?.midnightJobResourceName;
/** For the GitHub repository variables WIF_PROVIDER and DEPLOY_SERVICE_ACCOUNT (docs/operations.md). */
export const workloadIdentityProvider = ci?.workloadIdentityProvider;
export const deployServiceAccount = ci?.deployServiceAccount;
/** For the repository variable REPLAN_SERVICE_ACCOUNT (.github/workflows/replan.yml; docs/operations.md). */
export const replanServiceAccount = ci?.replanServiceAccount;
export const monthlyCostEstimate = {
  totalUsd: Number(estimate.total.toFixed(2)),
  warmUsd: Number(estimate.warm.toFixed(2)),
  offWindowUsd: Number(estimate.offWindow.toFixed(2)),
  schedulerUsd: Number(estimate.scheduler.toFixed(2)),
  requestLogUsd: Number(estimate.requestLog.toFixed(2)),
  warmInstanceHours: Number(estimate.warmInstanceHoursPerMonth.toFixed(1)),
  perInstanceHourUsd: Number(estimate.perInstanceHour.toFixed(4)),
};
