import { createHash } from "node:crypto";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import type { BudgetConfig } from "./config";
import { accountId } from "./names";

export interface BudgetGuardArgs {
  /** Ratio and max-instance cap (`warmstart:guardRatio`, `guardMaxInstances`). */
  readonly budget: BudgetConfig;
  readonly project: string;
  readonly region: string;
  /** The topic every budget update is published to. */
  readonly topic: gcp.pubsub.Topic;
  readonly serviceName: pulumi.Input<string>;
  /** The service's runtime account: updating the service acts as it. */
  readonly runtimeServiceAccount: gcp.serviceaccount.Account;
  /** Full names of the jobs to pause (projects/P/locations/R/jobs/J). */
  readonly jobNames: readonly pulumi.Input<string>[];
  /** Project root, where functions/ lives. */
  readonly rootDir: string;
}

/** The guard's source, bundled into one file so the function needs no dependency install of its own. */
function guardArchive(rootDir: string): { archive: pulumi.asset.AssetArchive; hash: string } {
  const out = buildSync({
    entryPoints: [path.join(rootDir, "functions", "budgetGuard.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  const pkg = JSON.stringify({ name: "warmstart-budget-guard", version: "1.0.0", main: "index.js", engines: { node: "20" } });
  return {
    archive: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(code), "package.json": new pulumi.asset.StringAsset(pkg) }),
    hash: createHash("sha256").update(code).update(pkg).digest("hex").slice(0, 16),
  };
}

/** The guard's custom role id (letters, digits, underscores); CiAccess lets the deploy account grant exactly it. */
export function guardRoleId(stackName: string): string {
  return `${stackName.replace(/[^a-zA-Z0-9]/g, "_")}_budget_guard`;
}

/** Permissions the guard needs on Cloud Scheduler; jobs cannot be granted one by one, so a custom role holds just these. */
export const GUARD_SCHEDULER_PERMISSIONS = ["cloudscheduler.jobs.get", "cloudscheduler.jobs.pause", "cloudscheduler.jobs.enable"];

/**
 * A Cloud Run function subscribed to the budget topic that stops the spend when the budget is gone (see
 * functions/budgetGuard.ts). Its account may update this one service, act as its runtime account, and get, pause
 * and resume scheduler jobs; nothing else.
 */
export class BudgetGuard extends pulumi.ComponentResource {
  public readonly function: gcp.cloudfunctionsv2.Function;
  public readonly serviceAccount: gcp.serviceaccount.Account;

  constructor(name: string, args: BudgetGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:budget:BudgetGuard", name, {}, opts);
    const parent = { parent: this };

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-guard`,
      { accountId: accountId(name, "guard"), displayName: "warmstart budget guard", project: args.project },
      parent,
    );
    const member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;
    const role = new gcp.projects.IAMCustomRole(
      `${name}-guard-scheduler`,
      {
        project: args.project,
        roleId: guardRoleId(name),
        title: "warmstart budget guard: pause and resume scheduler jobs",
        permissions: GUARD_SCHEDULER_PERMISSIONS,
      },
      parent,
    );
    const grants = [
      new gcp.projects.IAMMember(`${name}-guard-scheduler`, { project: args.project, role: role.name, member }, parent),
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-guard-run-developer`,
        { project: args.project, location: args.region, name: args.serviceName, role: "roles/run.developer", member },
        parent,
      ),
      new gcp.serviceaccount.IAMMember(`${name}-guard-acts-as-runtime`, { serviceAccountId: args.runtimeServiceAccount.name, role: "roles/iam.serviceAccountUser", member }, parent),
    ];

    const source = guardArchive(args.rootDir);
    const bucket = new gcp.storage.Bucket(
      `${name}-guard-source`,
      { name: `${args.project}-${name}-guard`.slice(0, 63), project: args.project, location: args.region, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", forceDestroy: true },
      parent,
    );
    // Named by content, so a code change uploads a new object and redeploys the function.
    const object = new gcp.storage.BucketObject(`${name}-guard-source`, { bucket: bucket.name, name: `budget-guard-${source.hash}.zip`, source: source.archive }, parent);

    this.function = new gcp.cloudfunctionsv2.Function(
      `${name}-guard`,
      {
        name: `${name}-budget-guard`,
        project: args.project,
        location: args.region,
        description: "warmstart: stops GPU spend when the budget is gone",
        buildConfig: { runtime: "nodejs20", entryPoint: "budgetGuard", source: { storageSource: { bucket: bucket.name, object: object.name } } },
        serviceConfig: {
          maxInstanceCount: 1,
          availableMemory: "256M",
          timeoutSeconds: 120,
          ingressSettings: "ALLOW_INTERNAL_ONLY",
          serviceAccountEmail: this.serviceAccount.email,
          environmentVariables: {
            GUARD_SERVICE: pulumi.interpolate`projects/${args.project}/locations/${args.region}/services/${args.serviceName}`,
            GUARD_JOBS: pulumi.all([...args.jobNames]).apply((names) => names.map((j) => `projects/${args.project}/locations/${args.region}/jobs/${j}`).join(",")),
            GUARD_RATIO: String(args.budget.guardRatio),
            GUARD_MAX_INSTANCES: String(args.budget.guardMaxInstances),
          },
        },
        eventTrigger: {
          eventType: "google.cloud.pubsub.topic.v1.messagePublished",
          pubsubTopic: args.topic.id,
          triggerRegion: args.region,
          // Failed API calls are retried; the handler is idempotent.
          retryPolicy: "RETRY_POLICY_RETRY",
          serviceAccountEmail: this.serviceAccount.email,
        },
      },
      { ...parent, dependsOn: grants },
    );
    // The trigger delivers events as the guard's account, which must be allowed to invoke the function's service.
    new gcp.cloudrunv2.ServiceIamMember(
      `${name}-guard-invoker`,
      { project: args.project, location: args.region, name: this.function.name, role: "roles/run.invoker", member },
      parent,
    );
    this.registerOutputs({ function: this.function.name, serviceAccount: this.serviceAccount.email });
  }
}
