/**
 * The stack's configuration: every key is read here, once, typed, with its default. Everything downstream takes
 * the typed {@link StackConfig}, never `pulumi.Config`.
 *
 * Pulumi.yaml declares the same keys and defaults for the CLI, except the secret ones (a declared key without a
 * default is required by the CLI in every stack); `test/config/parse.test.ts` proves the two agree.
 * Defaults must live here too because `pulumi.runtime.setMocks` (tests, `npm run synth`) does not apply Pulumi.yaml.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ManifestError, manifestBytes, parseManifest, type Manifest } from "../container/manifest";
import { DEFAULT_PRICES, instanceHourlyCost, parsePriceOverrides } from "../components/budget/costModel";
import { findL4Region, L4_REGIONS, weightsFit } from "../components/service/l4";
import { closestName } from "./closestName";
import { r2S3Endpoint } from "../components/models/r2";
import { exampleValueWarnings } from "./exampleValues";
import { parseEnvMap, parseWarmup, secretIdProblem } from "../components/service/modelServer";
import { coldStartObjectiveWarning, LATENCY_OBJECTIVES_EXAMPLE, scheduledStartsPer24h } from "../components/observability/objectives";
import { MAX_COLD_START_SECONDS, PROBE_CAP_SECONDS } from "../components/service/startupProbe";
import { buildWarmSchedule, maxInstanceHoursIn24h, parseWarmWindows, WarmWindowsError, type WarmWindow } from "../components/schedule/warmWindows";
import { Invalid, KEYS, PROJECT_ID_RE, referenceImage, yamlValueToConfigString, type KeyName, type KeySpec } from "./keys";
import type { StackConfig } from "./types";
import type { ModelsFetch } from "../components/image/modelImage";


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
  // A key its own parser refused is unset below: saying it "is required" too would report it twice.
  const required = (key: KeyName, reason: string) => {
    if (!problems.some((p) => p.key === `warmstart:${key}`)) problem(`warmstart:${key}`, `is required ${reason}`);
  };

  const knownKeys = Object.keys(KEYS);
  for (const full of opts.presentKeys) {
    if (!full.startsWith("warmstart:") || knownKeys.includes(full.slice("warmstart:".length))) continue;
    const meant = closestName(full.slice("warmstart:".length), knownKeys);
    problem(
      full,
      meant
        ? `is not a key of this stack; did you mean warmstart:${meant}? (pulumi config rm ${full}, then pulumi config set warmstart:${meant} <value>)`
        : "is not a key of this stack (docs/configuration.md lists them all); remove it with pulumi config rm " + full,
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
    required("image", 'when warmstart:imageBuild is "none": a prebuilt image by digest');
  }
  const building = v.imageBuild !== undefined && v.imageBuild !== "none";
  // The access mode decides what the build (and the bucket) need: a host, a key, or the stack's own bucket.
  const needsHost = (building || v.cloudflareAccountId) && v.modelsAccess !== "presigned";
  if (needsHost && !v.modelsDomain) {
    const why = building ? `warmstart:imageBuild is "${v.imageBuild}"` : "warmstart:cloudflareAccountId is set";
    required("modelsDomain", `when ${why} and warmstart:modelsAccess is "${v.modelsAccess}": the host the weights are served from`);
  }
  if ((building || v.cloudflareAccountId) && v.modelsAccess === "header" && v.modelsAccessKey === undefined) {
    required("modelsAccessKey", 'when warmstart:modelsAccess is "header" (the value the build sends and the WAF rule checks); set it with pulumi config set --secret warmstart:modelsAccessKey <value>');
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
    required("cloudflareZoneId", "when warmstart:cloudflareAccountId is set: the zone of warmstart:modelsDomain");
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
    required("stateBucket", "when warmstart:githubRepository is set: the bucket of your gs:// Pulumi backend");
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
 * deploy a key that may sit readable in the stack file (test/config/parse.test.ts fails first, on an SDK upgrade).
 */
function runtimeIsConfigSecret(): (fullKey: string) => boolean {
  const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  if (typeof fn !== "function") throw new Error("@pulumi/pulumi has no runtime.isConfigSecret: warmstart cannot tell a --secret value from a plain one; pin the SDK to a version that has it");
  return fn;
}
