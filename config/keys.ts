/**
 * The stack's config keys, in one table: each key's type, bounds, description and default (KEYS). Pulumi.yaml's
 * `config:` block and docs/configuration.md are generated from it (`npm run gen:config`); parse.ts reads a stack's
 * values with it.
 */
import { originProblem } from "../container/warmupOrigins";
import { parsePriceOverrides } from "../components/budget/costModel";
import { reservedHeaderRole } from "../components/models/modelsGate";
import { timeZoneProblem, TZDATA_VERSION } from "../components/schedule/timeZones";
import { R2_JURISDICTIONS } from "../components/models/r2";
import { MODELS_ACCESS } from "../components/models/modelsAccess";
import type { ReferenceImage } from "../components/image/modelImage";
import { COMFYUI_DEFAULTS, parseEnvMap, parseWarmup, pathProblem, secretIdProblem, urlProblem } from "../components/service/modelServer";
import { LATENCY_OBJECTIVES_EXAMPLE, ObjectiveError, parseLatencyObjectives, type LatencyObjective } from "../components/observability/objectives";
import { isValidTimeZone } from "../components/schedule/warmWindows";

/** A value of a key's declared type, as Pulumi.yaml writes its default. */
export type YamlValue = string | number | boolean | string[];

/** Thrown by a key's parser; the message says what was expected. */
export class Invalid extends Error {}

export interface KeySpec<T> {
  /**
   * The type Pulumi.yaml declares, which the CLI holds stack values to; undefined: declared without a type, so a
   * stack may give a string or a list (the CLI checks only explicitly typed keys: IsExplicitlyTyped in pulumi/pulumi
   * sdk/go/common/workspace/project.go, validateStackConfigValues in config.go).
   */
  readonly type: "string" | "integer" | "boolean" | "array" | undefined;
  /** One line for Pulumi.yaml and docs/configuration.md: what the key changes. */
  readonly description: string;
  /** Undefined: the key has no default (it is required, or optional with no value). */
  readonly default?: YamlValue;
  readonly secret?: boolean;
  /** The type docs/configuration.md shows when it says more than `type`, e.g. "string (number)". */
  readonly docType?: string;
  /** The values a number may take, e.g. "1..100", for docs/configuration.md. */
  readonly range?: string;
  /** For secrets: what `pulumi config set --secret` is shown with, e.g. "<hf_...>"; default "<value>". */
  readonly placeholder?: string;
  /** A comment above the key in Pulumi.yaml: why it is declared as it is. */
  readonly yamlNote?: string;
  /**
   * For secrets: whether a stack usually needs it. `npm run synth` stands in for needed ones a stack file cannot hold
   * unencrypted (the example stack), and leaves optional ones unset.
   */
  readonly optional?: boolean;
  /** Parses the raw config string (Pulumi passes every value as a string; arrays as JSON). */
  readonly parse: (raw: string) => T;
}

function integer(min: number, max: number, description: string, def?: number): KeySpec<number> {
  return {
    type: "integer",
    range: `${min}..${max}`,
    description,
    default: def,
    parse: (raw) => {
      const t = raw.trim();
      const n = Number(t);
      if (!/^-?\d+$/.test(t) || n < min || n > max) throw new Invalid(`must be an integer ${min}..${max}`);
      return n;
    },
  };
}

/** A decimal number. Declared as a string in Pulumi.yaml, which has no float type. */
function decimal(min: number, max: number, description: string, def: string): KeySpec<number> {
  return {
    type: "string",
    docType: "string (number)",
    range: `${min}..${max}`,
    description,
    default: def,
    parse: (raw) => {
      const t = raw.trim();
      const n = Number(t);
      if (t === "" || !Number.isFinite(n) || n < min || n > max) throw new Invalid(`must be a number ${min}..${max}`);
      return n;
    },
  };
}

function boolean(description: string, def: boolean): KeySpec<boolean> {
  return {
    type: "boolean",
    description,
    default: def,
    parse: (raw) => {
      const t = raw.trim().toLowerCase();
      if (t !== "true" && t !== "false") throw new Invalid("must be true or false");
      return t === "true";
    },
  };
}

function string(description: string, def: string | undefined, check?: (v: string) => string | undefined): KeySpec<string> {
  return {
    type: "string",
    description,
    default: def,
    parse: (raw) => {
      const v = raw.trim();
      const problem = check?.(v);
      if (problem) throw new Invalid(problem);
      return v;
    },
  };
}

function oneOf<const T extends string>(values: readonly T[], description: string, def: T): KeySpec<T> {
  return string(description, def, (v) => (values.includes(v as T) ? undefined : `must be one of ${values.map((x) => x || '""').join(" | ")}`)) as KeySpec<T>;
}

/** A list: a JSON array of strings (as `pulumi config set --path` and Pulumi.yaml write it) or comma-separated. */
function list(description: string, check: (item: string) => string | undefined): KeySpec<string[]> {
  return {
    type: "array",
    description,
    default: [],
    parse: (raw) => {
      const t = raw.trim();
      let items: unknown[];
      if (t.startsWith("[")) {
        try {
          items = JSON.parse(t) as unknown[];
        } catch {
          throw new Invalid("must be a JSON array of strings or a comma-separated list");
        }
        if (!Array.isArray(items) || items.some((i) => typeof i !== "string")) throw new Invalid("must be a list of strings");
      } else {
        items = t === "" ? [] : t.split(",");
      }
      const values = (items as string[]).map((i) => i.trim()).filter((i) => i !== "");
      for (const item of values) {
        const problem = check(item);
        if (problem) throw new Invalid(`item "${item}" ${problem}`);
      }
      // Each item becomes a resource (a binding, a channel, a threshold): a repeated one would be two of the same.
      const repeated = values.find((item, i) => values.indexOf(item) !== i);
      if (repeated !== undefined) throw new Invalid(`item "${repeated}" appears twice; list each once`);
      return values;
    },
  };
}

/**
 * `warmstart:warmWindows`: one string with windows separated by ";" or a YAML list with one window per item (easier to
 * read and to diff in a stack file). Parsed into windows later, with warmstart:maxInstances at hand.
 */
function windows(description: string): KeySpec<string | readonly string[]> {
  return {
    type: undefined,
    docType: "string or list",
    yamlNote: "No type: a stack may give one string or a list (one window per item); the CLI checks only typed keys.",
    description,
    default: "",
    parse: (raw) => {
      const t = raw.trim();
      if (!t.startsWith("[")) return t;
      let items: unknown;
      try {
        items = JSON.parse(t);
      } catch {
        throw new Invalid('must be a string of windows separated by ";" or a list of windows, e.g. "weekdays 09:00-21:00; sat,sun 12:00-18:00"');
      }
      if (!Array.isArray(items) || items.some((i) => typeof i !== "string")) {
        throw new Invalid('as a list, must hold one window per item, each a string, e.g.\n      warmstart:warmWindows:\n        - "weekdays 09:00-21:00"\n        - "sat,sun 12:00-18:00 x2"');
      }
      return items as string[];
    },
  };
}

/**
 * `warmstart:latencyObjectiveSeconds`: seconds per percentile. Declared without a type so that a stack may write a JSON
 * string or a YAML map (the CLI hands a map to the program as the same JSON).
 */
function latencyObjectives(description: string): KeySpec<LatencyObjective[]> {
  return {
    type: undefined,
    docType: "string (JSON) or map",
    yamlNote: "No type: a stack may give a JSON string or a YAML map of percentile to seconds; the CLI checks only typed keys.",
    description,
    default: LATENCY_OBJECTIVES_EXAMPLE,
    parse: (raw) => {
      try {
        return parseLatencyObjectives(raw);
      } catch (err) {
        if (err instanceof ObjectiveError) throw new Invalid(err.message);
        throw err;
      }
    },
  };
}

/**
 * Every secret here ends up in an HTTP header value: the models key in modelsAccessHeader (through the build's secret
 * file of "Name: value" lines, and the WAF rule compares it), the Hugging Face token as "Authorization: Bearer".
 *
 * Surrounding whitespace is dropped, not refused: HTTP strips it from a field value (RFC 9110 section 5.5,
 * https://www.rfc-editor.org/rfc/rfc9110#section-5.5), so only the trimmed key can ever arrive, and a WAF rule
 * comparing the untrimmed one would never match; what puts it there is a line end pasted or piped in with the key.
 * Anything else that is not printable ASCII is refused: a line break would start another line in the build's secret
 * file (and the fetcher's complaint about that line would print it into Cloud Build's log), other control characters
 * cannot be sent, and a non-ASCII character goes on the wire as Latin-1 bytes while the WAF compares UTF-8.
 */
const SECRET_VALUE_RE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

function secret(description: string, opts: { optional?: boolean; placeholder?: string } = {}): KeySpec<string> {
  return {
    type: "string",
    docType: "string (secret)",
    placeholder: opts.placeholder,
    description,
    secret: true,
    optional: opts.optional,
    parse: (raw) => {
      const v = raw.trim();
      if (v === "") throw new Invalid("must not be empty");
      if (!SECRET_VALUE_RE.test(v)) {
        throw new Invalid("must be printable ASCII (letters, digits, punctuation; spaces only inside), as an HTTP header value must be; e.g. the output of openssl rand -hex 32");
      }
      return v;
    },
  };
}

const HOSTNAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const IMAGE_BY_DIGEST_RE = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/;
/**
 * A reference base image of this repository, built by the stack: `./images/<name>`, or one of the folder's other
 * Dockerfiles, `./images/<name>/Dockerfile.<variant>` (e.g. pyserver's CUDA variant).
 */
const REFERENCE_IMAGE_RE = /^\.\/images\/([a-z0-9][a-z0-9-]*)(?:\/(Dockerfile(?:\.([a-z0-9][a-z0-9-]*))?))?$/;

export function referenceImage(baseImage: string): ReferenceImage | undefined {
  const m = REFERENCE_IMAGE_RE.exec(baseImage);
  if (!m) return undefined;
  const [, name, dockerfile, variant] = m;
  return { folder: `images/${name}`, dockerfile: dockerfile ?? "Dockerfile", imageName: `base-${name}${variant ? `-${variant}` : ""}` };
}
const IMAGE_RE = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;
const IAM_MEMBER_RE = /^(user|serviceAccount|group|domain|principal|principalSet):\S+$/;
const HEADER_NAME_RE = /^[A-Za-z0-9-]+$/;
// https://cloud.google.com/resource-manager/docs/creating-managing-projects: 6-30 lowercase letters, digits or hyphens,
// starting with a letter, not ending with a hyphen.
export const PROJECT_ID_RE = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
// Key ring and key ids: "[a-zA-Z0-9_-]{1,63}" (keyRingId in
// https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings/create, cryptoKeyId in
// https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/create).
const KMS_ID_RE = /^[a-zA-Z0-9_-]{1,63}$/;
// Locations as https://cloud.google.com/kms/docs/locations lists them: global, us, europe, us-central1, nam-eur-asia1.
const KMS_LOCATION_RE = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const KMS_KEY_EXAMPLE = "e.g. projects/acme-prod/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets";

/**
 * The key's name goes into an IAM binding on the key (components/ci/ciAccess.ts): each segment is held to the rule Cloud
 * KMS and Resource Manager hold it to, so a space, quote or line break is refused here rather than by the API mid-deploy.
 */
function kmsKeyProblem(v: string): string | undefined {
  const m = /^projects\/([^/]*)\/locations\/([^/]*)\/keyRings\/([^/]*)\/cryptoKeys\/([^/]*)$/.exec(v);
  if (!m) return `must be projects/P/locations/L/keyRings/R/cryptoKeys/K, as in the stack's gcpkms:// secrets provider; ${KMS_KEY_EXAMPLE}`;
  const [, project, location, ring, key] = m;
  if (!PROJECT_ID_RE.test(project) && !/^\d{1,20}$/.test(project)) return `its project must be a project id (6-30 lowercase letters, digits or hyphens) or number; ${KMS_KEY_EXAMPLE}`;
  if (!KMS_LOCATION_RE.test(location)) return `its location must be a Cloud KMS location such as global, us or us-central1; ${KMS_KEY_EXAMPLE}`;
  if (!KMS_ID_RE.test(ring)) return `its key ring id must be 1-63 letters, digits, _ or - (Cloud KMS's rule); ${KMS_KEY_EXAMPLE}`;
  if (!KMS_ID_RE.test(key)) return `its key id must be 1-63 letters, digits, _ or - (Cloud KMS's rule); ${KMS_KEY_EXAMPLE}`;
  return undefined;
}

/**
 * Every project key: the one table Pulumi.yaml's config block and docs/configuration.md are generated from (`npm run
 * gen:config`), in their order. Provider keys (`gcp:project`, `gcp:region`) are read separately.
 */
export const KEYS = {
  serviceName: string("Cloud Run service name; also prefixes the stack's other resource names.", "warmstart", (v) =>
    /^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/.test(v) ? undefined : "must be 1-49 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen",
  ),
  warmWindows: windows('When the service is kept warm: windows separated by ";" or a list, one window per item, e.g. "weekdays 09:00-21:00; sat,sun 12:00-18:00 x2". Empty: never.'),
  timezone: string("IANA time zone the warm windows are read in, e.g. Europe/London.", "UTC", (v) =>
    timeZoneProblem(v) ?? (isValidTimeZone(v) ? undefined : `is not known to this Node.js's time zone data (IANA ${TZDATA_VERSION} has it): update Node.js`),
  ),
  warmMinInstances: integer(1, 100, "Min instances inside a warm window that names no count (xN).", 1),
  idleMinInstances: integer(0, 100, "Min instances outside every warm window.", 0),
  warmLeadMinutes: integer(0, 240, "Minutes before a window opens at which instances are raised, so they are warm at its start.", 5),
  cpu: integer(4, 8, "vCPUs per instance (4, 6 or 8; Cloud Run needs at least 4 with a GPU).", 8),
  memory: string("Memory per instance, 16Gi..32Gi (Cloud Run: at most 4 GiB per vCPU).", "32Gi"),
  concurrency: integer(1, 1000, "Requests one instance serves at once. 1 keeps one job per GPU (the API's own default is 80).", 1),
  requestTimeoutSeconds: integer(1, 3600, "Longest a request may run, in seconds.", 600),
  maxInstances: integer(1, 100, "Most instances (GPUs) at once; keep it within your L4 quota.", 2),
  maxColdStartSeconds: integer(10, 3600, "How long the startup probe waits for the model to load and warm, 10..480 s.", 300),
  gpuZonalRedundancy: boolean("Reserve GPU capacity in another zone for failover (costs ~56% more per GPU-second).", false),
  invokers: list('IAM members allowed to call the service (user:, group:, serviceAccount:, ...), as a list or comma-separated, each once, e.g. ["serviceAccount:app@p.iam.gserviceaccount.com"].', (m) =>
    m === "allUsers" || m === "allAuthenticatedUsers"
      ? 'is not allowed here; set warmstart:public true to open the service to everyone'
      : IAM_MEMBER_RE.test(m)
        ? undefined
        : "must be an IAM member such as user:a@b.com, group:g@b.com or serviceAccount:x@p.iam.gserviceaccount.com",
  ),
  public: boolean("Let anyone on the internet call the service (grants run.invoker to allUsers).", false),
  warmupOrigins: list("Origins (https://app.example.com, as the browser sends them: no path, no wildcard) whose pages may POST /warmup on load; needs public true (docs/prewarm.md).", originProblem),
  deletionProtection: boolean("Refuse to delete the Cloud Run service (the provider's own default is also true).", true),
  imageBuild: oneOf(["cloudbuild", "local", "none"] as const, "How the image is made: cloudbuild (remote, for big images), local (Docker), none (use warmstart:image).", "cloudbuild"),
  image: string("Image by digest (registry/repo@sha256:...) the service runs: the only image with imageBuild none; with a build, a rollback pin (the build is kept and not re-run).", "", (v) =>
    v === "" || IMAGE_BY_DIGEST_RE.test(v) ? undefined : "must be an image reference by digest, e.g. us-docker.pkg.dev/p/r/img@sha256:<64 hex>",
  ),
  baseImage: string(
    "The model server image the weights are added to: an image reference, or ./images/<name> (or ./images/<name>/Dockerfile.<variant>) to build one of this repository's reference images first (remotely, only when its folder changes).",
    "./images/comfyui",
    (v) =>
      IMAGE_RE.test(v) || REFERENCE_IMAGE_RE.test(v)
        ? undefined
        : "must be an image reference such as docker.io/library/python:3.12 (registry host first), or ./images/<name>, e.g. ./images/comfyui",
  ),
  modelsManifest: string("Path of the models manifest (each file's path, size, sha256 and source), relative to the project root; it must lie inside the root, symbolic links resolved, and an error never quotes a refused file.", "container/models.json"),
  imageRetention: integer(1, 100, "Images kept in Artifact Registry; older ones are cleaned up.", 3),
  // N1_HIGHCPU_8 and N1_HIGHCPU_32 are deprecated (google/devtools/cloudbuild/v1/cloudbuild.proto, MachineType).
  buildMachineType: oneOf(["E2_HIGHCPU_8", "E2_HIGHCPU_32"] as const, "Cloud Build machine type for the image build (E2_HIGHCPU_8 or E2_HIGHCPU_32).", "E2_HIGHCPU_32"),
  buildTimeoutMinutes: integer(10, 1440, "Longest the image build may run, in minutes.", 120),
  modelsDomain: string("Host name the weights are served from (the R2 bucket's custom domain), e.g. models.example.com. Unused with modelsAccess presigned.", "", (v) =>
    v === "" || HOSTNAME_RE.test(v) ? undefined : "must be a host name such as models.example.com (no scheme, no path)",
  ),
  modelsAccessHeader: string("Name of the header that carries the models access key. Not a hop-by-hop, framing, routing or credentials header (Host, Authorization, Cookie, Connection, Content-Length, X-Forwarded-*, ...; RFC 9110), one Cloudflare sets (CF-*), or one the fetcher sends (Range, User-Agent).", "X-Warmstart-Models-Key", (v) => {
    if (!HEADER_NAME_RE.test(v)) return "must be an HTTP header name (letters, digits and hyphens)";
    const role = reservedHeaderRole(v);
    return role
      ? `"${v}" is a header proxies and the WAF treat specially (${role}): the key could be dropped, rewritten or read as something else on the way; use a header of your own, e.g. the default X-Warmstart-Models-Key`
      : undefined;
  }),
  modelsAccessKey: secret("Secret the image build sends in modelsAccessHeader; set with --secret. It goes to Secret Manager and reaches the build as a BuildKit secret, never a build arg or a layer."),
  billingAccount: string("Billing account id (XXXXXX-XXXXXX-XXXXXX). When set, the stack creates the budget, its alerts and the guard.", "", (v) =>
    v === "" || /^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/.test(v) ? undefined : "must be a billing account id like 012345-6789AB-CDEF01 (gcloud billing accounts list)",
  ),
  monthlyBudget: integer(0, 10_000_000, "Monthly budget in the billing account's currency, whole units. Required with billingAccount.", 0),
  alertEmails: list("Up to 5 addresses that get budget alerts, as a list or comma-separated.", (e) =>
    /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(e) ? undefined : "must be an email address",
  ),
  budgetThresholds: {
    ...list('Budget alert thresholds as fractions of the budget; "forecast:" marks forecasted spend.', (t) =>
      /^(forecast:)?\d+(\.\d+)?$/.test(t) && Number(t.replace("forecast:", "")) > 0 && Number(t.replace("forecast:", "")) <= 10
        ? undefined
        : 'must be a fraction of the budget such as 0.9 (or "forecast:1.0"), above 0 and at most 10',
    ),
    default: ["0.5", "0.9", "1.0", "forecast:1.0"],
  },
  budgetGuard: boolean("Deploy the guard that sets min instances to 0 and pauses the warm-window jobs when the budget is spent.", true),
  guardRatio: decimal(0.1, 10, "Spend, as a fraction of the budget, at which the guard acts.", "1.0"),
  guardMaxInstances: integer(
    0,
    100,
    "Max instances the guard caps the service to while it holds it (budget or daily limit): requests beyond what they serve wait (10 s, or 3.5 x the average cold start if longer), then get 429. 0: no cap, traffic still starts instances.",
    1,
  ),
  dailySpendLimit: decimal(
    0,
    1_000_000,
    "Daily spend limit in USD: when the service's billable instance time in the last 24 h, priced at its shape, passes it, the budget guard holds the service until local midnight (docs/operations.md). 0: none; needs billingAccount and budgetGuard.",
    "0",
  ),
  prices: {
    ...string('Price overrides for the cost estimate, e.g. {"l4PerSecond": 0.00019} (keys in components/budget/costModel.ts).', "{}", (v) => {
      try {
        parsePriceOverrides(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    }),
    docType: "string (JSON)",
  },
  offWindowInstanceHoursPerDay: decimal(0, 2400, "Instance-hours a day your traffic keeps instances up outside warm windows (cost estimate only).", "1"),
  // Cloud Logging keeps the _Default bucket 30 days; the planner reads 90 (https://cloud.google.com/logging/docs/
  // routing/overview, "_Default bucket"; a user-defined bucket keeps 1-3650 days, LogBucket.retention_days).
  requestLogRetentionDays: integer(0, 3650, "Days the stack's log bucket keeps the service's request logs, for npm run plan -- --from-cloud-logging (Cloud Logging's _Default bucket keeps 30); 0: no bucket. Priced in the cost estimate.", 120),
  cloudflareAccountId: string("Cloudflare account id; when set, the stack creates the R2 models bucket on modelsDomain.", "", (v) =>
    v === "" || /^[0-9a-f]{32}$/.test(v) ? undefined : "must be a Cloudflare account id (32 hex digits, from the dashboard's URL or Overview)",
  ),
  cloudflareZoneId: string("Zone id of modelsDomain's zone; required with cloudflareAccountId unless modelsAccess is presigned.", "", (v) =>
    v === "" || /^[0-9a-f]{32}$/.test(v) ? undefined : "must be a Cloudflare zone id (32 hex digits)",
  ),
  modelsBucket: string("R2 bucket name; empty: <serviceName>-models.", "", (v) =>
    v === "" || /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(v) ? undefined : "must be 3-63 lowercase letters, digits or hyphens",
  ),
  modelsJurisdiction: oneOf(R2_JURISDICTIONS, "R2 jurisdiction the bucket's data stays in: default, eu, us or fedramp (fixed once the bucket exists; its S3 endpoint becomes https://<account>.<jurisdiction>.r2.cloudflarestorage.com).", "default"),
  modelsLocationHint: oneOf(["", "wnam", "enam", "weur", "eeur", "apac", "oc"] as const, "R2 location hint for a new bucket (wnam, enam, weur, eeur, apac, oc); empty: Cloudflare chooses.", ""),
  modelsAccess: oneOf(
    MODELS_ACCESS,
    "header: a zone WAF rule blocks requests to the models host without modelsAccessHeader; presigned: no public host, the build presigns S3 GETs from a read-only account token the stack makes (needs cloudflareAccountId); public: no gate (synth warns).",
    "header",
  ),
  huggingFaceToken: secret("Hugging Face token the sync during pulumi up sends to Hugging Face for gated or private sources (with syncModelsOnDeploy only); set with --secret.", { optional: true, placeholder: "<hf_...>" }),
  syncModelsOnDeploy: boolean("Run models:sync during pulumi up when the manifest's paths or sources change, with a bucket-scoped write token the stack makes (needs cloudflareAccountId).", false),
  coldStartAlertSeconds: integer(10, 3600, "Alert when a cold start (process start to warm) takes longer than this, in seconds.", 180),
  coldStartsPerDayObjective: integer(0, 1000, "Objective: fewer cold starts (instance starts, window openings included) than this in any 24 h; charted, and an alert fires when 24 h reach it. 0: no objective.", 5),
  latencyObjectiveSeconds: latencyObjectives(
    `Objective: request latency under these seconds at these percentiles, a JSON object (or YAML map), e.g. ${LATENCY_OBJECTIVES_EXAMPLE}; charted, and each an SLO with an alert. {}: none.`,
  ),
  modelServerCommand: string("Shell command that starts the model server in the image (run with /bin/sh -c). Default: ComfyUI.", COMFYUI_DEFAULTS.command, (v) =>
    v === "" ? "must be a command, e.g. python3 /srv/server.py --port 9000" : undefined,
  ),
  modelServerUrl: string("Where the model server listens inside the container, http://127.0.0.1:<port>.", COMFYUI_DEFAULTS.url, urlProblem),
  modelHealthPath: string("Path on the model server that answers 2xx once it is up.", COMFYUI_DEFAULTS.healthPath, pathProblem),
  warmupRequest: string('The request sent once before the instance reports ready: none, file:/path/in/image, or inline JSON {"path","method","headers","body"}.', COMFYUI_DEFAULTS.warmup, (v) => {
    try {
      parseWarmup(v);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }),
  prefetchDirs: {
    ...list("Directories in the image read into the page cache while the model server starts.", (d) => (/^\/[^:\s]*$/.test(d) ? undefined : "must be an absolute path without : or spaces, e.g. /models")),
    default: [...COMFYUI_DEFAULTS.prefetchDirs],
  },
  modelServerEnv: string('Extra environment variables for the model server, a JSON object, e.g. {"HF_HOME":"/models"}. Not for secrets.', "{}", (v) => {
    try {
      parseEnvMap(v, "environment variables");
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }),
  modelServerSecrets: string('Environment variables from Secret Manager (this project, latest version), a JSON object of name to secret id, e.g. {"HF_TOKEN":"hf-token"}.', "{}", (v) => {
    try {
      parseEnvMap(v, "secret ids", secretIdProblem);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }),
  githubRepository: string("GitHub repository (owner/name) allowed to deploy this stack keylessly; creates the CI access resources.", "", (v) =>
    v === "" || /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(v) ? undefined : "must be owner/name, e.g. acme/imagegen-infra",
  ),
  stateBucket: string("Pulumi state bucket name (no gs://) the deploy account may read and write. Required with githubRepository.", "", (v) =>
    v === "" || /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(v) ? undefined : "must be a bucket name such as acme-pulumi-state (no gs://)",
  ),
  secretsKmsKey: string("KMS key of the stack's secrets provider (projects/P/locations/L/keyRings/R/cryptoKeys/K, each id as Cloud KMS allows it: key ring and key 1-63 letters, digits, _ or -); the deploy account may use it.", "", (v) =>
    v === "" ? undefined : kmsKeyProblem(v),
  ),
} satisfies Record<string, KeySpec<unknown>>;

export type KeyName = keyof typeof KEYS;

/** The string form Pulumi hands a program for a Pulumi.yaml value. */
export function yamlValueToConfigString(v: YamlValue): string {
  return Array.isArray(v) ? JSON.stringify(v) : String(v);
}
