import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import { GUARD_ENTRY_POINT, GUARD_STATE_OBJECT } from "../../functions/guardContract";
import { GUARD_RUNTIME, NODE_RUNTIMES, runtimeStatus, type NodeRuntime } from "./functionRuntimes";
import type { ScheduleEdges } from "../schedule/warmWindows";

export interface BudgetGuardArgs {
  /** Spend, as a fraction of the budget, at which the guard acts (`warmstart:guardRatio`). */
  readonly ratio: number;
  /** Service-level max instances while held; 0 leaves it alone (`warmstart:guardMaxInstances`). */
  readonly maxInstances: number;
  /**
   * The daily spend limit in billable instance-seconds in 24 hours, and in USD (`warmstart:dailySpendLimit`); 0: none.
   * The guard compares an incident's figure with it (a raised limit releases a daily hold).
   */
  readonly daily: { readonly thresholdSeconds: number; readonly limitUsd: number };
  /** The Google Cloud project (`gcp:project`). */
  readonly project: string;
  /** The service's region (`gcp:region`): the function, its bucket and its image repository are made there. */
  readonly region: string;
  /** The topic every budget update is published to; the daily spend limit's alert and midnight tick too. */
  readonly topic: gcp.pubsub.Topic;
  /** The Cloud Run service it holds down (GpuService's `service`). */
  readonly service: gcp.cloudrunv2.Service;
  /** The guard runs as it (StackIdentities: its custom scheduler role, acting as the runtime account). */
  readonly serviceAccount: gcp.serviceaccount.Account;
  /** The guard's function is built as it (StackIdentities: log writing). */
  readonly buildServiceAccount: gcp.serviceaccount.Account;
  /** The grants the two accounts need (StackIdentities), which the function waits for. */
  readonly accessReady: readonly pulumi.Resource[];
  /** Full names of the jobs to pause (projects/P/locations/R/jobs/J; WarmSchedule's jobResourceNames). */
  readonly jobs: readonly pulumi.Input<string>[];
  /** The weekly levels, so a release puts min instances back where the schedule wants them. */
  readonly schedule: ScheduleEdges;
  /** The deploy's instant: a runtime past its decommission date stops the deploy, one near its deprecation warns. */
  readonly now: Date;
  /** Project root, where functions/ lives. */
  readonly rootDir: string;
}

/** The npm package the guard registers with; provided by the runtime's `npm ci`, never bundled (see guardArchive). */
const FUNCTIONS_FRAMEWORK = "@google-cloud/functions-framework";

export interface GuardArchive {
  /** File name to content: what is uploaded and what Cloud Run functions' buildpack builds. */
  readonly files: Readonly<Record<string, string>>;
  readonly archive: pulumi.asset.AssetArchive;
  /** Content hash, for the object name: a code change uploads a new object and redeploys the function. */
  readonly hash: string;
}

/**
 * The guard's source: functions/guardHandler.ts bundled into one file, with a package.json that depends on the
 * Functions Framework. The framework stays out of the bundle: bundled, the function would register in a second copy
 * of the framework's registry, not in the one the runtime starts, and never be found. Listed as a dependency, the
 * buildpack installs it and starts it (GoogleCloudPlatform/buildpacks, cmd/nodejs/functions_framework).
 */
export function guardArchive(rootDir: string, runtime: NodeRuntime = GUARD_RUNTIME): GuardArchive {
  const out = buildSync({
    entryPoints: [path.join(rootDir, "functions", "guardHandler.ts")],
    bundle: true,
    platform: "node",
    target: `node${NODE_RUNTIMES[runtime].nodeMajor}`,
    format: "cjs",
    external: [FUNCTIONS_FRAMEWORK],
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  const frameworkVersion = (JSON.parse(fs.readFileSync(path.join(rootDir, "node_modules", FUNCTIONS_FRAMEWORK, "package.json"), "utf8")) as { version: string }).version;
  const pkg = JSON.stringify(
    {
      name: "warmstart-budget-guard",
      version: "1.0.0",
      main: "index.js",
      // The version this repository tests with, exactly.
      dependencies: { [FUNCTIONS_FRAMEWORK]: frameworkVersion },
      engines: { node: String(NODE_RUNTIMES[runtime].nodeMajor) },
    },
    null,
    2,
  );
  const files = { "index.js": code, "package.json": pkg };
  return {
    files,
    archive: new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, new pulumi.asset.StringAsset(text)]))),
    hash: createHash("sha256").update(code).update(pkg).digest("hex").slice(0, 16),
  };
}

/**
 * A Cloud Run function subscribed to the budget topic that stops the spend when the budget is gone, or the day's
 * limit (see functions/guardHandler.ts). Its account may update this one service, act as its runtime account, and get, pause
 * and resume scheduler jobs; nothing else.
 */
export class BudgetGuard extends pulumi.ComponentResource {
  public readonly function: gcp.cloudfunctionsv2.Function;
  public readonly serviceAccount: gcp.serviceaccount.Account;
  /** Builds the function's container (Cloud Build, as this account). */
  public readonly buildServiceAccount: gcp.serviceaccount.Account;
  /** Where the guard keeps its state (gs://BUCKET/guard-state.json), for the deploy's reconcile step. */
  public readonly stateLocation: pulumi.Output<string>;

  constructor(name: string, args: BudgetGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:budget:BudgetGuard", name, {}, opts);
    const parent = { parent: this };

    this.serviceAccount = args.serviceAccount;
    this.buildServiceAccount = args.buildServiceAccount;
    const member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;
    // Its scheduler role and acting as the runtime account come with the account (StackIdentities); here, what is
    // granted on this stack's own resources.
    const grants: pulumi.Resource[] = [
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-guard-run-developer`,
        { project: args.project, location: args.region, name: args.service.name, role: "roles/run.developer", member },
        parent,
      ),
    ];

    const status = runtimeStatus(GUARD_RUNTIME, args.now);
    if (status.kind === "decommissioned") throw new Error(status.message);
    if (status.kind !== "supported") void pulumi.log.warn(status.message, this);

    const source = guardArchive(args.rootDir);
    // The guard's bucket holds its source and its state (guard-state.json): forceDestroy only ever empties it with
    // the guard itself.
    const bucket = new gcp.storage.Bucket(
      `${name}-guard-source`,
      { name: `${args.project}-${name}-guard`.slice(0, 63), project: args.project, location: args.region, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", forceDestroy: true },
      parent,
    );
    // Named by content, so a code change uploads a new object and redeploys the function.
    const object = new gcp.storage.BucketObject(`${name}-guard-source`, { bucket: bucket.name, name: `budget-guard-${source.hash}.zip`, source: source.archive }, parent);
    // Reads and rewrites its state object (an overwrite needs storage.objects.delete as well as create).
    grants.push(new gcp.storage.BucketIAMMember(`${name}-guard-state`, { bucket: bucket.name, role: "roles/storage.objectUser", member }, parent));

    // The function is built by an account of its own: since July 2024 a new project's default build account may lack
    // what a function build needs (https://cloud.google.com/functions/docs/securing/build-custom-sa). It may read the
    // source bucket and push to the function's own image repository (and write logs: StackIdentities); nothing else.
    const builder = pulumi.interpolate`serviceAccount:${this.buildServiceAccount.email}`;
    const images = new gcp.artifactregistry.Repository(
      `${name}-guard-images`,
      {
        repositoryId: `${name}-guard-images`,
        project: args.project,
        location: args.region,
        format: "DOCKER",
        description: "warmstart budget guard builds (Cloud Run functions)",
        cleanupPolicyDryRun: false,
        cleanupPolicies: [
          { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 2 } },
          { id: "delete-older", action: "DELETE", condition: { tagState: "ANY" } },
        ],
      },
      parent,
    );
    const buildGrants = [
      new gcp.storage.BucketIAMMember(`${name}-guard-build-source`, { bucket: bucket.name, role: "roles/storage.objectViewer", member: builder }, parent),
      new gcp.artifactregistry.RepositoryIamMember(
        `${name}-guard-build-push`,
        { project: images.project, location: images.location, repository: images.name, role: "roles/artifactregistry.writer", member: builder },
        parent,
      ),
    ];

    this.function = new gcp.cloudfunctionsv2.Function(
      `${name}-guard`,
      {
        name: `${name}-budget-guard`,
        project: args.project,
        location: args.region,
        description: "warmstart: stops GPU spend when the budget or the daily spend limit is gone",
        buildConfig: {
          runtime: GUARD_RUNTIME,
          entryPoint: GUARD_ENTRY_POINT,
          source: { storageSource: { bucket: bucket.name, object: object.name } },
          // projects/{project}/serviceAccounts/{email} (google/cloud/functions/v2/functions.proto, BuildConfig).
          serviceAccount: this.buildServiceAccount.name,
          dockerRepository: images.id,
        },
        serviceConfig: {
          maxInstanceCount: 1,
          availableMemory: "256M",
          timeoutSeconds: 120,
          ingressSettings: "ALLOW_INTERNAL_ONLY",
          serviceAccountEmail: this.serviceAccount.email,
          environmentVariables: {
            GUARD_SERVICE: pulumi.interpolate`projects/${args.project}/locations/${args.region}/services/${args.service.name}`,
            GUARD_JOBS: pulumi.all([...args.jobs]).apply((names) => names.join(",")),
            GUARD_STATE: pulumi.interpolate`gs://${bucket.name}/${GUARD_STATE_OBJECT}`,
            GUARD_SCHEDULE: JSON.stringify(args.schedule),
            GUARD_RATIO: String(args.ratio),
            GUARD_MAX_INSTANCES: String(args.maxInstances),
            GUARD_DAILY_THRESHOLD: String(args.daily.thresholdSeconds),
            GUARD_DAILY_LIMIT: String(args.daily.limitUsd),
          },
        },
        eventTrigger: {
          eventType: "google.cloud.pubsub.topic.v1.messagePublished",
          pubsubTopic: args.topic.id,
          triggerRegion: args.region,
          // The default ignores failures (functions.proto, EventTrigger.retry_policy): a failed pause must come back.
          retryPolicy: "RETRY_POLICY_RETRY",
          serviceAccountEmail: this.serviceAccount.email,
        },
      },
      { ...parent, dependsOn: [...grants, ...buildGrants, ...args.accessReady] },
    );
    this.stateLocation = pulumi.interpolate`gs://${bucket.name}/${GUARD_STATE_OBJECT}`;
    // The trigger delivers events as the guard's account, which must be allowed to invoke the function's service.
    new gcp.cloudrunv2.ServiceIamMember(
      `${name}-guard-invoker`,
      { project: args.project, location: args.region, name: this.function.name, role: "roles/run.invoker", member },
      parent,
    );
    this.registerOutputs({ function: this.function.name, serviceAccount: this.serviceAccount.email, stateLocation: this.stateLocation });
  }
}
