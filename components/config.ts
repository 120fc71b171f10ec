/**
 * The stack's configuration: every key is read here, once, typed, with its default. Everything downstream takes
 * the typed {@link StackConfig}, never `pulumi.Config`.
 *
 * Pulumi.yaml declares the same keys and defaults for the CLI, except the secret ones (a declared key without a
 * default is required by the CLI in every stack); `test/config.test.ts` proves the two agree.
 * Defaults must live here too because `pulumi.runtime.setMocks` (tests, `npm run synth`) does not apply Pulumi.yaml.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ManifestError, manifestBytes, parseManifest, type Manifest } from "../container/manifest";
import { originProblem } from "../container/warmupOrigins";
import { DEFAULT_PRICES, instanceHourlyCost, parsePriceOverrides, type Prices } from "./costModel";
import { findL4Region, L4_REGIONS, weightsFit } from "./l4";
import { reservedHeaderRole } from "./modelsGate";
import { closestName } from "./closestName";
import { timeZoneProblem, TZDATA_VERSION } from "./timeZones";
import { R2_JURISDICTIONS, r2S3Endpoint, type R2Jurisdiction } from "./r2";
import { exampleValueWarnings } from "./exampleValues";
import { COMFYUI_DEFAULTS, parseEnvMap, parseWarmup, pathProblem, secretIdProblem, urlProblem, type ModelServerConfig } from "./modelServer";
import { coldStartObjectiveWarning, LATENCY_OBJECTIVES_EXAMPLE, ObjectiveError, parseLatencyObjectives, scheduledStartsPer24h, type LatencyObjective, type Objectives } from "./objectives";
import { MAX_COLD_START_SECONDS, PROBE_CAP_SECONDS } from "./startupProbe";
import { buildWarmSchedule, isValidTimeZone, maxInstanceHoursIn24h, parseWarmWindows, WarmWindowsError, type WarmSchedule, type WarmWindow } from "./warmWindows";

/** A value of a key's declared type, as Pulumi.yaml writes its default. */
export type YamlValue = string | number | boolean | string[];

/** Thrown by a key's parser; the message says what was expected. */
class Invalid extends Error {}

interface KeySpec<T> {
  /**
   * The type Pulumi.yaml declares, which the CLI holds stack values to; undefined: declared without a type, so a
   * stack may give a string or a list (the CLI checks only explicitly typed keys: IsExplicitlyTyped in pulumi/pulumi
   * sdk/go/common/workspace/project.go, validateStackConfigValues in config.go).
   */
  readonly type: "string" | "integer" | "boolean" | "array" | undefined;
  /** One line for Pulumi.yaml and the README: what the key changes. */
  readonly description: string;
  /** Undefined: the key has no default (it is required, or optional with no value). */
  readonly default?: YamlValue;
  readonly secret?: boolean;
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

function secret(description: string, opts: { optional?: boolean } = {}): KeySpec<string> {
  return {
    type: "string",
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

/** A reference image to build: its folder (the build context), the Dockerfile in it, and the image's name. */
export interface ReferenceImage {
  /** Relative to the project root, e.g. `images/pyserver`. */
  readonly folder: string;
  /** File name inside the folder, e.g. `Dockerfile.cuda`. */
  readonly dockerfile: string;
  /** The image's name in the stack's repository, e.g. `base-pyserver-cuda`. */
  readonly imageName: string;
}

export function referenceImage(baseImage: string): ReferenceImage | undefined {
  const m = REFERENCE_IMAGE_RE.exec(baseImage);
  if (!m) return undefined;
  const [, name, dockerfile, variant] = m;
  return { folder: `images/${name}`, dockerfile: dockerfile ?? "Dockerfile", imageName: `base-${name}${variant ? `-${variant}` : ""}` };
}
const IMAGE_RE = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;
const IAM_MEMBER_RE = /^(user|serviceAccount|group|domain|principal|principalSet):\S+$/;
const HEADER_NAME_RE = /^[A-Za-z0-9-]+$/;
const MODELS_ACCESS = ["header", "presigned", "public"] as const;
// https://cloud.google.com/resource-manager/docs/creating-managing-projects: 6-30 lowercase letters, digits or hyphens,
// starting with a letter, not ending with a hyphen.
const PROJECT_ID_RE = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
// Key ring and key ids: "[a-zA-Z0-9_-]{1,63}" (keyRingId in
// https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings/create, cryptoKeyId in
// https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/create).
const KMS_ID_RE = /^[a-zA-Z0-9_-]{1,63}$/;
// Locations as https://cloud.google.com/kms/docs/locations lists them: global, us, europe, us-central1, nam-eur-asia1.
const KMS_LOCATION_RE = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const KMS_KEY_EXAMPLE = "e.g. projects/acme-prod/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets";

/**
 * The key's name goes into an IAM binding on the key (components/ciAccess.ts): each segment is held to the rule Cloud
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

/** How the image build is allowed to read the weights (`warmstart:modelsAccess`). */
export type ModelsAccess = (typeof MODELS_ACCESS)[number];

/**
 * Every project key, in the order of Pulumi.yaml and the README's table. Provider keys (`gcp:project`,
 * `gcp:region`) are read separately below.
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
  invokers: list("IAM members allowed to call the service, e.g. [\"serviceAccount:app@p.iam.gserviceaccount.com\"].", (m) =>
    m === "allUsers" || m === "allAuthenticatedUsers"
      ? 'is not allowed here; set warmstart:public true to open the service to everyone'
      : IAM_MEMBER_RE.test(m)
        ? undefined
        : "must be an IAM member such as user:a@b.com, group:g@b.com or serviceAccount:x@p.iam.gserviceaccount.com",
  ),
  public: boolean("Let anyone on the internet call the service (grants run.invoker to allUsers).", false),
  warmupOrigins: list("Origins whose pages may POST /warmup from a browser on page load, e.g. [\"https://app.example.com\"]; needs public true (docs/prewarm.md).", originProblem),
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
  modelsManifest: string("Path of the models manifest, relative to the project root; it must lie inside the root (symbolic links resolved).", "container/models.json"),
  imageRetention: integer(1, 100, "Images kept in Artifact Registry; older ones are cleaned up.", 3),
  // N1_HIGHCPU_8 and N1_HIGHCPU_32 are deprecated (google/devtools/cloudbuild/v1/cloudbuild.proto, MachineType).
  buildMachineType: oneOf(["E2_HIGHCPU_8", "E2_HIGHCPU_32"] as const, "Cloud Build machine type for the image build (E2_HIGHCPU_8 or E2_HIGHCPU_32).", "E2_HIGHCPU_32"),
  buildTimeoutMinutes: integer(10, 1440, "Longest the image build may run, in minutes.", 120),
  modelsDomain: string("Host name the weights are served from (the R2 bucket's custom domain), e.g. models.example.com. Unused with modelsAccess presigned.", "", (v) =>
    v === "" || HOSTNAME_RE.test(v) ? undefined : "must be a host name such as models.example.com (no scheme, no path)",
  ),
  modelsAccessHeader: string("Name of the header that carries the models access key; not one that proxies or the WAF treat specially (Host, Authorization, Cookie, ...).", "X-Warmstart-Models-Key", (v) => {
    if (!HEADER_NAME_RE.test(v)) return "must be an HTTP header name (letters, digits and hyphens)";
    const role = reservedHeaderRole(v);
    return role
      ? `"${v}" is a header proxies and the WAF treat specially (${role}): the key could be dropped, rewritten or read as something else on the way; use a header of your own, e.g. the default X-Warmstart-Models-Key`
      : undefined;
  }),
  modelsAccessKey: secret("Secret the image build sends in modelsAccessHeader to read the weights (modelsAccess header). Set with --secret."),
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
  budgetGuard: boolean("Stop the spend when the budget is gone: min instances to 0 and the warm-window jobs paused.", true),
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
    "Daily spend limit in USD: when the service's billable instance time in the last 24 h, priced at its shape, passes it, the budget guard holds the service until local midnight. 0: none; needs billingAccount and budgetGuard.",
    "0",
  ),
  prices: string('Price overrides for the cost estimate, a JSON object, e.g. {"l4PerSecond": 0.00019}.', "{}", (v) => {
    try {
      parsePriceOverrides(v);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }),
  offWindowInstanceHoursPerDay: decimal(0, 2400, "Instance-hours a day your traffic keeps instances up outside warm windows (cost estimate only).", "1"),
  // Cloud Logging keeps the _Default bucket 30 days; the planner reads 90 (https://cloud.google.com/logging/docs/
  // routing/overview, "_Default bucket"; a user-defined bucket keeps 1-3650 days, LogBucket.retention_days).
  requestLogRetentionDays: integer(0, 3650, "Days the stack's request-log bucket keeps the service's request logs for the planner (npm run plan -- --from-cloud-logging); 0: no bucket.", 120),
  cloudflareAccountId: string("Cloudflare account id; when set, the stack creates the R2 models bucket on modelsDomain.", "", (v) =>
    v === "" || /^[0-9a-f]{32}$/.test(v) ? undefined : "must be a Cloudflare account id (32 hex digits, from the dashboard's URL or Overview)",
  ),
  cloudflareZoneId: string("Cloudflare zone id of modelsDomain's zone. Required with cloudflareAccountId.", "", (v) =>
    v === "" || /^[0-9a-f]{32}$/.test(v) ? undefined : "must be a Cloudflare zone id (32 hex digits)",
  ),
  modelsBucket: string("R2 bucket name; empty: <serviceName>-models.", "", (v) =>
    v === "" || /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(v) ? undefined : "must be 3-63 lowercase letters, digits or hyphens",
  ),
  modelsJurisdiction: oneOf(R2_JURISDICTIONS, "R2 jurisdiction the bucket's data stays in: default, eu, us or fedramp. Fixed once the bucket exists.", "default"),
  modelsLocationHint: oneOf(["", "wnam", "enam", "weur", "eeur", "apac", "oc"] as const, "R2 location hint for a new bucket (wnam, enam, weur, eeur, apac, oc); empty: Cloudflare chooses.", ""),
  modelsAccess: oneOf(
    MODELS_ACCESS,
    "How the build reads the weights: header (modelsDomain behind a zone WAF rule that wants modelsAccessHeader), presigned (no public host: presigned S3 GETs from a read token the stack makes; needs cloudflareAccountId) or public.",
    "header",
  ),
  huggingFaceToken: secret("Hugging Face token the sync during pulumi up uses for gated or private sources (syncModelsOnDeploy). Set with --secret.", { optional: true }),
  syncModelsOnDeploy: boolean("Run models:sync during pulumi up whenever the manifest's files or sources change, with a write token the stack makes (needs cloudflareAccountId).", false),
  coldStartAlertSeconds: integer(10, 3600, "Alert when a cold start (process start to warm) takes longer than this, in seconds.", 180),
  coldStartsPerDayObjective: integer(0, 1000, "Objective: fewer cold starts (instance starts) than this in any 24 h; charted, and an alert fires when 24 h reach it. 0: no objective.", 5),
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
  secretsKmsKey: string("KMS key of the stack's secrets provider (projects/P/locations/L/keyRings/R/cryptoKeys/K); the deploy account may use it.", "", (v) =>
    v === "" ? undefined : kmsKeyProblem(v),
  ),
} satisfies Record<string, KeySpec<unknown>>;

export type KeyName = keyof typeof KEYS;

/** The string form Pulumi hands a program for a Pulumi.yaml value. */
export function yamlValueToConfigString(v: YamlValue): string {
  return Array.isArray(v) ? JSON.stringify(v) : String(v);
}

export interface ServiceConfig {
  readonly name: string;
  readonly project: string;
  readonly region: string;
  readonly cpu: number;
  /** Cloud Run memory limit, e.g. "32Gi". */
  readonly memory: string;
  readonly memoryGiB: number;
  readonly concurrency: number;
  readonly requestTimeoutSeconds: number;
  readonly maxInstances: number;
  readonly maxColdStartSeconds: number;
  readonly gpuZonalRedundancy: boolean;
  readonly invokers: readonly string[];
  readonly public: boolean;
  /** Origins (scheme://host[:port]) whose pages may call POST /warmup from a browser: the supervisor's WARMUP_ORIGINS. */
  readonly warmupOrigins: readonly string[];
  readonly deletionProtection: boolean;
  /** The model server the supervisor runs: its command, address, health path, warmup and environment. */
  readonly modelServer: ModelServerConfig;
}

export type ImageBuildMode = "cloudbuild" | "local" | "none";

export interface ImageConfig {
  readonly mode: ImageBuildMode;
  /** The repository's reference image the stack builds as the base (`warmstart:baseImage: ./images/...`); else undefined. */
  readonly baseReference: ReferenceImage | undefined;
  /** The image by digest the service runs instead of a built one: the only image with mode none, else a rollback pin. */
  readonly image: string | undefined;
  readonly baseImage: string;
  readonly manifestPath: string;
  readonly manifest: Manifest;
  /** Set when the weights exceed the L4's memory and the server must offload part of them: shown as a warning. */
  readonly offloadWarning: string | undefined;
  readonly retention: number;
  readonly buildMachineType: string;
  readonly buildTimeoutMinutes: number;
  /** Where and how the build reads the weights; undefined when the config names no source (a prebuilt image). */
  readonly models: ModelsFetch | undefined;
}

/**
 * Where the image build reads the weights, by `warmstart:modelsAccess`. With `presigned` the read credential is not
 * config: the stack's ModelsBucket makes it, and the build receives it from there.
 */
export type ModelsFetch =
  /** `https://<modelsDomain>`, sending `header: key` through the zone's WAF gate. */
  | { readonly access: "header"; readonly baseUrl: string; readonly header: string; readonly key: pulumi.Output<string> }
  | { readonly access: "public"; readonly baseUrl: string }
  /** The bucket through its S3 endpoint, by presigned GETs. */
  | { readonly access: "presigned"; readonly s3Endpoint: string; readonly bucket: string };

export interface WarmConfig {
  readonly windowsText: string;
  readonly schedule: WarmSchedule;
  readonly warmMinInstances: number;
  readonly idleMinInstances: number;
  readonly leadMinutes: number;
}

/** A budget alert threshold: a fraction of the budget, on current or forecasted spend. */
export interface BudgetThreshold {
  readonly fraction: number;
  readonly basis: "CURRENT_SPEND" | "FORECASTED_SPEND";
}

export interface BudgetConfig {
  /** Undefined: no budget, alerts or guard. */
  readonly billingAccount: string | undefined;
  readonly monthlyBudget: number;
  readonly alertEmails: readonly string[];
  readonly thresholds: readonly BudgetThreshold[];
  readonly guard: boolean;
  readonly guardRatio: number;
  readonly guardMaxInstances: number;
  /** USD a day; 0: no daily spend limit. */
  readonly dailySpendLimit: number;
}

export interface CostConfig {
  readonly prices: Prices;
  readonly offWindowInstanceHoursPerDay: number;
  /** 0: the stack makes no request-log bucket. */
  readonly requestLogRetentionDays: number;
}

export interface ModelsBucketConfig {
  readonly accountId: string;
  readonly bucketName: string;
  readonly jurisdiction: R2Jurisdiction;
  readonly locationHint: string | undefined;
  /** `https://<account>[.<jurisdiction>].r2.cloudflarestorage.com`. */
  readonly s3Endpoint: string;
  readonly access: ModelsAccess;
  /** The custom domain and its zone; undefined with presigned access, which needs no public host. */
  readonly domain: { readonly host: string; readonly zoneId: string } | undefined;
  /** What the zone's WAF rule requires (`header` access only). */
  readonly gate: { readonly header: string; readonly key: pulumi.Output<string> } | undefined;
  /** Make a write token and sync the manifest's sources into the bucket during `pulumi up`. */
  readonly syncOnDeploy: boolean;
  /** For that sync: a Hugging Face token for gated or private sources. */
  readonly huggingFaceToken: pulumi.Output<string> | undefined;
}

export interface CiConfig {
  /** Undefined: no CI access resources. */
  readonly githubRepository: string | undefined;
  readonly stateBucket: string;
  readonly secretsKmsKey: string | undefined;
}

export interface StackConfig {
  /** What the config allows but a user should hear about (an example's made-up value still in place). */
  readonly warnings: readonly string[];
  /** Undefined: the weights host is not managed by this stack. */
  readonly modelsBucket: ModelsBucketConfig | undefined;
  /** Alert threshold for a cold start's total, seconds. */
  readonly coldStartAlertSeconds: number;
  /** Cold starts a day and request latency the service aims for (`warmstart:coldStartsPerDayObjective`, `latencyObjectiveSeconds`). */
  readonly objectives: Objectives;
  readonly ci: CiConfig;
  readonly service: ServiceConfig;
  readonly image: ImageConfig;
  readonly warm: WarmConfig;
  readonly budget: BudgetConfig;
  readonly cost: CostConfig;
}

export interface ConfigProblem {
  readonly key: string;
  readonly reason: string;
  /** The raw value received, or undefined when the key was missing. */
  readonly got: string | undefined;
  readonly secret?: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.key}: ${p.reason}${p.got === undefined ? "" : `, got ${p.secret ? "[secret]" : JSON.stringify(p.got)}`}`).join("\n") +
        "\nFix with `pulumi config set <key> <value>` (add --secret for credentials), then run again.",
    );
    this.name = "ConfigError";
  }
}

/** The reference images of this repository (`./images/<name>` with a Dockerfile). */
function listReferenceImages(rootDir: string): string[] {
  const dir = path.join(rootDir, "images");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((n) =>
    fs.existsSync(path.join(dir, n, "Dockerfile"))
      ? [`./images/${n}`, ...fs.readdirSync(path.join(dir, n)).filter((f) => f.startsWith("Dockerfile.")).map((f) => `./images/${n}/${f}`)]
      : [],
  );
}

/** Reads a raw config value by full key ("warmstart:cpu"); undefined when unset. */
export type RawConfig = (fullKey: string) => string | undefined;

export interface ParseOptions {
  /** Project root, to resolve the manifest path. */
  readonly rootDir: string;
  /**
   * Whether the stack stores a key encrypted (set with --secret); a secret key stored in plain text is refused. The
   * program asks the Pulumi runtime, `npm run synth` the stack file's `secure:` values (scripts/stackFiles.ts).
   */
  readonly isEncrypted: (fullKey: string) => boolean;
  /**
   * Every key the stack sets (fully qualified), to refuse a `warmstart:` key the program does not know: a misspelt key
   * would otherwise be ignored and its default used. The program takes them from the runtime, synth from the files.
   */
  readonly presentKeys: readonly string[];
}

/**
 * Parses and cross-checks the whole configuration. Throws one {@link ConfigError} that lists every problem, so a
 * user fixes them all in one go and no resource is registered from a half-valid config.
 */
export function parseStackConfig(raw: RawConfig, opts: ParseOptions): StackConfig {
  const problems: ConfigProblem[] = [];
  const values: Partial<Record<KeyName, unknown>> = {};
  for (const [name, spec] of Object.entries(KEYS) as [KeyName, KeySpec<unknown>][]) {
    const full = `warmstart:${name}`;
    const given = raw(full);
    const text = given ?? (spec.default === undefined ? undefined : yamlValueToConfigString(spec.default));
    if (text === undefined) continue;
    // The one plain-text check for every secret key, whoever reads the stack (the program, synth, the planner).
    if (spec.secret && given !== undefined && !opts.isEncrypted(full)) {
      problems.push({ key: full, reason: `is stored in plain text in the stack file; remove it and set it with pulumi config set --secret ${full} <value>`, got: text, secret: true });
      continue;
    }
    try {
      values[name] = spec.parse(text);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      problems.push({ key: full, reason: err.message, got: text, secret: spec.secret });
    }
  }
  const v = values as { [K in KeyName]: ReturnType<(typeof KEYS)[K]["parse"]> | undefined };
  const problem = (key: string, reason: string, got?: string) => problems.push({ key, reason, got });

  const knownKeys = Object.keys(KEYS);
  for (const full of opts.presentKeys) {
    if (!full.startsWith("warmstart:") || knownKeys.includes(full.slice("warmstart:".length))) continue;
    const meant = closestName(full.slice("warmstart:".length), knownKeys);
    problem(
      full,
      meant
        ? `is not a key of this stack; did you mean warmstart:${meant}? (pulumi config rm ${full}, then pulumi config set warmstart:${meant} <value>)`
        : "is not a key of this stack (the README's Configuration reference lists them all); remove it with pulumi config rm " + full,
    );
  }

  const project = raw("gcp:project")?.trim();
  if (!project) problem("gcp:project", "is required: the Google Cloud project id to deploy to (pulumi config set gcp:project my-project)");
  else if (!PROJECT_ID_RE.test(project)) problem("gcp:project", "must be a project id: 6-30 lowercase letters, digits or hyphens", project);
  const region = raw("gcp:region")?.trim();
  if (!region) problem("gcp:region", `is required: one of the regions with Cloud Run L4 GPUs (${L4_REGIONS.map((r) => r.region).join(", ")})`);
  else if (!findL4Region(region)) problem("gcp:region", `has no Cloud Run L4 GPUs; use one of ${L4_REGIONS.map((r) => r.region).join(", ")}`, region);

  // Memory: Cloud Run with a GPU needs 16 GiB at least, and allows at most 4 GiB per vCPU.
  let memoryGiB: number | undefined;
  if (v.memory !== undefined) {
    const m = /^(\d+)(Gi|Mi)$/.exec(v.memory);
    if (!m) problem("warmstart:memory", 'must be a size like "32Gi" or "24576Mi"', v.memory);
    else {
      memoryGiB = m[2] === "Gi" ? Number(m[1]) : Number(m[1]) / 1024;
      if (memoryGiB < 16 || memoryGiB > 32) problem("warmstart:memory", "must be 16Gi..32Gi (Cloud Run's range with an L4 GPU)", v.memory);
      else if (v.cpu !== undefined && memoryGiB > v.cpu * 4) problem("warmstart:memory", `is more than ${v.cpu} vCPUs allow (4 GiB per vCPU); raise warmstart:cpu or lower memory`, v.memory);
    }
  }
  if (v.cpu !== undefined && ![4, 6, 8].includes(v.cpu)) problem("warmstart:cpu", "must be 4, 6 or 8 (Cloud Run allows whole vCPUs 4, 6 or 8 with a GPU)", String(v.cpu));

  if (v.maxColdStartSeconds !== undefined && v.maxColdStartSeconds > MAX_COLD_START_SECONDS) {
    problem(
      "warmstart:maxColdStartSeconds",
      `must be at most ${MAX_COLD_START_SECONDS}: Cloud Run caps a startup probe's initial delay at ${PROBE_CAP_SECONDS} s and period × failure threshold at ${PROBE_CAP_SECONDS} s; make the model load faster instead`,
      String(v.maxColdStartSeconds),
    );
  }
  for (const k of ["warmMinInstances", "idleMinInstances"] as const) {
    if (v[k] !== undefined && v.maxInstances !== undefined && v[k] > v.maxInstances) {
      problem(`warmstart:${k}`, `must not exceed warmstart:maxInstances (${v.maxInstances})`, String(v[k]));
    }
  }

  let windows: WarmWindow[] | undefined;
  if (v.warmWindows !== undefined) {
    try {
      windows = parseWarmWindows(v.warmWindows, { maxInstances: v.maxInstances });
    } catch (err) {
      if (!(err instanceof WarmWindowsError)) throw err;
      // The message quotes the window at fault: the whole value again would only bury it.
      problem("warmstart:warmWindows", err.message);
    }
  }

  if (v.imageBuild === "none" && !v.image) {
    problem("warmstart:image", 'is required when warmstart:imageBuild is "none": a prebuilt image by digest');
  }
  const building = v.imageBuild !== undefined && v.imageBuild !== "none";
  const keyProblem = () => problems.some((p) => p.key === "warmstart:modelsAccessKey");
  // The access mode decides what the build (and the bucket) need: a host, a key, or the stack's own bucket.
  const needsHost = (building || v.cloudflareAccountId) && v.modelsAccess !== "presigned";
  if (needsHost && !v.modelsDomain) {
    const why = building ? `warmstart:imageBuild is "${v.imageBuild}"` : "warmstart:cloudflareAccountId is set";
    problem("warmstart:modelsDomain", `is required when ${why} and warmstart:modelsAccess is "${v.modelsAccess}": the host the weights are served from`);
  }
  if ((building || v.cloudflareAccountId) && v.modelsAccess === "header" && v.modelsAccessKey === undefined && !keyProblem()) {
    problem("warmstart:modelsAccessKey", 'is required when warmstart:modelsAccess is "header" (the value the build sends and the WAF rule checks); set it with pulumi config set --secret warmstart:modelsAccessKey <value>');
  }
  if (v.modelsAccess === "presigned" && !v.cloudflareAccountId) {
    problem("warmstart:modelsAccess", '"presigned" needs warmstart:cloudflareAccountId: the stack makes the bucket and the read token the URLs are signed with', "presigned");
  }

  let manifest: Manifest | undefined;
  let manifestFile: string | undefined;
  if (v.modelsManifest !== undefined) {
    const found = fileInsideRoot(opts.rootDir, v.modelsManifest);
    if ("problem" in found) problem("warmstart:modelsManifest", found.problem, v.modelsManifest);
    else {
      manifestFile = found.file;
      let text: string | undefined;
      try {
        text = fs.readFileSync(found.file, "utf8");
      } catch (err) {
        problem("warmstart:modelsManifest", `cannot read ${found.file} (${(err as NodeJS.ErrnoException).code ?? "error"})`, v.modelsManifest);
      }
      if (text !== undefined) {
        try {
          manifest = parseManifest(text, v.modelsManifest);
        } catch (err) {
          if (!(err instanceof ManifestError)) throw err;
          // The message names the file and each entry by position, never its contents; no ", got" after the list.
          problem("warmstart:modelsManifest", err.message.replace(/\n/g, "\n    "));
        }
      }
    }
  }

  if (v.imageBuild === "local" && manifestFile !== undefined) {
    // Real paths: Docker copies a symbolic link as a link, so one to a file outside container/ breaks in the image.
    const rel = path.relative(fs.realpathSync(path.join(opts.rootDir, "container")), manifestFile);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      problem("warmstart:modelsManifest", 'must lie inside container/ when warmstart:imageBuild is "local": Docker only sees the build context', v.modelsManifest);
    }
  }
  const fit = manifest && memoryGiB !== undefined ? weightsFit(manifestBytes(manifest), memoryGiB, v.modelsManifest!) : undefined;
  if (fit?.kind === "too-big") problem("warmstart:modelsManifest", fit.message, v.modelsManifest);

  if (v.billingAccount && v.monthlyBudget === 0) {
    problem("warmstart:monthlyBudget", "must be a positive amount when warmstart:billingAccount is set (whole units of the account's currency)", "0");
  }
  if (v.alertEmails !== undefined && v.alertEmails.length > 5) {
    problem("warmstart:alertEmails", `has ${v.alertEmails.length} addresses; a budget takes at most 5 notification channels`, JSON.stringify(v.alertEmails));
  }
  if (v.dailySpendLimit !== undefined && v.dailySpendLimit > 0 && (!v.billingAccount || v.budgetGuard === false)) {
    // The budget guard acts on the daily limit's alert: it arrives on the budget's topic, so it needs the budget too.
    problem(
      "warmstart:dailySpendLimit",
      `needs ${!v.billingAccount ? "warmstart:billingAccount (the budget and its guard, which acts on the daily limit)" : "warmstart:budgetGuard true (the guard acts on the daily limit)"}; set it, or set the limit to 0`,
      String(v.dailySpendLimit),
    );
  }
  if (v.guardMaxInstances !== undefined && v.maxInstances !== undefined && v.guardMaxInstances > v.maxInstances) {
    problem("warmstart:guardMaxInstances", `must not exceed warmstart:maxInstances (${v.maxInstances})`, String(v.guardMaxInstances));
  }

  if (v.huggingFaceToken !== undefined && !v.syncModelsOnDeploy) {
    problems.push({ key: "warmstart:huggingFaceToken", reason: "is only used by the sync during pulumi up; set warmstart:syncModelsOnDeploy true, or remove it (npm run models:sync reads HF_TOKEN)", got: v.huggingFaceToken, secret: true });
  }
  if (v.syncModelsOnDeploy && !v.cloudflareAccountId) {
    problem("warmstart:syncModelsOnDeploy", "needs warmstart:cloudflareAccountId: the sync writes to the stack's own bucket with a token the stack makes", "true");
  }
  if (v.cloudflareAccountId && v.modelsAccess !== "presigned" && !v.cloudflareZoneId) {
    problem("warmstart:cloudflareZoneId", "is required when warmstart:cloudflareAccountId is set: the zone of warmstart:modelsDomain");
  }
  const reference = v.baseImage === undefined ? undefined : referenceImage(v.baseImage);
  if (v.baseImage !== undefined && reference) {
    const dockerfile = path.join(opts.rootDir, reference.folder, reference.dockerfile);
    if (!fs.existsSync(dockerfile)) problem("warmstart:baseImage", `names ${v.baseImage}, which has no ${reference.dockerfile}; the reference images are ${listReferenceImages(opts.rootDir).join(", ") || "(none)"}`, v.baseImage);
    else if (v.imageBuild === "local") {
      problem(
        "warmstart:baseImage",
        `a reference image (${v.baseImage}) is built remotely; use warmstart:imageBuild cloudbuild, or build and push it yourself and name it, e.g. docker build -t REGION-docker.pkg.dev/PROJECT/REPO/${v.baseImage.slice("./images/".length)}:1 ${v.baseImage.slice(2)} && docker push ..., then pulumi config set warmstart:baseImage REGION-docker.pkg.dev/PROJECT/REPO/${v.baseImage.slice("./images/".length)}:1`,
        v.baseImage,
      );
    }
  }
  if (v.modelServerEnv !== undefined && v.modelServerSecrets !== undefined) {
    try {
      const both = Object.keys(parseEnvMap(v.modelServerEnv, "environment variables")).filter((n) => n in parseEnvMap(v.modelServerSecrets!, "secret ids", secretIdProblem));
      if (both.length > 0) problem("warmstart:modelServerSecrets", `names ${both.join(", ")}, which warmstart:modelServerEnv sets too; keep each variable in one of them`);
    } catch {
      // Each map's own problem is reported above.
    }
  }
  if (v.latencyObjectiveSeconds !== undefined && v.requestTimeoutSeconds !== undefined) {
    const late = v.latencyObjectiveSeconds.find((o) => o.seconds >= v.requestTimeoutSeconds!);
    if (late) {
      problem(
        "warmstart:latencyObjectiveSeconds",
        `asks p${late.percentile} for ${late.seconds} s, not below warmstart:requestTimeoutSeconds (${v.requestTimeoutSeconds} s): every request ends by then, so the objective could never be missed; lower it, e.g. ${LATENCY_OBJECTIVES_EXAMPLE}, or raise the timeout`,
        raw("warmstart:latencyObjectiveSeconds") ?? LATENCY_OBJECTIVES_EXAMPLE,
      );
    }
  }
  if (v.warmupOrigins !== undefined && v.warmupOrigins.length > 0 && v.public === false) {
    // A browser's preflight is a new OPTIONS request that names the page's headers (Authorization too) without
    // sending them (https://fetch.spec.whatwg.org/#cors-preflight-fetch), and Cloud Run's IAM check refuses a request
    // without an identity token before the container sees it. Google's answer for preflights to an authenticated
    // service is IAP set to let OPTIONS through, which this stack does not set up
    // (https://cloud.google.com/run/docs/authenticating/end-users, "Authenticating internal users").
    problem(
      "warmstart:warmupOrigins",
      "needs warmstart:public true: on a private service Cloud Run refuses a browser's call (its preflight carries no identity token) before the supervisor sees it; warm a private service from your app's backend instead (docs/prewarm.md), or make it public (pulumi config set warmstart:public true)",
      JSON.stringify(v.warmupOrigins),
    );
  }
  if (v.githubRepository && !v.stateBucket) {
    problem("warmstart:stateBucket", "is required when warmstart:githubRepository is set: the bucket of your gs:// Pulumi backend");
  }

  if (problems.length > 0) throw new ConfigError(problems);

  // Every value below is present: a missing one would have been reported above.
  const c = v as { [K in KeyName]: ReturnType<(typeof KEYS)[K]["parse"]> };
  const opts2 = { warmMinInstances: c.warmMinInstances, idleMinInstances: c.idleMinInstances, leadMinutes: c.warmLeadMinutes };
  const accessKey = v.modelsAccessKey === undefined ? undefined : pulumi.secret(v.modelsAccessKey);
  const bucketName = c.modelsBucket || `${c.serviceName}-models`;
  const s3Endpoint = r2S3Endpoint(c.cloudflareAccountId, c.modelsJurisdiction);
  const gate = c.modelsAccess === "header" ? { header: c.modelsAccessHeader, key: accessKey! } : undefined;
  // The weights source, whenever the config has one: a stack that switches to a prebuilt image (a rollback) keeps
  // what a later build needs. Required, and checked above, only when the image is built here.
  const hasSource = c.modelsAccess === "presigned" ? Boolean(c.cloudflareAccountId) : Boolean(c.modelsDomain) && (c.modelsAccess !== "header" || accessKey !== undefined);
  const models: ModelsFetch | undefined = !hasSource
    ? undefined
    : c.modelsAccess === "presigned"
      ? { access: "presigned", s3Endpoint, bucket: bucketName }
      : c.modelsAccess === "header"
        ? { access: "header", baseUrl: `https://${c.modelsDomain}`, header: c.modelsAccessHeader, key: accessKey! }
        : { access: "public", baseUrl: `https://${c.modelsDomain}` };
  const schedule = buildWarmSchedule(windows!, c.timezone, opts2);
  const coldStartWarning = coldStartObjectiveWarning(c.coldStartsPerDayObjective, scheduledStartsPer24h(schedule.levels));
  const prices = { ...DEFAULT_PRICES, ...parsePriceOverrides(c.prices) };
  const dailyWarning = dailyLimitWarning(c.dailySpendLimit, maxInstanceHoursIn24h(schedule.levels), instanceHourlyCost({ cpu: c.cpu, memoryGiB: memoryGiB!, gpuZonalRedundancy: c.gpuZonalRedundancy }, prices));
  return {
    warnings: [...exampleValueWarnings(raw), ...(coldStartWarning ? [coldStartWarning] : []), ...(dailyWarning ? [dailyWarning] : [])],
    modelsBucket: c.cloudflareAccountId
      ? {
          accountId: c.cloudflareAccountId,
          bucketName,
          jurisdiction: c.modelsJurisdiction,
          locationHint: c.modelsLocationHint || undefined,
          s3Endpoint,
          access: c.modelsAccess,
          domain: c.modelsAccess === "presigned" ? undefined : { host: c.modelsDomain, zoneId: c.cloudflareZoneId },
          gate,
          syncOnDeploy: c.syncModelsOnDeploy,
          huggingFaceToken: v.huggingFaceToken === undefined ? undefined : pulumi.secret(v.huggingFaceToken),
        }
      : undefined,
    coldStartAlertSeconds: c.coldStartAlertSeconds,
    objectives: { coldStartsPerDay: c.coldStartsPerDayObjective, latency: c.latencyObjectiveSeconds },
    ci: { githubRepository: c.githubRepository || undefined, stateBucket: c.stateBucket, secretsKmsKey: c.secretsKmsKey || undefined },
    service: {
      name: c.serviceName,
      project: project!,
      region: region!,
      cpu: c.cpu,
      memory: c.memory,
      memoryGiB: memoryGiB!,
      concurrency: c.concurrency,
      requestTimeoutSeconds: c.requestTimeoutSeconds,
      maxInstances: c.maxInstances,
      maxColdStartSeconds: c.maxColdStartSeconds,
      gpuZonalRedundancy: c.gpuZonalRedundancy,
      invokers: c.invokers,
      public: c.public,
      warmupOrigins: c.warmupOrigins,
      deletionProtection: c.deletionProtection,
      modelServer: {
        command: c.modelServerCommand,
        url: c.modelServerUrl,
        healthPath: c.modelHealthPath,
        warmup: parseWarmup(c.warmupRequest),
        prefetchDirs: c.prefetchDirs,
        env: parseEnvMap(c.modelServerEnv, "environment variables"),
        secrets: parseEnvMap(c.modelServerSecrets, "secret ids", secretIdProblem),
      },
    },
    image: {
      mode: c.imageBuild,
      image: c.image || undefined,
      baseImage: c.baseImage,
      baseReference: referenceImage(c.baseImage),
      manifestPath: c.modelsManifest,
      manifest: manifest!,
      offloadWarning: fit?.kind === "offload" ? fit.message : undefined,
      retention: c.imageRetention,
      buildMachineType: c.buildMachineType,
      buildTimeoutMinutes: c.buildTimeoutMinutes,
      models,
    },
    warm: {
      windowsText: typeof c.warmWindows === "string" ? c.warmWindows : c.warmWindows.join("; "),
      schedule,
      ...opts2,
    },
    budget: {
      billingAccount: c.billingAccount || undefined,
      monthlyBudget: c.monthlyBudget,
      alertEmails: c.alertEmails,
      thresholds: c.budgetThresholds.map((t) => ({
        fraction: Number(t.replace("forecast:", "")),
        basis: t.startsWith("forecast:") ? "FORECASTED_SPEND" : "CURRENT_SPEND",
      })),
      guard: c.budgetGuard,
      guardRatio: c.guardRatio,
      guardMaxInstances: c.guardMaxInstances,
      dailySpendLimit: c.dailySpendLimit,
    },
    cost: {
      prices,
      offWindowInstanceHoursPerDay: c.offWindowInstanceHoursPerDay,
      requestLogRetentionDays: c.requestLogRetentionDays,
    },
  };
}

/** When the warm schedule alone would pass the daily spend limit in its busiest 24 hours. */
function dailyLimitWarning(limit: number, warmInstanceHours: number, perInstanceHour: number): string | undefined {
  const cost = warmInstanceHours * perInstanceHour;
  if (limit === 0 || cost <= limit) return undefined;
  return `the warm schedule alone keeps ${Math.round(warmInstanceHours * 10) / 10} instance-hours warm in its busiest 24 h (about ${cost.toFixed(2)} USD), more than warmstart:dailySpendLimit (${limit}): the budget guard would hold the service on such days; raise the limit or shorten warmstart:warmWindows`;
}

const OUTSIDE_ROOT = "must lie inside the project root (symbolic links resolved): the program reads no file outside it; e.g. container/models.json";

/**
 * The real path of `relative` (to the project root) when it lies inside the root, symbolic links resolved: a config
 * value must not make the program read a file elsewhere (../../etc/passwd, a link to ~/.config), nor an error quote
 * one. Decided before the file is read.
 */
function fileInsideRoot(rootDir: string, relative: string): { file: string } | { problem: string } {
  const inside = (root: string, p: string) => {
    const rel = path.relative(root, p);
    return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  };
  const lexical = path.resolve(rootDir, relative);
  if (!inside(path.resolve(rootDir), lexical)) return { problem: OUTSIDE_ROOT };
  let real: string;
  try {
    real = fs.realpathSync(lexical);
  } catch (err) {
    return { problem: `cannot read ${lexical} (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
  return inside(fs.realpathSync(rootDir), real) ? { file: real } : { problem: OUTSIDE_ROOT };
}

/** Reads the stack's configuration from the Pulumi runtime. */
export function loadStackConfig(rootDir = process.cwd()): StackConfig {
  return parseStackConfig((key) => pulumi.runtime.getConfig(key), { rootDir, isEncrypted: runtimeIsConfigSecret(), presentKeys: Object.keys(pulumi.runtime.allConfig()) });
}

/**
 * The SDK's own test of whether a config value was set with --secret. It is marked internal, so it is looked up
 * rather than imported. Without it no secret could be told from a plain-text one: the program stops rather than
 * deploy a key that may sit readable in the stack file (test/config.test.ts fails first, on an SDK upgrade).
 */
function runtimeIsConfigSecret(): (fullKey: string) => boolean {
  const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  if (typeof fn !== "function") throw new Error("@pulumi/pulumi has no runtime.isConfigSecret: warmstart cannot tell a --secret value from a plain one; pin the SDK to a version that has it");
  return fn;
}
