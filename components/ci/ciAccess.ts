import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { accountId } from "../names";

export interface CiAccessArgs {
  /**
   * The GitHub repository allowed to deploy, owner/name.
   * @example "acme/imagegen-infra"
   */
  readonly githubRepository: string;
  /** The Google Cloud project (`gcp:project`): the deploy account's roles are granted on it. */
  readonly project: string;
  /** The Pulumi state bucket (name, without gs://); the deploy account reads and writes the stack's state there. */
  readonly stateBucket: string;
  /**
   * KMS key of the stack's secrets provider (`warmstart:secretsKmsKey`): the deploy account may encrypt and decrypt
   * with it.
   * @default none: the stack's secrets provider is not Cloud KMS
   * @example "projects/acme-prod/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets"
   */
  readonly secretsKmsKey?: string;
  /**
   * The billing account whose budgets the deploy account may manage (`warmstart:billingAccount`).
   * @default none: the stack has no budget
   * @example "0A1B2C-3D4E5F-6A7B8C"
   */
  readonly billingAccount?: string;
  /**
   * The accounts the stack's workloads run as (StackIdentities): the deploy account may act as each, one by one,
   * since deploying a service, job, function or build that runs as an account needs iam.serviceAccounts.actAs on it.
   */
  readonly actsAs: Readonly<Record<string, gcp.serviceaccount.Account>>;
  /**
   * The request-log bucket's view (components/logging/requestLogBucket.ts) the replan identity may read.
   * @default none: the stack keeps no request-log bucket, and the replan identity reads log entries only
   * @example "projects/acme-prod/locations/global/buckets/imagegen-requests/views/_AllLogs"
   */
  readonly requestLogView?: string;
}

/**
 * The project roles the deploy account holds, each for what this stack creates. Project-level because the
 * resources it creates do not exist yet when the grant is made; nothing here is owner or editor, and nothing that
 * edits IAM beyond the stack's own resources: no service account admin or user on the project, no role admin, no
 * project IAM admin. The accounts, what they may act as and the project-level grants are StackIdentities', applied
 * with this component by an IAM admin from a laptop, so CI cannot grant itself more.
 */
export const DEPLOY_ROLES: Readonly<Record<string, string>> = {
  "roles/run.admin": "create the Cloud Run service and set who may invoke it",
  "roles/artifactregistry.admin": "create the image repository and grant the build account push on it",
  "roles/cloudbuild.builds.editor": "submit the image build",
  "roles/secretmanager.admin": "store the models access (key or read credential) for the build and grant the build account read on it",
  "roles/storage.admin": "create the build-source and guard-source buckets",
  "roles/cloudscheduler.admin": "create the warm-window and warmup jobs",
  "roles/pubsub.admin": "create the budget topic and grant Cloud Billing publish on it",
  // Developer, not admin: the stack sets no IAM policy on the function itself (its invoker grant is on the
  // function's Cloud Run service), and the Cloud Functions service agent, not the caller, creates the Eventarc trigger
  // (https://cloud.google.com/eventarc/standard/docs/functions/roles-permissions).
  "roles/cloudfunctions.developer": "deploy the budget guard function (the trigger is created by Cloud Functions' own agent)",
  "roles/monitoring.notificationChannelEditor": "create the budget's email channels",
  "roles/monitoring.dashboardEditor": "create and update the service's dashboard (it shows the warm schedule)",
  "roles/monitoring.alertPolicyEditor": "create and update the cold-start, warmup, 5xx and guard alert policies",
  "roles/monitoring.viewer": "wait until Monitoring knows a new log-based metric before alerting on it (metricDescriptors.get)",
  "roles/monitoring.servicesEditor": "create and update the latency objectives' SLOs (a Monitoring custom service and its SLOs)",
  "roles/logging.configWriter": "create and update the log-based metrics the dashboard and alerts read",
  "roles/serviceusage.serviceUsageConsumer": "use the project as the Budget API's quota project",
  "roles/logging.viewer": "print the image build's log (Cloud Logging) into the deploy",
};

/** GitHub's OIDC issuer for Actions. */
const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

/** The branch and the GitHub environment the deploy job runs on (.github/workflows/deploy.yml). */
export const DEPLOY_BRANCH = "main";
export const DEPLOY_ENVIRONMENT = "prod";

/**
 * `attribute.deploy`: the token's subject and ref together, both claims every GitHub Actions token carries. A job
 * that references an environment has the subject `repo:ORG/REPO:environment:NAME`, any other pull request job
 * `repo:ORG/REPO:pull_request` (https://docs.github.com/en/actions/deployment/security-hardening-your-deployments/
 * about-security-hardening-with-openid-connect, "Example subject claims"), and `ref` is the branch, or
 * `refs/pull/N/merge` for a pull request. Binding the deploy account to one value of it admits only the prod
 * environment on main: not a pull request, and not a branch whose own workflow names `environment: prod`.
 * (A repository that customised its subject claim template must change this value to match.)
 */
export const DEPLOY_ATTRIBUTE_MAPPING = 'assertion.sub + "@" + assertion.ref';

export function deployAttributeValue(repository: string): string {
  return `repo:${repository}:environment:${DEPLOY_ENVIRONMENT}@refs/heads/${DEPLOY_BRANCH}`;
}

/** The weekly replan workflow (.github/workflows/replan.yml): it reads the request log and opens a pull request. */
export const REPLAN_WORKFLOW = ".github/workflows/replan.yml";

/**
 * `attribute.replan`: the token's `workflow_ref`, "the ref path to the workflow", e.g.
 * `octo-org/octo-repo/.github/workflows/replan.yml@refs/heads/main`
 * (https://docs.github.com/en/actions/reference/security/oidc, "OIDC token claims"). Binding the replan account to
 * one value admits only runs of that workflow file from main of this repository: a pull request's run has the ref
 * `refs/pull/N/merge`, another branch's its own, another workflow another path.
 */
export const REPLAN_ATTRIBUTE_MAPPING = "assertion.workflow_ref";

export function replanAttributeValue(repository: string): string {
  return `${repository}/${REPLAN_WORKFLOW}@refs/heads/${DEPLOY_BRANCH}`;
}

/**
 * What the replan account may do: read log entries in the project (`roles/logging.viewer`), and, for a user-defined
 * bucket, read its view (`roles/logging.viewAccessor`, conditioned on that one view: "grant the principal the
 * roles/logging.viewAccessor role on the project ... attach an IAM condition to limit the grant to a specific log
 * view", https://cloud.google.com/logging/docs/logs-views). Nothing that writes.
 */
export const REPLAN_ROLES: Readonly<Record<string, string>> = {
  "roles/logging.viewer": "read the service's request log entries (gcloud logging read)",
  "roles/logging.viewAccessor": "read the request-log bucket's _AllLogs view, and no other (IAM condition on the view)",
};

/** The attribute condition that admits tokens of exactly this repository. */
export function repositoryCondition(repository: string): string {
  return `assertion.repository == "${repository}"`;
}

/**
 * Keyless deploys from GitHub Actions: a workload identity pool and GitHub OIDC provider that admit only the named
 * repository, and a deploy service account that repository may impersonate, with the roles this stack needs and
 * read/write on the state bucket.
 */
export class CiAccess extends pulumi.ComponentResource {
  /** Paste into the repository variable WIF_PROVIDER. */
  public readonly workloadIdentityProvider: pulumi.Output<string>;
  /** Paste into the repository variable DEPLOY_SERVICE_ACCOUNT. */
  public readonly deployServiceAccount: pulumi.Output<string>;
  /** Paste into the repository variable REPLAN_SERVICE_ACCOUNT: the replan workflow's read-only identity. */
  public readonly replanServiceAccount: pulumi.Output<string>;

  constructor(name: string, args: CiAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:ci:CiAccess", name, {}, opts);
    const parent = { parent: this };

    // Pool ids stay reserved for 30 days after deletion, so a fixed id would block re-creating the stack.
    const suffix = new random.RandomString(`${name}-pool-suffix`, { length: 6, upper: false, special: false }, parent);
    const pool = new gcp.iam.WorkloadIdentityPool(
      `${name}-github`,
      { project: args.project, workloadIdentityPoolId: pulumi.interpolate`github-${suffix.result}`, displayName: "GitHub Actions (warmstart)" },
      parent,
    );
    const provider = new gcp.iam.WorkloadIdentityPoolProvider(
      `${name}-github`,
      {
        project: args.project,
        workloadIdentityPoolId: pool.workloadIdentityPoolId,
        workloadIdentityPoolProviderId: "github",
        displayName: "GitHub OIDC",
        oidc: { issuerUri: GITHUB_ISSUER },
        attributeMapping: {
          "google.subject": "assertion.sub",
          "attribute.repository": "assertion.repository",
          "attribute.ref": "assertion.ref",
          "attribute.actor": "assertion.actor",
          "attribute.deploy": DEPLOY_ATTRIBUTE_MAPPING,
          "attribute.replan": REPLAN_ATTRIBUTE_MAPPING,
        },
        attributeCondition: repositoryCondition(args.githubRepository),
      },
      parent,
    );

    const deployer = new gcp.serviceaccount.Account(
      `${name}-deployer`,
      { project: args.project, accountId: accountId(name, "deploy"), displayName: `warmstart deploys from ${args.githubRepository}` },
      parent,
    );
    const member = pulumi.interpolate`serviceAccount:${deployer.email}`;
    new gcp.serviceaccount.IAMMember(
      `${name}-github-impersonates-deployer`,
      {
        serviceAccountId: deployer.name,
        role: "roles/iam.workloadIdentityUser",
        member: pulumi.interpolate`principalSet://iam.googleapis.com/${pool.name}/attribute.deploy/${deployAttributeValue(args.githubRepository)}`,
      },
      parent,
    );
    for (const role of Object.keys(DEPLOY_ROLES)) {
      new gcp.projects.IAMMember(`${name}-deployer-${role.replace(/^roles\//, "").replace(/\./g, "-")}`, { project: args.project, role, member }, parent);
    }
    // Act as each workload account, on that account only (not project-wide: that would include every account in the
    // project, the default compute account with Editor among them).
    for (const [role, account] of Object.entries(args.actsAs)) {
      new gcp.serviceaccount.IAMMember(
        `${name}-deployer-acts-as-${role}`,
        { serviceAccountId: account.name, role: "roles/iam.serviceAccountUser", member },
        parent,
      );
    }
    new gcp.storage.BucketIAMMember(`${name}-deployer-state`, { bucket: args.stateBucket, role: "roles/storage.objectAdmin", member }, parent);
    if (args.secretsKmsKey) {
      new gcp.kms.CryptoKeyIAMMember(`${name}-deployer-secrets`, { cryptoKeyId: args.secretsKmsKey, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member }, parent);
    }
    if (args.billingAccount) {
      new gcp.billing.AccountIamMember(`${name}-deployer-budgets`, { billingAccountId: args.billingAccount, role: "roles/billing.costsManager", member }, parent);
    }

    // The replan workflow's identity: reads the request log, nothing else; reachable only from replan.yml on main.
    const replanner = new gcp.serviceaccount.Account(
      `${name}-replanner`,
      { project: args.project, accountId: accountId(name, "replan"), displayName: `warmstart weekly replan (read-only) from ${args.githubRepository}` },
      parent,
    );
    const replanMember = pulumi.interpolate`serviceAccount:${replanner.email}`;
    new gcp.serviceaccount.IAMMember(
      `${name}-github-impersonates-replanner`,
      {
        serviceAccountId: replanner.name,
        role: "roles/iam.workloadIdentityUser",
        member: pulumi.interpolate`principalSet://iam.googleapis.com/${pool.name}/attribute.replan/${replanAttributeValue(args.githubRepository)}`,
      },
      parent,
    );
    new gcp.projects.IAMMember(`${name}-replanner-logging-viewer`, { project: args.project, role: "roles/logging.viewer", member: replanMember }, parent);
    if (args.requestLogView) {
      new gcp.projects.IAMMember(
        `${name}-replanner-request-log-view`,
        {
          project: args.project,
          role: "roles/logging.viewAccessor",
          member: replanMember,
          condition: { title: "request log view only", description: "The planner's request-log bucket view", expression: `resource.name == "${args.requestLogView}"` },
        },
        parent,
      );
    }

    this.workloadIdentityProvider = provider.name;
    this.deployServiceAccount = deployer.email;
    this.replanServiceAccount = replanner.email;
    this.registerOutputs({ workloadIdentityProvider: this.workloadIdentityProvider, deployServiceAccount: this.deployServiceAccount, replanServiceAccount: this.replanServiceAccount });
  }
}
