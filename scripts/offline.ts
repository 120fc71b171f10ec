/**
 * Runs the Pulumi program offline under `pulumi.runtime.setMocks`: no engine, no credentials, no cloud. Used by
 * `npm run synth` and by the tests (through test/harness.ts). Records every registered resource with its parent
 * and its inputs fully resolved, and the stack outputs.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deployTime, NOW_ENV } from "../components/schedule/clock";
import { levelAt, type ScheduleEdges } from "../components/schedule/warmWindows";

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** URN of the parent; undefined for the stack's top-level resources. */
  readonly parent: string | undefined;
  readonly custom: boolean;
  /** URNs this resource depends on (dependsOn and the resources its inputs came from). */
  readonly dependencies: string[];
  /** URNs the resource was known by before (the aliases option), as the engine resolves them. */
  readonly aliases: string[];
  /** Input paths the engine does not compare with the cloud (the ignoreChanges option). */
  readonly ignoreChanges: string[];
  /** Left in the cloud when removed from the program or the stack is destroyed (the retainOnDelete option). */
  readonly retainOnDelete: boolean;
  /** Inputs with secret values replaced by "[secret]", as `pulumi preview` shows them. */
  readonly inputs: Record<string, unknown>;
  /** Inputs with secrets revealed, for tests that check where a secret goes. */
  readonly plainInputs: Record<string, unknown>;
  /** The id and the output state the mock provider gave it (secrets revealed). */
  readonly id: string | undefined;
  readonly plainOutputs: Record<string, unknown>;
}

export const SECRET_MASK = "[secret]";

/** Walks a deserialized value; `onSecret` decides what a secret becomes. */
function mapSecrets(value: unknown, onSecret: (v: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => mapSecrets(v, onSecret));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return onSecret(mapSecrets(o.value, onSecret));
    if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return value;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, mapSecrets(v, onSecret)]));
  }
  return value;
}

export interface OfflineRunOptions {
  readonly project: string;
  readonly stack: string;
  /** Full keys ("warmstart:cpu", "gcp:region") to raw string values, as the Pulumi engine passes them. */
  readonly config: Record<string, string>;
  readonly secretKeys?: readonly string[];
  /** Pins the deploy clock (`--now`). */
  readonly now?: string;
  /** True (default): behave as `pulumi preview`; false: as `pulumi up`. */
  readonly preview?: boolean;
  /** Called as each resource registers (the run's result is lost when the program throws). */
  readonly onResource?: (r: RecordedResource) => void;
  /** Imports the program; called after the mocks and config are in place. */
  readonly importProgram: () => Promise<Record<string, unknown>>;
  /** Answers for data sources by token, instead of the defaults (e.g. a zone that already has WAF rules). */
  readonly calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
}

export interface OfflineRun {
  readonly resources: RecordedResource[];
  /** Stack outputs, resolved; secret outputs read "[secret]". */
  readonly outputs: Record<string, unknown>;
  /** Lines the program logged with pulumi.log.warn. */
  readonly warnings: string[];
  /** Values the mocks made up (known only after a deploy), each with what it stands for. */
  readonly placeholders: Placeholders;
}

/**
 * Two registrations with one URN. The engine refuses the second ("Duplicate resource URN"), but the mocks accept it,
 * so the runner checks: a program that synthesizes cleanly must not fail at `pulumi up`.
 */
export class DuplicateUrnError extends Error {
  constructor(readonly urn: string, readonly first: RecordedResource, readonly second: RecordedResource) {
    super(`Duplicate resource URN '${urn}': the engine refuses a second resource with it; give each a unique name\n${describePair(first, second)}`);
    this.name = "DuplicateUrnError";
  }
}

/** Each resource by type, name and parent, with the inputs that tell the two apart (secrets stay masked). */
function describePair(a: RecordedResource, b: RecordedResource): string {
  const keys = [...new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])].filter((k) => JSON.stringify(a.inputs[k]) !== JSON.stringify(b.inputs[k]));
  const show = (v: unknown) => {
    const s = JSON.stringify(v) ?? "undefined";
    return s.length > 100 ? `${s.slice(0, 97)}...` : s;
  };
  const line = (label: string, r: RecordedResource) =>
    `  ${label} ${r.type} "${r.name}", parent ${r.parent ?? "(the stack)"}${keys.map((k) => `, ${k}: ${show(r.inputs[k])}`).join("")}`;
  return `${line("first: ", a)}\n${line("second:", b)}`;
}

/**
 * The URNs a registration's aliases stand for. An alias spec leaves out what did not change: the name, type, parent,
 * stack or project default to the resource's own (https://www.pulumi.com/docs/iac/concepts/options/aliases/).
 */
function aliasUrns(req: any, urn: string): string[] {
  const [stackPart, project, qualifiedType, name] = urn.split("::");
  const ownType = qualifiedType.split("$").pop()!;
  return (req.getAliasesList() as any[]).map((alias) => {
    if (alias.getUrn()) return alias.getUrn() as string;
    const spec = alias.getSpec();
    const parent: string = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
    const parentType = parent ? parent.split("::")[2] : "";
    const type = spec.getType() || ownType;
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    const stack = spec.getStack() ? `urn:pulumi:${spec.getStack()}` : stackPart;
    return [stack, spec.getProject() || project, qualified, spec.getName() || name].join("::");
  });
}

const fakeHex = (seed: string, n: number) => crypto.createHash("sha256").update(seed).digest("hex").slice(0, n);

/**
 * Values the mocks make up that the cloud decides at deploy time (a project number, a digest, an id): the report shows
 * each as a labelled placeholder instead of a value that looks real.
 */
export type Placeholders = Map<string, string>;

/** Output properties a real provider would compute, so downstream values look like the real thing. */
function computedState(args: pulumi.runtime.MockResourceArgs, project: string, mark: (value: string, label: string) => string): Record<string, unknown> {
  const i = args.inputs as Record<string, any>;
  const projectNumber = (id: string) => mark(String(parseInt(fakeHex(id, 8), 16)), "project number");
  switch (args.type) {
    case "gcp:serviceaccount/account:Account": {
      const email = `${i.accountId}@${i.project ?? project}.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}`, name: `projects/${i.project ?? project}/serviceAccounts/${email}`, uniqueId: mark(fakeHex(email, 21), "unique id") };
    }
    case "gcp:cloudrunv2/service:Service":
      // Cloud Run's deterministic URL: https://SERVICE-PROJECT_NUMBER.REGION.run.app
      // (https://cloud.google.com/run/docs/triggering/https-request#deterministic).
      return { uri: `https://${i.name}-${projectNumber(i.project ?? project)}.${i.location}.run.app`, name: i.name };
    case "gcp:artifactregistry/repository:Repository":
      return { name: i.repositoryId, id: `projects/${i.project}/locations/${i.location}/repositories/${i.repositoryId}` };
    case "gcp:secretmanager/secret:Secret":
      return { id: `projects/${i.project ?? project}/secrets/${i.secretId}`, name: `projects/${i.project ?? project}/secrets/${i.secretId}` };
    case "gcp:projects/iAMCustomRole:IAMCustomRole":
      return { name: `projects/${i.project ?? project}/roles/${i.roleId}` };
    case "gcp:pubsub/topic:Topic":
      return { id: `projects/${i.project ?? project}/topics/${i.name}` };
    case "gcp:monitoring/notificationChannel:NotificationChannel":
      return { id: `projects/${i.project ?? project}/notificationChannels/${mark(String(parseInt(fakeHex(JSON.stringify(i.labels), 8), 16)), "channel id")}` };
    case "gcp:cloudfunctionsv2/function:Function":
      return { name: i.name, url: `https://${i.location}-${i.project}.cloudfunctions.net/${i.name}` };
    case "random:index/randomString:RandomString":
      return { result: mark(fakeHex(args.name, i.length ?? 8), "random") };
    case "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
      return { name: `projects/${projectNumber(i.project ?? project)}/locations/global/workloadIdentityPools/${i.workloadIdentityPoolId}` };
    case "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
      return {
        name: `projects/${projectNumber(i.project ?? project)}/locations/global/workloadIdentityPools/${i.workloadIdentityPoolId}/providers/${i.workloadIdentityPoolProviderId}`,
      };
    case "command:local:Command": {
      // The reconcile step prints what it set; offline there is no guard state, so the schedule's level at --now.
      if (String(i.create).includes("npm run --silent reconcile")) {
        const minInstances = levelAt(JSON.parse(i.environment.RECONCILE_SCHEDULE) as ScheduleEdges, deployTime());
        return { stdout: JSON.stringify({ guard: i.environment.RECONCILE_GUARD_STATE ? "clear" : "absent", minInstances }), stderr: "" };
      }
      // models:sync --print-manifest prints the manifest with every source's size and sha256 filled in.
      const sync = /models:sync -- --manifest '([^']+)' --print-manifest/.exec(String(i.create));
      if (sync) return { stdout: syncedManifestOf(sync[1], mark), stderr: "" };
      // The image build prints the pushed digest.
      return { stdout: `sha256:${mark(fakeHex(JSON.stringify(i.triggers ?? i.create), 64), "digest")}`, stderr: "" };
    }
    case "docker-build:index:Image":
      return { digest: `sha256:${mark(fakeHex(JSON.stringify(i.tags), 64), "digest")}` };
    case "cloudflare:index/accountToken:AccountToken":
      // Cloudflare returns the token's value once, at creation.
      return { id: mark(fakeHex(`token:${i.name}`, 32), "token id"), value: mark(`cf-token-value-${fakeHex(i.name, 24)}`, "token value"), status: "active" };
    default:
      return {};
  }
}

/** What a models sync would leave in the manifest: sizes and sha256 made up for the entries it uploads. */
function syncedManifestOf(manifestPath: string, mark: (value: string, label: string) => string): string {
  const doc = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { files: { path: string; size?: number; sha256?: string; source?: string }[] };
  const files = doc.files.map((f) => (f.source ? { ...f, size: f.size ?? 1024 ** 3, sha256: f.sha256 ?? mark(fakeHex(`sha:${f.path}:${f.source}`, 64), "sha256 after the sync") } : f));
  return JSON.stringify({ files });
}

/** Account permission groups the offline Cloudflare answers for (names as the dashboard lists them). */
const CLOUDFLARE_PERMISSION_GROUPS = ["Workers R2 Storage Bucket Item Read", "Workers R2 Storage Bucket Item Write", "Workers R2 Storage Read", "Workers R2 Storage Write"];

function resolveCall(args: pulumi.runtime.MockCallArgs, project: string, mark: (value: string, label: string) => string): Record<string, unknown> {
  if (args.token === "gcp:organizations/getProject:getProject") {
    const id = (args.inputs as { projectId?: string }).projectId ?? project;
    return { projectId: id, number: mark(String(parseInt(fakeHex(id, 8), 16)), "project number"), name: id };
  }
  if (args.token === "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList") {
    // As the provider does: it URL-encodes the name into the query, and the API matches it against the groups' names,
    // so a name that is already encoded (or misspelt) finds nothing.
    const name = (args.inputs as { name?: string }).name ?? "";
    const found = CLOUDFLARE_PERMISSION_GROUPS.filter((g) => g === name);
    return { ...args.inputs, results: found.map((g) => ({ id: fakeHex(`group:${g}`, 32), name: g, category: "developer_platform", isSelectable: true })) };
  }
  return args.inputs as Record<string, unknown>;
}

/** Resolves an exported value: Outputs awaited, secrets masked, nested arrays and objects walked. */
async function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    if (await pulumi.isSecret(value as pulumi.Output<unknown>)) return SECRET_MASK;
    return resolveOutput(await new Promise((resolve) => (value as pulumi.Output<unknown>).apply(resolve)));
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutput));
  if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveOutput(v)])));
  }
  return value;
}

/** Runs the program and returns what it registered. Throws what the program throws (e.g. a ConfigError). */
export async function runOffline(opts: OfflineRunOptions): Promise<OfflineRun> {
  const gcpProject = opts.config["gcp:project"] ?? "mock-project";
  const resources: RecordedResource[] = [];
  const placeholders: Placeholders = new Map();
  const mark = (value: string, label: string) => (placeholders.set(value, label), value);
  const byUrn = new Map<string, RecordedResource>();
  let duplicate: DuplicateUrnError | undefined;
  const pending = new Set<Promise<void>>();
  // As the Node language host does, an error thrown inside an apply (an unhandled rejection) fails the run; so does a
  // registration the engine would refuse.
  let failRun: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (failRun = reject));
  failed.catch(() => undefined);

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const state = { ...args.inputs, ...computedState(args, gcpProject, mark) };
        return { id: (state.id as string | undefined) ?? `${args.name}-id`, state };
      },
      call: (args) => opts.calls?.[args.token]?.(args.inputs as Record<string, unknown>) ?? resolveCall(args, gcpProject, mark),
    },
    opts.project,
    opts.stack,
    opts.preview ?? true,
  );
  // MockResourceArgs carries no parent; the register request does, so record from there.
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
    const done = new Promise<void>((resolve) => {
      void register(req, (err: any, resp: any) => {
        if (!err) {
          const raw = Object.fromEntries(
            Object.entries(req.getObject().toJavaScript() as Record<string, unknown>).map(([k, v]) => [k, pulumi.runtime.deserializeProperty(v)]),
          );
          const record: RecordedResource = {
            urn: resp.getUrn(),
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent() || undefined,
            custom: req.getCustom(),
            dependencies: req.getDependenciesList(),
            aliases: aliasUrns(req, resp.getUrn()),
            ignoreChanges: req.getIgnorechangesList(),
            retainOnDelete: req.getRetainondelete() ?? false,
            inputs: mapSecrets(raw, () => SECRET_MASK) as Record<string, unknown>,
            plainInputs: mapSecrets(raw, (v) => v) as Record<string, unknown>,
            id: resp.getId() || undefined,
            plainOutputs: mapSecrets(
              Object.fromEntries(
                Object.entries((resp.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>).map(([k, v]) => [k, pulumi.runtime.deserializeProperty(v)]),
              ),
              (v) => v,
            ) as Record<string, unknown>,
          };
          const earlier = byUrn.get(record.urn);
          if (earlier && !duplicate) {
            duplicate = new DuplicateUrnError(record.urn, earlier, record);
            failRun(duplicate);
          }
          byUrn.set(record.urn, earlier ?? record);
          resources.push(record);
          opts.onResource?.(record);
        }
        callback(err, resp);
        resolve();
      });
    });
    pending.add(done);
    return done;
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req: any, callback: (err: any, resp: any) => void) => {
    pending.add(new Promise<void>((resolve) => registerOutputs(req, (err: any, resp: any) => (callback(err, resp), resolve()))));
  };
  // Registrations chain on each other's outputs: wait until no new one appears, also when the program threw, so that
  // nothing from this run reaches the monitor of the next one.
  const settle = async () => {
    for (let seen = -1; seen !== pending.size; ) {
      seen = pending.size;
      await Promise.all(pending);
      await new Promise((r) => setImmediate(r));
    }
  };

  pulumi.runtime.setAllConfig({ ...opts.config }, [...(opts.secretKeys ?? [])]);
  const warnings: string[] = [];
  const warn = console.warn;
  const previousNow = process.env[NOW_ENV];
  if (opts.now !== undefined) process.env[NOW_ENV] = opts.now;
  else delete process.env[NOW_ENV];
  console.warn = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    if (line.startsWith("warning: [runtime] ")) warnings.push(line.slice("warning: [runtime] ".length));
    else warn(...args);
  };
  const onUnhandled = (reason: unknown) => failRun(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const exports = await Promise.race([opts.importProgram(), failed]);
    const resolved = (await Promise.race([resolveOutput({ ...exports }), failed])) as Record<string, unknown>;
    // As with the engine, an export whose value is undefined is no stack output.
    const outputs = Object.fromEntries(Object.entries(resolved).filter(([, v]) => v !== undefined));
    await settle();
    // A duplicate registered after the outputs resolved.
    if (duplicate) throw duplicate;
    return { resources, outputs, warnings, placeholders };
  } catch (err) {
    // Registrations stuck on a failed value never reach the monitor; the others finish before the next run starts.
    await settle();
    throw err;
  } finally {
    process.off("unhandledRejection", onUnhandled);
    console.warn = warn;
    if (previousNow === undefined) delete process.env[NOW_ENV];
    else process.env[NOW_ENV] = previousNow;
  }
}
