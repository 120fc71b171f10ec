/**
 * APIs: which Google APIs each resource type (and each command `pulumi up` runs) calls, so that the list of APIs to enable
 * in docs/operations.md ("First deploy") is exactly what the stack uses. A type without a row fails: a new resource must say what it calls.
 *
 * Sources (read 2026-11-29): the API host in each product of hashicorp/terraform-provider-google v7.45.0
 * (google/services/<product>/product.go); project IAM bindings and getProject call cloudresourcemanager v1
 * (resourcemanager/iam_project.go, resource_google_project.go); a function build uses Cloud Build, Artifact Registry,
 * Run, Eventarc, Pub/Sub and Logging (https://docs.cloud.google.com/run/docs/triggering/pubsub-triggers); keyless CI
 * exchanges tokens through STS and IAM Credentials
 * (https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RecordedResource } from "../../scripts/offline";
import type { SynthesizedStack } from "./exampleStacks";
import type { ContractRule } from "./rule";

const api = (name: string) => `${name}.googleapis.com`;

export const APIS_BY_TYPE: Readonly<Record<string, (r: RecordedResource) => string[]>> = {
  "gcp:serviceaccount/account:Account": () => [api("iam")],
  "gcp:serviceaccount/iAMMember:IAMMember": () => [api("iam")],
  "gcp:projects/iAMMember:IAMMember": () => [api("cloudresourcemanager")],
  "gcp:projects/iAMCustomRole:IAMCustomRole": () => [api("iam")],
  "gcp:artifactregistry/repository:Repository": () => [api("artifactregistry")],
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": () => [api("artifactregistry")],
  "gcp:secretmanager/secret:Secret": () => [api("secretmanager")],
  "gcp:secretmanager/secretVersion:SecretVersion": () => [api("secretmanager")],
  "gcp:secretmanager/secretIamMember:SecretIamMember": () => [api("secretmanager")],
  "gcp:storage/bucket:Bucket": () => [api("storage")],
  "gcp:storage/bucketObject:BucketObject": () => [api("storage")],
  "gcp:storage/bucketIAMMember:BucketIAMMember": () => [api("storage")],
  "gcp:cloudrunv2/service:Service": () => [api("run")],
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": () => [api("run")],
  "gcp:cloudscheduler/job:Job": () => [api("cloudscheduler")],
  "gcp:pubsub/topic:Topic": () => [api("pubsub")],
  "gcp:pubsub/topicIAMMember:TopicIAMMember": () => [api("pubsub")],
  // The budget reads the project's number through getProject (cloudresourcemanager).
  "gcp:billing/budget:Budget": () => [api("billingbudgets"), api("cloudresourcemanager")],
  "gcp:monitoring/notificationChannel:NotificationChannel": () => [api("monitoring")],
  "gcp:monitoring/dashboard:Dashboard": () => [api("monitoring")],
  "gcp:monitoring/alertPolicy:AlertPolicy": () => [api("monitoring")],
  "gcp:monitoring/customService:CustomService": () => [api("monitoring")],
  "gcp:monitoring/slo:Slo": () => [api("monitoring")],
  "gcp:logging/metric:Metric": () => [api("logging")],
  "gcp:logging/projectBucketConfig:ProjectBucketConfig": () => [api("logging")],
  "gcp:logging/projectSink:ProjectSink": () => [api("logging")],
  "gcp:cloudfunctionsv2/function:Function": () => ["cloudfunctions", "cloudbuild", "artifactregistry", "run", "eventarc", "pubsub", "logging", "storage"].map(api),
  "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": () => [api("iam")],
  // What the workflows use with it: the token exchange and the impersonation.
  "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": () => [api("iam"), api("sts"), api("iamcredentials")],
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": () => [api("cloudkms")],
  "gcp:billing/accountIamMember:AccountIamMember": () => [api("cloudbilling")],
  "docker-build:index:Image": () => [api("artifactregistry")],
  "command:local:Command": (r) => {
    const create = String(r.plainInputs.create);
    // gcloud builds submit / log / describe; the build pushes, reads its secret and logs.
    if (create.includes("submit-build.sh")) return ["cloudbuild", "storage", "logging", "artifactregistry", "secretmanager", "iam"].map(api);
    if (create.includes("reconcile")) return ["run", "cloudscheduler", "storage"].map(api);
    if (create.includes("wait-log-metrics")) return [api("monitoring")];
    if (create.includes("build:container") || create.includes("models:sync")) return [];
    throw new Error(`no API row for the command "${create}"`);
  },
  "random:index/randomString:RandomString": () => [],
  "pulumi:providers:gcp": () => [],
};

export function apisOf(stack: SynthesizedStack): Set<string> {
  const apis = new Set<string>();
  for (const r of stack.resources) {
    if (!r.custom || r.type.startsWith("cloudflare:")) continue;
    const row = APIS_BY_TYPE[r.type];
    if (!row) throw new Error(`no API row for ${r.type} in test/contracts/apis.ts`);
    row(r).forEach((a) => apis.add(a));
  }
  return apis;
}

/** The APIs docs/operations.md's first deploy tells people to enable (every *.googleapis.com in that step). */
export function apisToEnable(operations: string): Set<string> {
  const item = /\*\*The APIs\*\* the stack uses[\s\S]*?\n\d+\. \*\*L4 quota\*\*/.exec(operations)?.[0] ?? "";
  return new Set(item.match(/[a-z0-9]+\.googleapis\.com/g) ?? []);
}

export const API_RULES: readonly ContractRule[] = [
  {
    id: "apis/enable",
    rule: "The list of APIs to enable (docs/operations.md) holds every API an example stack calls, and nothing else across them all.",
    source: "terraform-provider-google v7.45.0 product.go per service (test/contracts/apis.ts)",
    checked: "2026-11-29",
    violations: (stack) => {
      const listed = apisToEnable(fs.readFileSync(path.resolve(__dirname, "../../docs/operations.md"), "utf8"));
      return [...apisOf(stack)].filter((a) => !listed.has(a)).map((a) => `stack ${stack.stack} calls ${a}, which docs/operations.md does not say to enable`);
    },
    exercised: (stack) => apisOf(stack).size,
  },
];
