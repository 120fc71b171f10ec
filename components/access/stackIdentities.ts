import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { accountId } from "../names";

export interface StackIdentitiesArgs {
  /** The Google Cloud project (`gcp:project`): the accounts, the role and the grants are made in it. */
  readonly project: string;
  /** Whether the budget guard is deployed (its two accounts and its custom role). */
  readonly guard: boolean;
}

/** The guard's custom role id (letters, digits, underscores). */
export function guardRoleId(serviceName: string): string {
  return `${serviceName.replace(/[^a-zA-Z0-9]/g, "_")}_budget_guard`;
}

/**
 * What the guard may do to Cloud Scheduler jobs: read their state, pause, and resume (authorised by
 * cloudscheduler.jobs.enable; https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/resume).
 * Jobs cannot be granted one by one, hence a project-level custom role with just these.
 */
export const GUARD_SCHEDULER_PERMISSIONS = ["cloudscheduler.jobs.get", "cloudscheduler.jobs.pause", "cloudscheduler.jobs.enable"];

/**
 * Every identity the stack runs as, and every grant that needs IAM admin: the service accounts, what one may act as
 * another, and the project-level grants (log writing, the guard's custom role). Kept apart from the components that
 * use them so that the CI deploy account needs no IAM admin power at all (no service account admin, no project IAM
 * admin, no role admin): this component, like CiAccess, is applied from a laptop by someone with IAM admin
 * (docs/operations.md), and CI deploys the workloads that run as these accounts.
 *
 * The accounts once lived in the components that use them: each has an alias to where it was, so an existing stack
 * moves them in place (a deleted account loses its bindings, and a deleted custom role's id stays reserved for 37 days).
 * Account ids, the guard's role id and every child derive from the component's name, the service's.
 */
export class StackIdentities extends pulumi.ComponentResource {
  /** The Cloud Run service runs as it; it holds no role. */
  public readonly runtime: gcp.serviceaccount.Account;
  /** Calls /warmup as windows open; may only invoke the service. */
  public readonly invoker: gcp.serviceaccount.Account;
  /** The min-instance jobs PATCH the service as it. */
  public readonly scheduler: gcp.serviceaccount.Account;
  /** The image build (Cloud Build) runs as it. */
  public readonly imageBuild: gcp.serviceaccount.Account;
  /** The budget guard runs as it (with the guard). */
  public readonly guard: gcp.serviceaccount.Account | undefined;
  /** The budget guard's function is built as it (with the guard). */
  public readonly guardBuild: gcp.serviceaccount.Account | undefined;
  /** Every account above by what it is for: CiAccess lets the deploy account act as each. */
  public readonly all: Readonly<Record<string, gcp.serviceaccount.Account>>;

  constructor(name: string, args: StackIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:access:StackIdentities", name, {}, opts);
    const parent = { parent: this };
    // The aliases' old parents had this name too: every component of the stack is named after the service.
    const was = (type: string, parentName: string, grandparent?: pulumi.Input<string>) => pulumi.createUrn(parentName, type, grandparent);
    const gpuService = was("warmstart:service:GpuService", name);
    const modelImage = was("warmstart:image:ModelImage", `${name}-image`, gpuService);
    const warmSchedule = was("warmstart:schedule:WarmSchedule", name);
    const budgetGuard = was("warmstart:budget:BudgetGuard", name);
    const account = (resourceName: string, suffix: string, displayName: string, oldParent?: pulumi.Input<string>) =>
      new gcp.serviceaccount.Account(
        resourceName,
        { accountId: accountId(suffix === "build" ? `${name}-image` : name, suffix), displayName, project: args.project },
        { ...parent, aliases: oldParent ? [{ parent: oldParent }] : [] },
      );
    const member = (a: gcp.serviceaccount.Account) => pulumi.interpolate`serviceAccount:${a.email}`;

    this.runtime = account(`${name}-runtime`, "run", `warmstart ${name} runtime`, gpuService);
    this.invoker = account(`${name}-invoker`, "invoke", `warmstart ${name} warmup caller`, gpuService);
    this.scheduler = account(`${name}-scheduler`, "sched", "warmstart warm-window scheduler", warmSchedule);
    this.imageBuild = account(`${name}-image-builder`, "build", "warmstart image build (Cloud Build)", modelImage);

    // Changing min instances updates the service, which acts as its runtime account
    // (https://cloud.google.com/run/docs/configuring/services/service-identity).
    new gcp.serviceaccount.IAMMember(
      `${name}-scheduler-acts-as-runtime`,
      { serviceAccountId: this.runtime.name, role: "roles/iam.serviceAccountUser", member: member(this.scheduler) },
      { ...parent, aliases: [{ parent: warmSchedule }] },
    );
    // A build run as its own account writes its log to Cloud Logging.
    new gcp.projects.IAMMember(
      `${name}-image-builder-logs`,
      { project: args.project, role: "roles/logging.logWriter", member: member(this.imageBuild) },
      { ...parent, aliases: [{ parent: modelImage }] },
    );

    if (args.guard) {
      this.guard = account(`${name}-guard`, "guard", "warmstart budget guard", budgetGuard);
      this.guardBuild = account(`${name}-guard-build`, "gbuild", "warmstart budget guard build");
      const role = new gcp.projects.IAMCustomRole(
        `${name}-guard-scheduler`,
        { project: args.project, roleId: guardRoleId(name), title: "warmstart budget guard: pause and resume scheduler jobs", permissions: GUARD_SCHEDULER_PERMISSIONS },
        { ...parent, aliases: [{ parent: budgetGuard }] },
      );
      new gcp.projects.IAMMember(`${name}-guard-scheduler`, { project: args.project, role: role.name, member: member(this.guard) }, { ...parent, aliases: [{ parent: budgetGuard }] });
      new gcp.serviceaccount.IAMMember(
        `${name}-guard-acts-as-runtime`,
        { serviceAccountId: this.runtime.name, role: "roles/iam.serviceAccountUser", member: member(this.guard) },
        { ...parent, aliases: [{ parent: budgetGuard }] },
      );
      new gcp.projects.IAMMember(`${name}-guard-build-logs`, { project: args.project, role: "roles/logging.logWriter", member: member(this.guardBuild) }, parent);
    }
    this.all = {
      runtime: this.runtime,
      invoker: this.invoker,
      scheduler: this.scheduler,
      "image-build": this.imageBuild,
      ...(this.guard ? { guard: this.guard } : {}),
      ...(this.guardBuild ? { "guard-build": this.guardBuild } : {}),
    };
    this.registerOutputs({ runtime: this.runtime.email, invoker: this.invoker.email, scheduler: this.scheduler.email, imageBuild: this.imageBuild.email });
  }
}
