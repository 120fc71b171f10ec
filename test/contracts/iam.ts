/**
 * IAM coverage: every acting account holds, through the bindings the stack makes, a role that contains each
 * permission its work needs, on a scope that covers where it is needed. Roles are read from ROLE_PERMISSIONS
 * (Google's definitions, written out) and, for the stack's own custom roles, from the role the stack declares.
 */
import type { RecordedResource } from "../../scripts/offline";
import type { SynthesizedStack } from "./exampleStacks";
import { DEPLOY_NEEDS, NOT_GOOGLE, type Need, type Scope } from "./iamNeeds";
import { ROLE_PERMISSIONS } from "./iamRoles";
import { label, type ContractRule } from "./rule";

export interface Grant {
  readonly role: string;
  readonly scope: Scope;
  /** The binding's IAM condition expression, if any. */
  readonly condition?: string;
}

const BINDING_SCOPES: Readonly<Record<string, (i: Record<string, any>) => Scope>> = {
  "gcp:projects/iAMMember:IAMMember": () => ({ kind: "project" }),
  "gcp:serviceaccount/iAMMember:IAMMember": (i) => ({ kind: "serviceAccount", email: String(i.serviceAccountId).replace(/^projects\/[^/]+\/serviceAccounts\//, "") }),
  "gcp:storage/bucketIAMMember:BucketIAMMember": (i) => ({ kind: "bucket", name: String(i.bucket) }),
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": (i) => ({ kind: "service", name: String(i.name) }),
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": (i) => ({ kind: "repository", id: String(i.repository) }),
  "gcp:secretmanager/secretIamMember:SecretIamMember": (i) => ({ kind: "secret", id: String(i.secretId) }),
  "gcp:pubsub/topicIAMMember:TopicIAMMember": (i) => ({ kind: "topic", name: String(i.topic) }),
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": (i) => ({ kind: "kmsKey", id: String(i.cryptoKeyId) }),
  "gcp:billing/accountIamMember:AccountIamMember": () => ({ kind: "billingAccount" }),
};

export function grantsOf(stack: SynthesizedStack, member: string): Grant[] {
  return stack.resources
    .filter((r) => r.custom && r.plainInputs.member === member && BINDING_SCOPES[r.type])
    .map((r) => ({ role: String(r.plainInputs.role), scope: BINDING_SCOPES[r.type](r.plainInputs as Record<string, any>), condition: (r.plainInputs.condition as any)?.expression }));
}

/** A role's permissions: Google's definition, or the stack's own custom role as declared. */
export function roleContents(stack: SynthesizedStack, role: string): readonly string[] {
  const custom = stack.ofType("gcp:projects/iAMCustomRole:IAMCustomRole").find((r) => r.plainOutputs.name === role);
  if (custom) return custom.plainInputs.permissions as string[];
  const known = ROLE_PERMISSIONS[role];
  if (!known) throw new Error(`${role} is not in test/contracts/iamRoles.ts: add its permissions from Google's reference`);
  return known;
}

/** A grant's scope covers a need's: a project grant covers every resource but a billing account or a KMS key. */
function covers(grant: Scope, need: Scope): boolean {
  if (grant.kind === "project") return need.kind !== "billingAccount" && need.kind !== "kmsKey";
  return JSON.stringify(grant) === JSON.stringify(need);
}

export function missing(stack: SynthesizedStack, member: string, needs: readonly Need[]): string[] {
  const grants = grantsOf(stack, member);
  const out = new Set<string>();
  for (const n of needs) {
    if (!grants.some((g) => covers(g.scope, n.scope) && roleContents(stack, g.role).includes(n.permission))) {
      out.add(`${member.replace(/@.*/, "")} lacks ${n.permission} on ${n.scope.kind === "project" ? "the project" : JSON.stringify(n.scope)} (${n.why})`);
    }
  }
  return [...out];
}

const underComponent = (stack: SynthesizedStack, r: RecordedResource, componentType: string): boolean => {
  for (let p = r.parent; p; p = stack.byUrn(p)?.parent) if (stack.byUrn(p)?.type === componentType) return true;
  return false;
};
/**
 * The components an IAM admin applies from a laptop (docs/operations.md): the CI access and the stack's identities
 * with every grant that needs IAM admin. CI never creates or changes what is in them.
 */
export const LAPTOP_COMPONENTS = ["warmstart:ci:CiAccess", "warmstart:access:StackIdentities"];
export const laptopApplied = (stack: SynthesizedStack, r: RecordedResource) => LAPTOP_COMPONENTS.some((t) => underComponent(stack, r, t));
const account = (stack: SynthesizedStack, suffix: string) => {
  const a = stack.ofType("gcp:serviceaccount/account:Account").find((x) => String(x.plainInputs.accountId).endsWith(`-${suffix}`));
  return a ? `serviceAccount:${a.plainOutputs.email}` : undefined;
};

/**
 * What the deploy account made by CiAccess needs: everything the stack deploys, except what an IAM admin applies from
 * a laptop (LAPTOP_COMPONENTS): CI cannot change its own access, nor anyone's.
 */
export function deployNeeds(stack: SynthesizedStack): Need[] {
  const needs: Need[] = [];
  for (const r of stack.resources) {
    if (!r.custom || NOT_GOOGLE.test(r.type) || laptopApplied(stack, r)) continue;
    const row = DEPLOY_NEEDS[r.type];
    if (!row) throw new Error(`no IAM row for ${r.type} in test/contracts/iamNeeds.ts: say what deploying it needs`);
    needs.push(...row(r, stack));
  }
  // The budget reads the project's number (gcp.organizations.getProject: projects.get, and billing info with it).
  if (stack.ofType("gcp:billing/budget:Budget").length > 0) needs.push({ permission: "resourcemanager.projects.get", scope: { kind: "project" }, why: "getProject" });
  // The Pulumi state (GCS backend: read, write, lock) and the secrets provider's key.
  const bucket = stack.config["warmstart:stateBucket"];
  if (bucket) for (const p of ["storage.objects.get", "storage.objects.list", "storage.objects.create", "storage.objects.delete"]) needs.push({ permission: p, scope: { kind: "bucket", name: bucket }, why: "Pulumi state" });
  const key = stack.config["warmstart:secretsKmsKey"];
  if (key) for (const p of ["cloudkms.cryptoKeyVersions.useToDecrypt", "cloudkms.cryptoKeyVersions.useToEncrypt"]) needs.push({ permission: p, scope: { kind: "kmsKey", id: key }, why: "stack secrets" });
  return needs;
}

const serviceOf = (stack: SynthesizedStack) => stack.ofType("gcp:cloudrunv2/service:Service")[0];
const runtimeOf = (stack: SynthesizedStack) => String((serviceOf(stack)?.plainInputs.template as any)?.serviceAccount ?? "");
const updateService = (stack: SynthesizedStack, why: string): Need[] => [
  { permission: "run.services.update", scope: { kind: "service", name: String(serviceOf(stack).plainInputs.name) }, why },
  { permission: "iam.serviceAccounts.actAs", scope: { kind: "serviceAccount", email: runtimeOf(stack) }, why: `${why}: an update acts as the runtime account` },
];

/** The image build's account: what the Cloud Build config it runs uses (components/image/cloudBuild.ts). */
export function imageBuildNeeds(stack: SynthesizedStack): Need[] {
  const build = stack.ofType("command:local:Command").find((c) => String(c.plainInputs.create).includes("submit-build.sh"));
  if (!build) return [];
  const env = build.plainInputs.environment as Record<string, string>;
  const config = JSON.parse(env.BUILD_CONFIG) as { images: string[]; availableSecrets?: { secretManager: { versionName: string }[] }; steps: { args: string[] }[] };
  const repoOf = (image: string) => /^[a-z0-9-]+-docker\.pkg\.dev\/[^/]+\/([^/]+)\//.exec(image)?.[1];
  const needs: Need[] = [
    { permission: "logging.logEntries.create", scope: { kind: "project" }, why: "build log (CLOUD_LOGGING_ONLY)" },
    { permission: "storage.objects.get", scope: { kind: "bucket", name: /^gs:\/\/([^/]+)\//.exec(env.SOURCE_STAGING_DIR)![1] }, why: "staged source" },
    ...config.images.map((i) => ({ permission: "artifactregistry.repositories.uploadArtifacts", scope: { kind: "repository", id: repoOf(i)! } as Scope, why: `push ${i}` })),
    ...(config.availableSecrets?.secretManager ?? []).map((s) => ({ permission: "secretmanager.versions.access", scope: { kind: "secret", id: s.versionName.replace(/\/versions\/[^/]+$/, "") } as Scope, why: "models access" })),
  ];
  const base = /--build-arg BASE_IMAGE=(\S+)/.exec(config.steps[0].args[1])?.[1] ?? "";
  const baseRepo = repoOf(base);
  if (baseRepo && base.split("/")[1] === stack.config["gcp:project"]) needs.push({ permission: "artifactregistry.repositories.downloadArtifacts", scope: { kind: "repository", id: baseRepo }, why: `FROM ${base}` });
  return needs;
}

/** The budget guard (functions/guardHandler.ts and functions/enforce.ts): what it calls, and its trigger. */
export function guardNeeds(stack: SynthesizedStack): Need[] {
  const fn = stack.ofType("gcp:cloudfunctionsv2/function:Function")[0];
  if (!fn) return [];
  const env = (fn.plainInputs.serviceConfig as any).environmentVariables as Record<string, string>;
  const state = /^gs:\/\/([^/]+)\//.exec(env.GUARD_STATE)![1];
  return [
    ...updateService(stack, "services.patch (scaling)"),
    // https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs (get, pause; resume: enable).
    ...["cloudscheduler.jobs.get", "cloudscheduler.jobs.pause", "cloudscheduler.jobs.enable"].map((permission) => ({ permission, scope: { kind: "project" } as Scope, why: "job state" })),
    // State object: read, write, and an overwrite deletes the old generation.
    ...["storage.objects.get", "storage.objects.create", "storage.objects.delete"].map((permission) => ({ permission, scope: { kind: "bucket", name: state } as Scope, why: "guard state" })),
    // The trigger delivers as this account (functions.proto, EventTrigger.service_account_email: run.routes.invoke).
    { permission: "run.routes.invoke", scope: { kind: "service", name: String(fn.plainInputs.name) }, why: "event delivery" },
  ];
}

/** The guard's build account (https://cloud.google.com/functions/docs/securing/build-custom-sa). */
export function guardBuildNeeds(stack: SynthesizedStack): Need[] {
  const fn = stack.ofType("gcp:cloudfunctionsv2/function:Function")[0];
  if (!fn) return [];
  const b = fn.plainInputs.buildConfig as any;
  return [
    { permission: "logging.logEntries.create", scope: { kind: "project" }, why: "build log" },
    { permission: "storage.objects.get", scope: { kind: "bucket", name: String(b.source.storageSource.bucket) }, why: "function source" },
    { permission: "artifactregistry.repositories.uploadArtifacts", scope: { kind: "repository", id: String(b.dockerRepository).split("/").pop()! }, why: "function image" },
  ];
}

/** The scheduler's account: the min-instance jobs PATCH the service (components/schedule/warmSchedule.ts). */
export function schedulerNeeds(stack: SynthesizedStack): Need[] {
  return stack.ofType("gcp:cloudscheduler/job:Job").some((j) => (j.plainInputs.httpTarget as any)?.oauthToken) ? updateService(stack, "a min-instance job") : [];
}

/** The warmup caller: POST /warmup with an OIDC token. */
export function invokerNeeds(stack: SynthesizedStack): Need[] {
  return stack.ofType("gcp:cloudscheduler/job:Job").some((j) => (j.plainInputs.httpTarget as any)?.oidcToken)
    ? [{ permission: "run.routes.invoke", scope: { kind: "service", name: String(serviceOf(stack).plainInputs.name) }, why: "warmup" }]
    : [];
}

const CHECKED = "2026-11-29";

const coverage = (id: string, suffix: string, rule: string, source: string, needsOf: (s: SynthesizedStack) => Need[]): ContractRule => ({
  id,
  rule,
  source,
  checked: CHECKED,
  violations: (stack) => {
    const member = account(stack, suffix);
    return member ? missing(stack, member, needsOf(stack)) : [];
  },
  exercised: (stack) => (account(stack, suffix) ? needsOf(stack).length : 0),
});

const COVERAGE_RULES: readonly ContractRule[] = [
  coverage("iam/deploy-account", "deploy", "The CI deploy account holds a role with every permission deploying the stack takes (CiAccess's own resources excepted: an IAM admin applies those).", "iamNeeds.ts (REST references; terraform-provider-google v7.45.0)", deployNeeds),
  coverage("iam/image-build-account", "build", "The image build's account may push, pull its base image, read the models access, read its source and write its log.", "https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts", imageBuildNeeds),
  coverage("iam/guard-account", "guard", "The budget guard may update the service (as its runtime account), read, pause and resume the jobs, keep its state, and receive its events.", "https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/resume", guardNeeds),
  coverage("iam/guard-build-account", "gbuild", "The guard's build account may write logs, read the function source and push the function image.", "https://cloud.google.com/functions/docs/securing/build-custom-sa", guardBuildNeeds),
  coverage("iam/scheduler-account", "sched", "The scheduler's account may update the service's min instances, acting as its runtime account.", "https://cloud.google.com/run/docs/configuring/services/service-identity", schedulerNeeds),
  coverage("iam/replan-account", "replan", "The replan workflow's account may read the request log entries and the request-log bucket's view, and nothing more is needed.", "https://cloud.google.com/logging/docs/logs-views", (stack) =>
    stack.ofType("gcp:logging/projectBucketConfig:ProjectBucketConfig").length
      ? [
          { permission: "logging.logEntries.list", scope: { kind: "project" }, why: "gcloud logging read" },
          { permission: "logging.views.access", scope: { kind: "project" }, why: "the bucket's _AllLogs view (the grant's condition names it)" },
        ]
      : [],
  ),
  coverage("iam/invoker-account", "invoke", "The warmup caller may invoke the service.", "https://cloud.google.com/run/docs/securing/managing-access", invokerNeeds),
  {
    id: "iam/laptop-applied",
    rule: "Every grant that needs IAM admin (the project's policy, a service account's, a custom role) is made by a component an IAM admin applies from a laptop, never by what CI deploys.",
    source: "https://cloud.google.com/iam/docs/service-account-permissions (acting as, and granting on, service accounts)",
    checked: CHECKED,
    violations: (stack) =>
      stack.resources
        .filter((r) => ["gcp:projects/iAMMember:IAMMember", "gcp:serviceaccount/iAMMember:IAMMember", "gcp:projects/iAMCustomRole:IAMCustomRole", "gcp:serviceaccount/account:Account"].includes(r.type))
        .filter((r) => !laptopApplied(stack, r))
        .map((r) => `${label(r)} needs IAM admin but is deployed by CI`),
    exercised: (stack) => stack.ofType("gcp:serviceaccount/account:Account").length,
  },
];

/**
 * What lets an account grant itself more, on its own or by acting as another account: editing a role, setting the
 * project's or a service account's IAM policy, or minting another account's credentials
 * (https://cloud.google.com/iam/docs/service-account-permissions; https://cloud.google.com/iam/docs/understanding-custom-roles).
 */
export const ESCALATING = [
  "resourcemanager.projects.setIamPolicy",
  "iam.serviceAccounts.setIamPolicy",
  "iam.roles.create",
  "iam.roles.update",
  "iam.serviceAccountKeys.create",
  "iam.serviceAccounts.getAccessToken",
  "iam.serviceAccounts.signBlob",
  "iam.serviceAccounts.signJwt",
  "iam.serviceAccounts.implicitDelegation",
];

/** Every service account the stack makes or grants to, as IAM members. */
const accounts = (stack: SynthesizedStack) => stack.ofType("gcp:serviceaccount/account:Account").map((a) => `serviceAccount:${a.plainOutputs.email}`);

/** What an account can do with its own grants and through every account it may act as, transitively. */
export function reachablePermissions(stack: SynthesizedStack, member: string, seen = new Set<string>()): Set<string> {
  const perms = new Set<string>();
  if (seen.has(member)) return perms;
  seen.add(member);
  for (const g of grantsOf(stack, member)) {
    const contents = roleContents(stack, g.role);
    contents.forEach((p) => perms.add(p));
    if (g.scope.kind === "serviceAccount" && contents.includes("iam.serviceAccounts.actAs")) {
      reachablePermissions(stack, `serviceAccount:${g.scope.email}`, seen).forEach((p) => perms.add(p));
    }
  }
  return perms;
}

/**
 * GitHub Actions tokens a pull request can obtain (any subject, as its job may name any environment, and any
 * workflow file, as a branch may carry its own copy of replan.yml).
 */
const PULL_REQUEST_TOKENS = (repo: string) => [
  { repository: repo, sub: `repo:${repo}:pull_request`, ref: "refs/pull/1/merge", workflow_ref: `${repo}/.github/workflows/replan.yml@refs/pull/1/merge` },
  { repository: repo, sub: `repo:${repo}:environment:prod`, ref: "refs/pull/1/merge", workflow_ref: `${repo}/.github/workflows/deploy.yml@refs/pull/1/merge` },
  { repository: repo, sub: `repo:${repo}:environment:prod`, ref: "refs/heads/pull-request-branch", workflow_ref: `${repo}/.github/workflows/replan.yml@refs/heads/pull-request-branch` },
];

/** A provider's `attribute.NAME` for some claims, for the `assertion.a + "b" + assertion.c` form the stack uses. */
export function mappedAttribute(mapping: Record<string, string>, attribute: string, claims: Record<string, string>): string | undefined {
  const expr = mapping[`attribute.${attribute}`];
  if (expr === undefined) return undefined;
  return expr
    .split(" + ")
    .map((part) => (part.startsWith('"') ? (JSON.parse(part) as string) : claims[part.replace(/^assertion\./, "")]))
    .join("");
}

const ESCALATION_RULES: readonly ContractRule[] = [
  {
    id: "iam/no-escalation",
    rule: "No account the stack makes can grant itself more, on its own or through an account it may act as: no role editing, no project or service account policy, no minting another account's credentials.",
    source: "https://cloud.google.com/iam/docs/service-account-permissions",
    checked: CHECKED,
    violations: (stack) =>
      accounts(stack).flatMap((member) => {
        const reach = reachablePermissions(stack, member);
        return ESCALATING.filter((p) => reach.has(p)).map((p) => `${member.replace(/@.*/, "")} can ${p}`);
      }),
    exercised: (stack) => accounts(stack).length,
  },
  {
    id: "iam/no-pull-request-identity",
    rule: "No token a pull request can get admits it to any account: the deploy account is bound to the prod environment on main only.",
    source: "https://docs.github.com/en/actions/deployment/security-hardening-your-deployments/about-security-hardening-with-openid-connect",
    checked: CHECKED,
    violations: (stack) => {
      const provider = stack.ofType("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")[0];
      if (!provider) return [];
      const mapping = provider.plainInputs.attributeMapping as Record<string, string>;
      const repo = stack.config["warmstart:githubRepository"];
      return stack
        .ofType("gcp:serviceaccount/iAMMember:IAMMember")
        .filter((b) => String(b.plainInputs.member).startsWith("principal"))
        .flatMap((b) => {
          const m = /\/(attribute\.([a-z_]+)|subject)\/(.+)$/.exec(String(b.plainInputs.member));
          if (!m) return [`${label(b)}: ${b.plainInputs.member} is not a binding this check understands`];
          const admitted = PULL_REQUEST_TOKENS(repo).filter((t) => (m[1] === "subject" ? t.sub === m[3] : mappedAttribute(mapping, m[2], t) === m[3]));
          return admitted.map((t) => `${label(b)} admits a pull request token (${t.sub}, ${t.ref})`);
        });
    },
    exercised: (stack) => stack.ofType("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").length,
  },
];

export const IAM_RULES: readonly ContractRule[] = [...COVERAGE_RULES, ...ESCALATION_RULES];
