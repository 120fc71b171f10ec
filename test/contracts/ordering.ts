/**
 * Ordering: a resource that names another by string (not through a Pulumi output) must still be created after it,
 * or the API refuses the reference. Each row says how a resource of one type is named by others; a resource whose
 * inputs hold that name must depend on it, directly or through what it depends on.
 */
import type { RecordedResource } from "../../scripts/offline";
import type { SynthesizedStack } from "./exampleStacks";
import { label, type ContractRule } from "./rule";

type Names = (r: RecordedResource) => { exact: string[]; within: string[] };
const out = (r: RecordedResource, key: string) => String(r.plainOutputs[key] ?? "");

interface ReferenceForm {
  readonly type: string;
  /** How others name it: `exact` when a whole input value equals it, `within` when a value contains it. */
  readonly names: Names;
  readonly rule: string;
  readonly source: string;
}

const CHECKED = "2026-11-29";

export const REFERENCE_FORMS: readonly ReferenceForm[] = [
  {
    type: "gcp:logging/metric:Metric",
    names: (r) => ({ exact: [], within: [`logging.googleapis.com/user/${r.plainInputs.name}`] }),
    rule: "An alert policy or chart on a log-based metric is refused until the metric exists (\"Cannot find metric(s)\").",
    source: "https://github.com/hashicorp/terraform-provider-google/issues/11102",
  },
  {
    type: "gcp:monitoring/slo:Slo",
    names: (r) => ({ exact: [], within: [`/serviceLevelObjectives/${r.plainInputs.sloId}"`] }),
    rule: "A burn-rate condition names its SLO by string (select_slo_burn_rate); the SLO must exist when the policy is created.",
    source: "https://cloud.google.com/stackdriver/docs/solutions/slo-monitoring/alerting-on-budget-burn-rate",
  },
  {
    type: "gcp:monitoring/customService:CustomService",
    names: (r) => ({ exact: [String(r.plainInputs.serviceId)], within: [`/services/${r.plainInputs.serviceId}/`] }),
    rule: "An SLO is created under its Monitoring service, and a burn-rate condition names that service: the service first.",
    source: "https://cloud.google.com/monitoring/api/ref_v3/rest/v3/services.serviceLevelObjectives/create",
  },
  {
    type: "gcp:secretmanager/secretVersion:SecretVersion",
    names: (r) => ({ exact: [], within: [`${r.plainInputs.secret}/versions/`] }),
    rule: "A build's availableSecrets versionName must resolve to an existing secret version when the build starts.",
    source: "https://cloud.google.com/build/docs/securing-builds/use-secrets",
  },
  {
    type: "gcp:pubsub/topic:Topic",
    names: (r) => ({ exact: [out(r, "id")], within: [] }),
    rule: "A budget's or an event trigger's Pub/Sub topic must exist when they are created.",
    source: "https://cloud.google.com/billing/docs/how-to/budgets-programmatic-notifications",
  },
  {
    type: "gcp:serviceaccount/account:Account",
    names: (r) => ({ exact: [out(r, "email"), `serviceAccount:${out(r, "email")}`], within: [`serviceAccounts/${out(r, "email")}`] }),
    rule: "IAM bindings, services, jobs, functions and builds that name a service account are refused until it exists.",
    source: "https://cloud.google.com/iam/docs/service-accounts-create",
  },
  {
    type: "gcp:storage/bucket:Bucket",
    names: (r) => ({ exact: [String(r.plainInputs.name)], within: [`gs://${r.plainInputs.name}/`] }),
    rule: "Objects, bucket bindings, function sources and build staging in a bucket need the bucket.",
    source: "https://cloud.google.com/storage/docs/json_api/v1/objects/insert",
  },
  {
    type: "gcp:projects/iAMCustomRole:IAMCustomRole",
    names: (r) => ({ exact: [out(r, "name")], within: [] }),
    rule: "A binding to a custom role is refused until the role exists.",
    source: "https://cloud.google.com/iam/docs/creating-custom-roles",
  },
  {
    type: "gcp:cloudrunv2/service:Service",
    names: (r) => ({ exact: [], within: [out(r, "uri"), `/services/${r.plainInputs.name}?`].filter((n) => n !== "" && n !== "/services/undefined?") }),
    rule: "Scheduler jobs that call the service's URL or PATCH it by name need the service.",
    source: "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/patch",
  },
  {
    type: "gcp:artifactregistry/repository:Repository",
    names: (r) => ({ exact: [], within: [`${r.plainInputs.location}-docker.pkg.dev/${r.plainInputs.project}/${r.plainInputs.repositoryId}/`] }),
    rule: "A push to an Artifact Registry repository fails until the repository exists (no create-on-push without the role).",
    source: "https://cloud.google.com/artifact-registry/docs/docker/pushing-and-pulling",
  },
];

function stringLeaves(value: unknown, into: string[] = []): string[] {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) value.forEach((v) => stringLeaves(v, into));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => stringLeaves(v, into));
  return into;
}

/** Whether `from` waits for `to`: a dependency, a dependency's dependency, or a component that holds `to`. */
export function waitsFor(stack: SynthesizedStack, from: RecordedResource, to: string): boolean {
  const seen = new Set<string>();
  const queue = [...from.dependencies];
  while (queue.length > 0) {
    const urn = queue.pop()!;
    if (urn === to) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    queue.push(...(stack.byUrn(urn)?.dependencies ?? []));
  }
  return false;
}

/** Every (referrer, referenced) pair of the form in the stack. */
function references(stack: SynthesizedStack, form: ReferenceForm): [RecordedResource, RecordedResource][] {
  const pairs: [RecordedResource, RecordedResource][] = [];
  for (const target of stack.ofType(form.type)) {
    const { exact, within } = form.names(target);
    for (const r of stack.resources) {
      if (r.urn === target.urn || !r.custom) continue;
      if (stringLeaves(r.plainInputs).some((v) => exact.includes(v) || within.some((w) => v.includes(w)))) pairs.push([r, target]);
    }
  }
  return pairs;
}

export const ORDERING_RULES: readonly ContractRule[] = REFERENCE_FORMS.map((form) => ({
  id: `ordering/${form.type.split(":").pop()!.replace(/^iAM/, "iam").replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()}`,
  rule: form.rule,
  source: form.source,
  checked: CHECKED,
  violations: (stack) =>
    references(stack, form)
      .filter(([r, target]) => !waitsFor(stack, r, target.urn))
      .map(([r, target]) => `${label(r)} names ${label(target)} but does not depend on it`),
  exercised: (stack) => references(stack, form).length,
}));
