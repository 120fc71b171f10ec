/**
 * What config/parse.ts checks across keys (a key another one needs, limits one key sets on another, the files a key
 * names) and what the typed configuration holds once it passes: each refusal as the line the user reads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { ConfigError, parseStackConfig } from "../../config/parse";
import { DEFAULT_PRICES, instanceHourlyCost } from "../../components/budget/costModel";
import { BASE_CONFIG, projectTempDir } from "../harness";
import { configError, configErrorLines, configProblems, freshConfigParsers, parseConfig, PROJECT_ROOT } from "../support/stackConfig";

const CF_ACCOUNT = "0123456789abcdef0123456789abcdef";
const CF = { "warmstart:cloudflareAccountId": CF_ACCOUNT, "warmstart:cloudflareZoneId": "fedcba9876543210fedcba9876543210" };
const DIGEST = `us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(64)}`;
/** A prebuilt image: nothing is built, so no weights host or key is needed. */
const PREBUILT = { "warmstart:imageBuild": "none", "warmstart:image": DIGEST, "warmstart:modelsDomain": undefined, "warmstart:modelsAccessKey": undefined };
const BUDGET = { "warmstart:billingAccount": "012345-6789AB-CDEF01", "warmstart:monthlyBudget": "100" };

describe("the error", () => {
  test("counts its problems, says how to fix them, and quotes each value received (a secret as [secret])", () => {
    expect(configError({ "warmstart:cpu": "3" })?.message).toBe(
      'Invalid stack configuration (1 problem):\n  warmstart:cpu: must be an integer 4..8, got "3"\nFix with `pulumi config set <key> <value>` (add --secret for credentials), then run again.',
    );
    expect(configError({ "warmstart:cpu": "3", "warmstart:modelsAccessKey": "" })?.message).toMatch(/^Invalid stack configuration \(2 problems\):\n/);
  });

  test("a missing key's line has no value after it", () => {
    expect(configErrorLines({ "gcp:project": undefined })).toEqual(["gcp:project: is required: the Google Cloud project id to deploy to (pulumi config set gcp:project my-project)"]);
  });
});

describe("keys the stack does not know", () => {
  const unknown = (key: string) => configProblems({ [key]: "3" });

  test("a misspelt warmstart: key names the key it is closest to", () => {
    expect(unknown("warmstart:maxInstanses")).toEqual([
      "warmstart:maxInstanses: is not a key of this stack; did you mean warmstart:maxInstances? (pulumi config rm warmstart:maxInstanses, then pulumi config set warmstart:maxInstances <value>)",
    ]);
  });

  test("one close to none says where the keys are listed", () => {
    expect(unknown("warmstart:colour")).toEqual(["warmstart:colour: is not a key of this stack (docs/configuration.md lists them all); remove it with pulumi config rm warmstart:colour"]);
  });

  test("another namespace's keys are not ours to judge", () => {
    expect(unknown("gcp:zone")).toEqual([]);
    expect(unknown("aws:warmstart:maxInstanses")).toEqual([]);
  });
});

describe("the Google Cloud project and region", () => {
  test("are read trimmed", () => {
    const c = parseConfig({ "gcp:project": " acme-test-123 ", "gcp:region": " europe-west4 " });
    expect(c.service).toMatchObject({ project: "acme-test-123", region: "europe-west4" });
  });

  test("a project id is 6-30 lowercase letters, digits or hyphens", async () => {
    // Its pattern is built when the key table loads: loaded afresh here (test/support/stackConfig.ts says why).
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    for (const project of ["acme-1", `a${"b".repeat(29)}`]) expect(parseConfig({ "gcp:project": project }).service.project).toBe(project);
    for (const project of ["acme", `a${"b".repeat(30)}`, "Acme-test", "1acme-test", "acme-test-"]) {
      expect(configErrorLines({ "gcp:project": project }), project).toEqual([`gcp:project: must be a project id: 6-30 lowercase letters, digits or hyphens, got "${project}"`]);
    }
  });

  test("an empty project is missing", () => {
    expect(configErrorLines({ "gcp:project": "  " })).toEqual(["gcp:project: is required: the Google Cloud project id to deploy to (pulumi config set gcp:project my-project)"]);
  });

  test("a missing or GPU-less region lists the regions with L4s", () => {
    const regions = "us-central1, us-east4, europe-west1, europe-west4, asia-southeast1, asia-south1";
    expect(configErrorLines({ "gcp:region": undefined })).toEqual([`gcp:region: is required: one of the regions with Cloud Run L4 GPUs (${regions})`]);
    expect(configErrorLines({ "gcp:region": " " })).toEqual([`gcp:region: is required: one of the regions with Cloud Run L4 GPUs (${regions})`]);
    expect(configErrorLines({ "gcp:region": "us-west1" })).toEqual([`gcp:region: has no Cloud Run L4 GPUs; use one of ${regions}, got "us-west1"`]);
  });
});

describe("memory", () => {
  test("Gi or Mi, whole numbers; the typed config holds GiB", () => {
    expect(parseConfig({ "warmstart:memory": "20480Mi" }).service).toMatchObject({ memory: "20480Mi", memoryGiB: 20 });
    expect(parseConfig({ "warmstart:memory": " 24Gi " }).service).toMatchObject({ memory: "24Gi", memoryGiB: 24 });
    for (const memory of ["32", "32G", "32gi", "1.5Gi", "x32Gi", "32Gix"]) {
      expect(configErrorLines({ "warmstart:memory": memory }), memory).toEqual([`warmstart:memory: must be a size like "32Gi" or "24576Mi", got "${memory}"`]);
    }
  });

  test("more than the vCPUs allow names them and both ways out", () => {
    expect(configErrorLines({ "warmstart:cpu": "4", "warmstart:memory": "20Gi" })).toEqual(['warmstart:memory: is more than 4 vCPUs allow (4 GiB per vCPU); raise warmstart:cpu or lower memory, got "20Gi"']);
  });

  test("out of range, with an invalid cpu beside it: only the range is reported for memory", () => {
    expect(configErrorLines({ "warmstart:cpu": "2", "warmstart:memory": "8Gi" })).toEqual([
      'warmstart:cpu: must be an integer 4..8, got "2"',
      'warmstart:memory: must be 16Gi..32Gi (Cloud Run\'s range with an L4 GPU), got "8Gi"',
    ]);
    expect(configErrorLines({ "warmstart:cpu": "2", "warmstart:memory": "24Gi" })).toEqual(['warmstart:cpu: must be an integer 4..8, got "2"']);
  });
});

describe("instances", () => {
  test("min instances in and out of windows may not exceed max instances; the message names the max", () => {
    expect(configErrorLines({ "warmstart:maxInstances": "1", "warmstart:warmMinInstances": "2" })).toEqual(['warmstart:warmMinInstances: must not exceed warmstart:maxInstances (1), got "2"']);
    expect(configErrorLines({ "warmstart:maxInstances": "1", "warmstart:idleMinInstances": "2" })).toEqual(['warmstart:idleMinInstances: must not exceed warmstart:maxInstances (1), got "2"']);
    expect(configErrorLines({ "warmstart:maxInstances": "1", "warmstart:guardMaxInstances": "2" })).toEqual(['warmstart:guardMaxInstances: must not exceed warmstart:maxInstances (1), got "2"']);
  });

  test("with max instances itself invalid, only it is reported", () => {
    expect(configErrorLines({ "warmstart:maxInstances": "0", "warmstart:warmMinInstances": "2", "warmstart:guardMaxInstances": "2" })).toEqual(['warmstart:maxInstances: must be an integer 1..100, got "0"']);
  });
});

describe("the image and the weights' source", () => {
  test("a prebuilt image (imageBuild none) needs its digest", () => {
    expect(configErrorLines({ ...PREBUILT, "warmstart:image": undefined })).toEqual(['warmstart:image: is required when warmstart:imageBuild is "none": a prebuilt image by digest']);
    expect(parseConfig(PREBUILT).image).toMatchObject({ mode: "none", image: DIGEST, models: undefined });
  });

  test("a build reads the weights from the models host; the message says why it is needed", () => {
    expect(configErrorLines({ "warmstart:modelsDomain": undefined })).toEqual([
      'warmstart:modelsDomain: is required when warmstart:imageBuild is "cloudbuild" and warmstart:modelsAccess is "header": the host the weights are served from',
    ]);
    expect(configErrorLines({ "warmstart:modelsDomain": undefined, "warmstart:modelsAccess": "public", "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/models.json" })).toEqual([
      'warmstart:modelsDomain: is required when warmstart:imageBuild is "local" and warmstart:modelsAccess is "public": the host the weights are served from',
    ]);
  });

  test("a key its own check refused is reported once, not again as required", () => {
    const about = (key: string, over: Record<string, string | undefined>) => configErrorLines(over).filter((l) => l.startsWith(`${key}:`));
    expect(about("warmstart:modelsDomain", { "warmstart:modelsDomain": "https://models.example.com/" })).toHaveLength(1);
    expect(about("warmstart:image", { ...PREBUILT, "warmstart:image": "nginx:latest" })).toHaveLength(1);
    expect(about("warmstart:cloudflareZoneId", { ...CF, "warmstart:cloudflareZoneId": "not-a-zone" })).toHaveLength(1);
    expect(about("warmstart:stateBucket", { "warmstart:githubRepository": "acme/imagegen", "warmstart:stateBucket": "gs://" })).toHaveLength(1);
    expect(configErrorLines({ "warmstart:modelsAccessKey": "" })).toEqual(["warmstart:modelsAccessKey: must not be empty, got [secret]"]);
  });

  test("without a build, the stack's own bucket (cloudflareAccountId) still needs its host, its zone and the key", () => {
    expect(configErrorLines({ ...PREBUILT, ...CF })).toEqual([
      'warmstart:modelsDomain: is required when warmstart:cloudflareAccountId is set and warmstart:modelsAccess is "header": the host the weights are served from',
      'warmstart:modelsAccessKey: is required when warmstart:modelsAccess is "header" (the value the build sends and the WAF rule checks); set it with pulumi config set --secret warmstart:modelsAccessKey <value>',
    ]);
    expect(configErrorLines({ ...PREBUILT, "warmstart:cloudflareAccountId": CF_ACCOUNT, "warmstart:modelsDomain": "models.example.com", "warmstart:modelsAccessKey": "k" })).toEqual([
      "warmstart:cloudflareZoneId: is required when warmstart:cloudflareAccountId is set: the zone of warmstart:modelsDomain",
    ]);
  });

  test("a prebuilt image keeps the source a later build would use, when the config has one", () => {
    expect(parseConfig({ ...PREBUILT, "warmstart:modelsDomain": "models.example.com", "warmstart:modelsAccessKey": "k" }).image.models).toMatchObject({ access: "header", baseUrl: "https://models.example.com" });
    expect(parseConfig({ ...PREBUILT, "warmstart:modelsDomain": "models.example.com" }).image.models).toBeUndefined();
    expect(parseConfig({ ...PREBUILT, "warmstart:modelsDomain": "models.example.com", "warmstart:modelsAccess": "public" }).image.models).toEqual({ access: "public", baseUrl: "https://models.example.com" });
    expect(parseConfig({ ...PREBUILT, "warmstart:modelsAccess": "public" }).image.models).toBeUndefined();
  });

  test("an unknown build mode is reported alone: nothing is known to be built, so no host or key is asked for", () => {
    expect(configErrorLines({ "warmstart:imageBuild": "kaniko", "warmstart:modelsDomain": undefined, "warmstart:modelsAccessKey": undefined })).toEqual([
      'warmstart:imageBuild: must be one of cloudbuild | local | none, got "kaniko"',
    ]);
  });

  test("a missing key alone is reported", () => {
    expect(configErrorLines({ "warmstart:modelsAccessKey": undefined })).toEqual([
      'warmstart:modelsAccessKey: is required when warmstart:modelsAccess is "header" (the value the build sends and the WAF rule checks); set it with pulumi config set --secret warmstart:modelsAccessKey <value>',
    ]);
  });

  test("public access needs no key; presigned needs neither host nor key, but the account", () => {
    expect(parseConfig({ "warmstart:modelsAccess": "public", "warmstart:modelsAccessKey": undefined }).image.models).toEqual({ access: "public", baseUrl: "https://models.example.com" });
    expect(configErrorLines({ "warmstart:modelsAccess": "presigned", "warmstart:modelsDomain": undefined, "warmstart:modelsAccessKey": undefined })).toEqual([
      'warmstart:modelsAccess: "presigned" needs warmstart:cloudflareAccountId: the stack makes the bucket and the read token the URLs are signed with, got "presigned"',
    ]);
    const presigned = parseConfig({ "warmstart:modelsAccess": "presigned", "warmstart:cloudflareAccountId": CF_ACCOUNT, "warmstart:modelsDomain": undefined, "warmstart:modelsAccessKey": undefined });
    expect(presigned.image.models).toEqual({ access: "presigned", s3Endpoint: `https://${CF_ACCOUNT}.r2.cloudflarestorage.com`, bucket: "warmstart-models" });
    expect(presigned.modelsBucket).toMatchObject({ access: "presigned", domain: undefined, gate: undefined });
  });

  test("the stack's bucket: its name, jurisdiction endpoint, domain and zone, and the WAF gate's header", () => {
    const bucket = parseConfig({ ...CF, "warmstart:serviceName": "imagegen", "warmstart:modelsJurisdiction": "eu" }).modelsBucket;
    expect(bucket).toMatchObject({
      accountId: CF_ACCOUNT,
      bucketName: "imagegen-models",
      jurisdiction: "eu",
      s3Endpoint: `https://${CF_ACCOUNT}.eu.r2.cloudflarestorage.com`,
      access: "header",
      domain: { host: "models.example.com", zoneId: CF["warmstart:cloudflareZoneId"] },
      gate: { header: "X-Warmstart-Models-Key" },
      syncOnDeploy: false,
      huggingFaceToken: undefined,
    });
    expect(parseConfig({ ...CF, "warmstart:modelsAccess": "public" }).modelsBucket?.gate).toBeUndefined();
    expect(parseConfig().modelsBucket).toBeUndefined();
  });
});

describe("syncing the weights during pulumi up", () => {
  test("needs the stack's bucket", () => {
    expect(configErrorLines({ "warmstart:syncModelsOnDeploy": "true" })).toEqual([
      'warmstart:syncModelsOnDeploy: needs warmstart:cloudflareAccountId: the sync writes to the stack\'s own bucket with a token the stack makes, got "true"',
    ]);
    expect(parseConfig({ ...CF, "warmstart:syncModelsOnDeploy": "true" }).modelsBucket?.syncOnDeploy).toBe(true);
  });

  test("a Hugging Face token is only for that sync, and is never printed", () => {
    expect(configErrorLines({ ...CF, "warmstart:huggingFaceToken": "hf_abc" })).toEqual([
      "warmstart:huggingFaceToken: is only used by the sync during pulumi up; set warmstart:syncModelsOnDeploy true, or remove it (npm run models:sync reads HF_TOKEN), got [secret]",
    ]);
    const bucket = parseConfig({ ...CF, "warmstart:syncModelsOnDeploy": "true", "warmstart:huggingFaceToken": "hf_abc" }).modelsBucket;
    expect(bucket?.huggingFaceToken).toBeDefined();
  });
});

describe("the models manifest", () => {
  test("is read from the project root; its weights' fit on the L4 is a warning when they must be offloaded", () => {
    const c = parseConfig();
    expect(c.image.manifestPath).toBe("test/fixtures/models.json");
    expect(c.image.manifest.files.length).toBeGreaterThan(0);
    expect(c.image.offloadWarning).toBeUndefined();
  });

  test("a directory, the root itself or its parent is refused", () => {
    expect(configErrorLines({ "warmstart:modelsManifest": "test/fixtures" })).toEqual([`warmstart:modelsManifest: cannot read ${path.join(PROJECT_ROOT, "test/fixtures")} (EISDIR), got "test/fixtures"`]);
    for (const manifest of [".", "..", "test/../.."]) {
      expect(configErrorLines({ "warmstart:modelsManifest": manifest }), manifest).toEqual([
        `warmstart:modelsManifest: must lie inside the project root (symbolic links resolved): the program reads no file outside it; e.g. container/models.json, got "${manifest}"`,
      ]);
    }
  });

  test("a path outside the root is refused as such before anything is looked up there, even one that does not exist", () => {
    expect(configErrorLines({ "warmstart:modelsManifest": "../no-such-dir/models.json" })).toEqual([
      'warmstart:modelsManifest: must lie inside the project root (symbolic links resolved): the program reads no file outside it; e.g. container/models.json, got "../no-such-dir/models.json"',
    ]);
  });

  test("a missing file names the path it looked for", () => {
    expect(configErrorLines({ "warmstart:modelsManifest": "no/such.json" })).toEqual([`warmstart:modelsManifest: cannot read ${path.join(PROJECT_ROOT, "no/such.json")} (ENOENT), got "no/such.json"`]);
  });

  test("weights too big for the L4 and the instance's memory are refused; ones beyond the L4 alone warn of offloading", () => {
    const dir = projectTempDir("weights-");
    const manifest = (gib: number) => {
      const file = path.join(dir, `models-${gib}.json`);
      fs.writeFileSync(file, JSON.stringify({ files: [{ path: "unet/a.safetensors", size: gib * 1024 ** 3, sha256: "a".repeat(64), source: "https://example.com/a" }] }));
      return path.relative(PROJECT_ROOT, file);
    };
    const big = manifest(57);
    expect(configErrorLines({ "warmstart:modelsManifest": big })).toEqual([
      `warmstart:modelsManifest: ${big}: the weights total 57.0 GiB, more than the L4's 24.0 GiB plus the instance's 32 GiB can hold; use smaller (e.g. fp8) files or fewer models, got "${big}"`,
    ]);
    const offload = manifest(30);
    expect(parseConfig({ "warmstart:modelsManifest": offload }).image.offloadWarning).toMatch(/^test\/\.tmp\/.*: the weights total 30\.0 GiB, more than the L4's 24\.0 GiB; the model server will have to offload/);
  });

  test("a local build takes the manifest only from inside container/, Docker's build context", () => {
    expect(configErrorLines({ "warmstart:imageBuild": "local" })).toEqual([
      'warmstart:modelsManifest: must lie inside container/ when warmstart:imageBuild is "local": Docker only sees the build context, got "test/fixtures/models.json"',
    ]);
    expect(parseConfig({ "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/models.json" }).image.manifestPath).toBe("container/models.json");
    expect(parseConfig({ "warmstart:imageBuild": "cloudbuild" }).image.manifestPath).toBe("test/fixtures/models.json");
    expect(configErrorLines({ "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/none.json" })).toEqual([
      `warmstart:modelsManifest: cannot read ${path.join(PROJECT_ROOT, "container/none.json")} (ENOENT), got "container/none.json"`,
    ]);
  });
});

describe("a reference base image", () => {
  test("must exist; the message lists the ones there are", () => {
    expect(configErrorLines({ "warmstart:baseImage": "./images/tgi" })).toEqual([
      'warmstart:baseImage: names ./images/tgi, which has no Dockerfile; the reference images are ./images/comfyui, ./images/pyserver, ./images/pyserver/Dockerfile.cuda, got "./images/tgi"',
    ]);
    expect(configErrorLines({ "warmstart:baseImage": "./images/comfyui/Dockerfile.rocm" })).toEqual([
      'warmstart:baseImage: names ./images/comfyui/Dockerfile.rocm, which has no Dockerfile.rocm; the reference images are ./images/comfyui, ./images/pyserver, ./images/pyserver/Dockerfile.cuda, got "./images/comfyui/Dockerfile.rocm"',
    ]);
  });

  test("a project without reference images says so", () => {
    const root = projectTempDir("root-");
    fs.mkdirSync(path.join(root, "container"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "test/fixtures/models.json"), path.join(root, "container/models.json"));
    const config: Record<string, string> = { ...BASE_CONFIG, "warmstart:modelsManifest": "container/models.json", "warmstart:baseImage": "./images/comfyui" };
    const reasons = () => {
      try {
        parseStackConfig((k) => config[k], { rootDir: root, isEncrypted: () => true, presentKeys: Object.keys(config) });
        return [];
      } catch (e) {
        return (e as ConfigError).problems.map((p) => p.reason);
      }
    };
    expect(reasons()).toEqual(["names ./images/comfyui, which has no Dockerfile; the reference images are (none)"]);
    // A folder without a Dockerfile is no reference image.
    fs.mkdirSync(path.join(root, "images/notes"), { recursive: true });
    expect(reasons()).toEqual(["names ./images/comfyui, which has no Dockerfile; the reference images are (none)"]);
  });

  test("is built remotely: a local build is told how to build and push it itself", () => {
    expect(configErrorLines({ "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/models.json", "warmstart:baseImage": "./images/pyserver" })).toEqual([
      'warmstart:baseImage: a reference image (./images/pyserver) is built remotely; use warmstart:imageBuild cloudbuild, or build and push it yourself and name it, e.g. docker build -t REGION-docker.pkg.dev/PROJECT/REPO/pyserver:1 images/pyserver && docker push ..., then pulumi config set warmstart:baseImage REGION-docker.pkg.dev/PROJECT/REPO/pyserver:1, got "./images/pyserver"',
    ]);
  });
});

describe("the budget", () => {
  test("a billing account needs a positive monthly budget", () => {
    expect(configErrorLines({ ...BUDGET, "warmstart:monthlyBudget": "0" })).toEqual([
      'warmstart:monthlyBudget: must be a positive amount when warmstart:billingAccount is set (whole units of the account\'s currency), got "0"',
    ]);
    expect(configErrorLines({ "warmstart:billingAccount": "012345-6789AB-CDEF01" })).toHaveLength(1);
    expect(parseConfig({ ...BUDGET, "warmstart:monthlyBudget": "1" }).budget).toMatchObject({ billingAccount: "012345-6789AB-CDEF01", monthlyBudget: 1, guard: true, guardRatio: 1, guardMaxInstances: 1, dailySpendLimit: 0 });
  });

  test("a daily spend limit needs the budget and its guard; 0 needs neither", () => {
    expect(configErrorLines({ "warmstart:dailySpendLimit": "50" })).toEqual([
      'warmstart:dailySpendLimit: needs warmstart:billingAccount (the budget and its guard, which acts on the daily limit); set it, or set the limit to 0, got "50"',
    ]);
    expect(configErrorLines({ ...BUDGET, "warmstart:budgetGuard": "false", "warmstart:dailySpendLimit": "0.5" })).toEqual([
      'warmstart:dailySpendLimit: needs warmstart:budgetGuard true (the guard acts on the daily limit); set it, or set the limit to 0, got "0.5"',
    ]);
    expect(parseConfig({ "warmstart:dailySpendLimit": "0" }).budget.dailySpendLimit).toBe(0);
    expect(parseConfig({ ...BUDGET, "warmstart:dailySpendLimit": "50" }).budget.dailySpendLimit).toBe(50);
  });

  test("a daily limit the warm schedule alone would pass warns, with the hours and their cost; one it reaches exactly does not", () => {
    // Mondays 09:00-21:00 with two instances: 24 instance-hours in the busiest 24 h, at the default 8 vCPU / 32 GiB.
    const warm = { ...BUDGET, "warmstart:warmWindows": "mon 09:00-21:00 x2", "warmstart:warmLeadMinutes": "0", "warmstart:coldStartsPerDayObjective": "0" };
    const cost = 24 * instanceHourlyCost({ cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false }, DEFAULT_PRICES);
    expect(parseConfig({ ...warm, "warmstart:dailySpendLimit": String(cost) }).warnings).toEqual([]);
    expect(parseConfig({ ...warm, "warmstart:dailySpendLimit": "0" }).warnings).toEqual([]);
    expect(parseConfig({ ...warm, "warmstart:dailySpendLimit": "20" }).warnings).toEqual([
      `the warm schedule alone keeps 24 instance-hours warm in its busiest 24 h (about ${cost.toFixed(2)} USD), more than warmstart:dailySpendLimit (20): the budget guard would hold the service on such days; raise the limit or shorten warmstart:warmWindows`,
    ]);
    // Priced at the stack's own prices and shape: GPU zonal redundancy costs more.
    const redundant = 24 * instanceHourlyCost({ cpu: 8, memoryGiB: 32, gpuZonalRedundancy: true }, DEFAULT_PRICES);
    expect(parseConfig({ ...warm, "warmstart:gpuZonalRedundancy": "true", "warmstart:dailySpendLimit": String(cost) }).warnings).toEqual([expect.stringContaining(`(about ${redundant.toFixed(2)} USD)`)]);
    expect(parseConfig({ ...warm, "warmstart:prices": '{"l4PerSecond": 0}', "warmstart:dailySpendLimit": String(cost) }).warnings).toEqual([]);
  });

  test("a warm schedule's hours are rounded to a tenth in the warning", () => {
    const warm = { ...BUDGET, "warmstart:warmWindows": "mon 09:00-09:20", "warmstart:warmLeadMinutes": "0", "warmstart:coldStartsPerDayObjective": "0", "warmstart:dailySpendLimit": "0.01" };
    expect(parseConfig(warm).warnings).toEqual([expect.stringMatching(/^the warm schedule alone keeps 0\.3 instance-hours warm in its busiest 24 h \(about 0\.\d\d USD\), more than warmstart:dailySpendLimit \(0\.01\)/)]);
  });
});

describe("other warnings", () => {
  test("an example's made-up value, and a warm schedule that starts more instances a day than the cold-start objective", () => {
    const c = parseConfig({ "gcp:project": "acme-imagegen-prod", "warmstart:warmWindows": "mon 09:00-10:00; mon 11:00-12:00", "warmstart:coldStartsPerDayObjective": "2" });
    expect(c.warnings).toEqual([
      expect.stringMatching(/^gcp:project is still the example's made-up value "acme-imagegen-prod"/),
      expect.stringMatching(/^warmstart:coldStartsPerDayObjective is 2 \(fewer than 2 cold starts in 24 h\), but the warm windows alone start 2 instances/),
    ]);
    expect(parseConfig({ "warmstart:warmWindows": "mon 09:00-10:00; mon 11:00-12:00", "warmstart:coldStartsPerDayObjective": "3" }).warnings).toEqual([]);
  });
});

describe("the model server's environment", () => {
  test("a variable set both plainly and from Secret Manager is refused, naming it", () => {
    expect(configErrorLines({ "warmstart:modelServerEnv": '{"HF_TOKEN":"x","A":"1"}', "warmstart:modelServerSecrets": '{"HF_TOKEN":"hf-token","B":"b"}' })).toEqual([
      "warmstart:modelServerSecrets: names HF_TOKEN, which warmstart:modelServerEnv sets too; keep each variable in one of them",
    ]);
    expect(configErrorLines({ "warmstart:modelServerEnv": '{"A":"1","B":"2"}', "warmstart:modelServerSecrets": '{"B":"b","A":"a"}' })).toEqual([
      "warmstart:modelServerSecrets: names A, B, which warmstart:modelServerEnv sets too; keep each variable in one of them",
    ]);
  });
});

describe("latency objectives and the request timeout", () => {
  test("an objective must be below the timeout: equal to it could never be missed", () => {
    expect(parseConfig({ "warmstart:requestTimeoutSeconds": "26" }).service.requestTimeoutSeconds).toBe(26);
    expect(configErrorLines({ "warmstart:requestTimeoutSeconds": "25" })).toEqual([
      'warmstart:latencyObjectiveSeconds: asks p99 for 25 s, not below warmstart:requestTimeoutSeconds (25 s): every request ends by then, so the objective could never be missed; lower it, e.g. {"p50":5,"p90":10,"p99":25}, or raise the timeout, got "{\\"p50\\":5,\\"p90\\":10,\\"p99\\":25}"',
    ]);
    expect(configErrorLines({ "warmstart:requestTimeoutSeconds": "60", "warmstart:latencyObjectiveSeconds": '{"p50":60,"p90":90}' })).toEqual([
      'warmstart:latencyObjectiveSeconds: asks p50 for 60 s, not below warmstart:requestTimeoutSeconds (60 s): every request ends by then, so the objective could never be missed; lower it, e.g. {"p50":5,"p90":10,"p99":25}, or raise the timeout, got "{\\"p50\\":60,\\"p90\\":90}"',
    ]);
  });
});

describe("CI access", () => {
  test("a GitHub repository needs the state bucket", () => {
    expect(configErrorLines({ "warmstart:githubRepository": "acme/infra" })).toEqual(["warmstart:stateBucket: is required when warmstart:githubRepository is set: the bucket of your gs:// Pulumi backend"]);
    expect(parseConfig({ "warmstart:githubRepository": "acme/infra", "warmstart:stateBucket": "acme-state" }).ci).toEqual({ githubRepository: "acme/infra", stateBucket: "acme-state", secretsKmsKey: undefined });
  });
});

describe("warm-up origins", () => {
  test("are refused on a private service, and fine with none on it", () => {
    expect(configErrorLines({ "warmstart:warmupOrigins": "https://app.example.com" })[0]).toMatch(/^warmstart:warmupOrigins: needs warmstart:public true: .*, got "\[\\"https:\/\/app\.example\.com\\"\]"$/);
    expect(parseConfig({ "warmstart:warmupOrigins": "" }).service.warmupOrigins).toEqual([]);
  });
});
