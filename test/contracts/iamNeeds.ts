/**
 * What each acting account must be allowed to do, written out as Google's permission strings (never the constants the
 * code grants), with where each comes from. Needs are computed per resource of the synthesized stack, each with the
 * scope a grant must cover: the project, or one resource (a service account, bucket, service, ...).
 *
 * Sources (read 2026-11-29): each API's REST reference ("Authorization requires the following IAM permission"), and
 * for what the provider calls on create, read, update and delete, hashicorp/terraform-provider-google v7.45.0
 * (google/services/<product>/resource_*.go), which Pulumi's gcp provider v9 bridges.
 */
import type { RecordedResource } from "../../scripts/offline";
import type { SynthesizedStack } from "./exampleStacks";

/** Where a grant must apply. A project grant covers every scope in the project. */
export type Scope =
  | { readonly kind: "project" }
  | { readonly kind: "billingAccount" }
  | { readonly kind: "serviceAccount"; readonly email: string }
  | { readonly kind: "bucket"; readonly name: string }
  | { readonly kind: "service"; readonly name: string }
  | { readonly kind: "repository"; readonly id: string }
  | { readonly kind: "secret"; readonly id: string }
  | { readonly kind: "topic"; readonly name: string }
  | { readonly kind: "kmsKey"; readonly id: string };

export interface Need {
  readonly permission: string;
  readonly scope: Scope;
  /** What needs it, for the message. */
  readonly why: string;
}

const PROJECT: Scope = { kind: "project" };
const crud = (prefix: string, verbs = ["create", "get", "update", "delete"]) => verbs.map((v) => `${prefix}.${v}`);
const onProject = (perms: string[], why: string): Need[] => perms.map((permission) => ({ permission, scope: PROJECT, why }));
const actAs = (email: unknown, why: string): Need[] =>
  typeof email === "string" && email !== "" ? [{ permission: "iam.serviceAccounts.actAs", scope: { kind: "serviceAccount", email }, why }] : [];
const emailOfAccountName = (name: unknown) => String(name ?? "").replace(/^projects\/[^/]+\/serviceAccounts\//, "");

/**
 * What the identity running `pulumi up` needs, per resource type. A type without a row fails the contract test:
 * a new kind of resource must say what deploying it takes.
 */
export const DEPLOY_NEEDS: Readonly<Record<string, (r: RecordedResource, stack: SynthesizedStack) => Need[]>> = {
  // iam.googleapis.com/v1 projects.serviceAccounts.{create,get,patch,delete} (resource_google_service_account.go).
  "gcp:serviceaccount/account:Account": (r) => onProject(crud("iam.serviceAccounts"), r.name),
  // Read-modify-write of the account's policy (iam_service_account.go).
  "gcp:serviceaccount/iAMMember:IAMMember": (r) =>
    ["iam.serviceAccounts.getIamPolicy", "iam.serviceAccounts.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "serviceAccount", email: emailOfAccountName(r.plainInputs.serviceAccountId) }, why: r.name })),
  // cloudresourcemanager v1 projects.getIamPolicy / setIamPolicy (iam_project.go).
  "gcp:projects/iAMMember:IAMMember": (r) => onProject(["resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"], r.name),
  // iam v1 projects.roles.{get,create,patch,delete,undelete} (resource_google_project_iam_custom_role.go).
  "gcp:projects/iAMCustomRole:IAMCustomRole": (r) => onProject([...crud("iam.roles"), "iam.roles.undelete"], r.name),
  "gcp:artifactregistry/repository:Repository": (r) => onProject(crud("artifactregistry.repositories"), r.name),
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": (r) =>
    ["artifactregistry.repositories.getIamPolicy", "artifactregistry.repositories.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "repository", id: String(r.plainInputs.repository) }, why: r.name })),
  "gcp:secretmanager/secret:Secret": (r) => onProject(crud("secretmanager.secrets"), r.name),
  // secrets.addVersion on create; a refresh reads the payload (versions.access); delete destroys the version.
  "gcp:secretmanager/secretVersion:SecretVersion": (r) => onProject(["secretmanager.versions.add", "secretmanager.versions.get", "secretmanager.versions.access", "secretmanager.versions.destroy"], r.name),
  "gcp:secretmanager/secretIamMember:SecretIamMember": (r) => onProject(["secretmanager.secrets.getIamPolicy", "secretmanager.secrets.setIamPolicy"], r.name),
  // buckets.insert then buckets.get; forceDestroy lists and deletes objects first (resource_storage_bucket.go).
  "gcp:storage/bucket:Bucket": (r) => onProject([...crud("storage.buckets"), "storage.objects.list", "storage.objects.delete"], r.name),
  // objects.insert (an overwrite also needs delete), objects.get, objects.delete (resource_storage_bucket_object.go).
  "gcp:storage/bucketObject:BucketObject": (r) =>
    ["storage.objects.create", "storage.objects.get", "storage.objects.delete"].map((permission) => ({ permission, scope: { kind: "bucket", name: String(r.plainInputs.bucket) }, why: r.name })),
  "gcp:storage/bucketIAMMember:BucketIAMMember": (r) =>
    ["storage.buckets.getIamPolicy", "storage.buckets.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "bucket", name: String(r.plainInputs.bucket) }, why: r.name })),
  // Creating or updating a service acts as its runtime account
  // (https://cloud.google.com/run/docs/configuring/services/service-identity).
  "gcp:cloudrunv2/service:Service": (r) => [...onProject(crud("run.services"), r.name), ...actAs((r.plainInputs.template as any)?.serviceAccount, `${r.name} runs as it`)],
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": (r) =>
    ["run.services.getIamPolicy", "run.services.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "service", name: String(r.plainInputs.name) }, why: r.name })),
  // The provider creates, then calls :resume (paused unset) or :pause (resource_cloud_scheduler_job.go); :resume is
  // authorised by cloudscheduler.jobs.enable. The job's token account must be one the caller may act as.
  "gcp:cloudscheduler/job:Job": (r) => {
    const t = r.plainInputs.httpTarget as any;
    return [
      ...onProject([...crud("cloudscheduler.jobs"), "cloudscheduler.jobs.enable", "cloudscheduler.jobs.pause"], r.name),
      ...actAs(t?.oauthToken?.serviceAccountEmail ?? t?.oidcToken?.serviceAccountEmail, `${r.name} calls as it`),
    ];
  },
  "gcp:pubsub/topic:Topic": (r) => onProject(crud("pubsub.topics"), r.name),
  "gcp:pubsub/topicIAMMember:TopicIAMMember": (r) =>
    ["pubsub.topics.getIamPolicy", "pubsub.topics.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "topic", name: String(r.plainInputs.topic) }, why: r.name })),
  // On the billing account; a budget that names a topic needs setIamPolicy on it (budget_model.proto,
  // NotificationsRule.pubsub_topic: "If not set, the API call fails with PERMISSION_DENIED"); the Budget API is
  // called with the project as quota project (serviceusage.services.use).
  "gcp:billing/budget:Budget": (r) => [
    ...crud("billing.budgets").map((permission) => ({ permission, scope: { kind: "billingAccount" } as Scope, why: r.name })),
    { permission: "pubsub.topics.setIamPolicy", scope: { kind: "topic", name: String((r.plainInputs.allUpdatesRule as any)?.pubsubTopic ?? "").split("/").pop()! }, why: `${r.name} publishes to it` },
    { permission: "serviceusage.services.use", scope: PROJECT, why: `${r.name} (quota project)` },
  ],
  "gcp:monitoring/notificationChannel:NotificationChannel": (r) => onProject(crud("monitoring.notificationChannels"), r.name),
  "gcp:monitoring/dashboard:Dashboard": (r) => onProject(crud("monitoring.dashboards"), r.name),
  "gcp:monitoring/alertPolicy:AlertPolicy": (r) => onProject(crud("monitoring.alertPolicies"), r.name),
  // services.{create,get,patch,delete} and services.serviceLevelObjectives.{create,get,patch,delete}
  // (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/services; the permissions roles/monitoring.servicesEditor
  // holds for them, https://cloud.google.com/iam/docs/roles-permissions/monitoring).
  "gcp:monitoring/customService:CustomService": (r) => onProject(crud("monitoring.services"), r.name),
  "gcp:monitoring/slo:Slo": (r) => onProject(crud("monitoring.slos"), r.name),
  // https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.metrics/create: logging.logMetrics.create.
  "gcp:logging/metric:Metric": (r) => onProject(crud("logging.logMetrics"), r.name),
  // projects.locations.buckets.{create,get,patch,delete}, projects.sinks.{create,get,update,delete}
  // (https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.locations.buckets/create: logging.buckets.create;
  // .../projects.sinks/create: logging.sinks.create). A sink into a bucket of its own project needs no grant.
  "gcp:logging/projectBucketConfig:ProjectBucketConfig": (r) => onProject(crud("logging.buckets"), r.name),
  "gcp:logging/projectSink:ProjectSink": (r) => onProject(crud("logging.sinks"), r.name),
  // functions.create/patch/delete and the operation it returns; acting as the runtime, build and trigger accounts
  // (https://cloud.google.com/eventarc/standard/docs/functions/roles-permissions). The Eventarc trigger and the
  // function's Cloud Run service are created by the Cloud Functions service agent, not the caller.
  "gcp:cloudfunctionsv2/function:Function": (r) => {
    const i = r.plainInputs as any;
    return [
      ...onProject([...crud("cloudfunctions.functions"), "cloudfunctions.operations.get"], r.name),
      ...actAs(i.serviceConfig?.serviceAccountEmail, `${r.name} runs as it`),
      ...actAs(emailOfAccountName(i.buildConfig?.serviceAccount), `${r.name} is built as it`),
      ...actAs(i.eventTrigger?.serviceAccountEmail, `${r.name}'s trigger delivers as it`),
    ];
  },
  "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": (r) => onProject(crud("iam.googleapis.com/workloadIdentityPools"), r.name),
  "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": (r) => onProject(crud("iam.googleapis.com/workloadIdentityPoolProviders"), r.name),
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": (r) =>
    ["cloudkms.cryptoKeys.getIamPolicy", "cloudkms.cryptoKeys.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "kmsKey", id: String(r.plainInputs.cryptoKeyId) }, why: r.name })),
  "gcp:billing/accountIamMember:AccountIamMember": (r) =>
    ["billing.accounts.getIamPolicy", "billing.accounts.setIamPolicy"].map((permission) => ({ permission, scope: { kind: "billingAccount" }, why: r.name })),
  // Commands pulumi up runs, by what they call.
  "command:local:Command": (r, stack) => {
    const create = String(r.plainInputs.create);
    const env = (r.plainInputs.environment ?? {}) as Record<string, string>;
    if (create.includes("submit-build.sh")) {
      // gcloud builds submit with --gcs-source-staging-dir (buckets.get, objects.create) and --service-account (actAs);
      // builds describe / log poll builds.get and read the Cloud Logging log (gcloud lib/googlecloudsdk/api_lib/cloudbuild).
      const staging = /^gs:\/\/([^/]+)\//.exec(env.SOURCE_STAGING_DIR ?? "")?.[1] ?? "";
      return [
        ...onProject(["cloudbuild.builds.create", "cloudbuild.builds.get", "logging.logEntries.list"], r.name),
        ...["storage.buckets.get", "storage.objects.create"].map((permission) => ({ permission, scope: { kind: "bucket", name: staging } as Scope, why: `${r.name} stages the source` })),
        ...actAs(env.BUILD_SERVICE_ACCOUNT, `${r.name} builds as it`),
      ];
    }
    if (create.includes("reconcile")) {
      // scripts/reconcile.ts: services.patch (acting as the runtime account), jobs.get/pause, the guard's state object.
      const service = String(env.RECONCILE_SERVICE).split("/").pop()!;
      const runtime = stack.ofType("gcp:cloudrunv2/service:Service").find((s) => s.plainInputs.name === service);
      const state = /^gs:\/\/([^/]+)\//.exec(env.RECONCILE_GUARD_STATE ?? "")?.[1];
      return [
        { permission: "run.services.update", scope: { kind: "service", name: service }, why: r.name },
        ...actAs((runtime?.plainInputs.template as any)?.serviceAccount, `${r.name} updates the service`),
        ...onProject(["cloudscheduler.jobs.get", "cloudscheduler.jobs.pause"], r.name),
        ...(state ? [{ permission: "storage.objects.get", scope: { kind: "bucket", name: state } as Scope, why: `${r.name} reads the guard's state` }] : []),
      ];
    }
    // https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.metricDescriptors/get
    if (create.includes("wait-log-metrics")) return onProject(["monitoring.metricDescriptors.get"], r.name);
    // The local bundle and the models sync call no Google API.
    if (create.includes("build:container") || create.includes("models:sync")) return [];
    throw new Error(`no IAM row for the command "${create}"`);
  },
  // A local build pushes with the deploying identity's credentials.
  "docker-build:index:Image": (r) => onProject(["artifactregistry.repositories.uploadArtifacts", "artifactregistry.repositories.downloadArtifacts"], r.name),
  // No Google API.
  "random:index/randomString:RandomString": () => [],
  "pulumi:providers:gcp": () => [],
};

/** Types whose resources call Cloudflare, not Google: their tokens are Cloudflare's (docs/models-bucket.md). */
export const NOT_GOOGLE = /^cloudflare:/;
