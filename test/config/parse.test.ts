import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import type { ConfigError } from "../../config/parse";
import { KEYS, yamlValueToConfigString } from "../../config/keys";
import { readProjectFile } from "../../scripts/stackFiles";
import { BASE_CONFIG, lastResources, projectTempDir, runStack } from "../harness";
import { configError, configProblems, parseConfig } from "../support/stackConfig";

const ROOT = path.resolve(__dirname, "../..");

describe("Pulumi.yaml and config/parse.ts", () => {
  const project = readProjectFile(ROOT);

  const isSecret = (name: string) => Boolean("secret" in KEYS[name as keyof typeof KEYS] && (KEYS[name as keyof typeof KEYS] as { secret?: boolean }).secret);
  const plainKeys = Object.entries(KEYS).filter(([name]) => !isSecret(name));

  test("declare the same keys, except secrets, which the CLI would require in every stack", () => {
    expect(Object.keys(project.config).sort()).toEqual(plainKeys.map(([k]) => `warmstart:${k}`).sort());
  });

  test("Pulumi.yaml's header names every secret key and how to set it", () => {
    const header = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").split("\nconfig:")[0];
    const secrets = Object.keys(KEYS).filter(isSecret);
    expect(secrets.length).toBeGreaterThan(0);
    for (const name of secrets) expect(header).toContain(`pulumi config set --secret warmstart:${name}`);
  });

  test.each(plainKeys)("agree on %s: type, default and description", (name, spec) => {
    const declared = project.config[`warmstart:${name}`];
    expect(declared.type).toBe(spec.type);
    expect(declared.default).toEqual(spec.default);
    expect(declared.secret).toBeUndefined();
    expect(declared.description).toBe(spec.description);
  });

  test("every default parses as a valid value of its key", () => {
    for (const [name, spec] of Object.entries(KEYS)) {
      if (spec.default === undefined) continue;
      const def = spec.default;
      expect(() => spec.parse(yamlValueToConfigString(def)), name).not.toThrow();
    }
  });
});

describe("parsed defaults", () => {
  const config = parseConfig();

  test("give an 8 vCPU / 32 GiB L4 service with one request at a time and 2 instances at most", () => {
    expect(config.service).toMatchObject({ cpu: 8, memory: "32Gi", memoryGiB: 32, concurrency: 1, maxInstances: 2, gpuZonalRedundancy: false, public: false, deletionProtection: true, invokers: [] });
  });

  test("never keep the service warm when no window is set", () => {
    expect(config.warm.schedule.jobs).toEqual([]);
    expect(config.warm.schedule.levels.every((l) => l === 0)).toBe(true);
  });

  test("build ComfyUI's reference image (images/comfyui) as the model server: the Dockerfile's default command runs ComfyUI", () => {
    const defaults = parseConfig({ "warmstart:baseImage": undefined });
    expect(defaults.image.baseReference).toEqual({ folder: "images/comfyui", dockerfile: "Dockerfile", imageName: "base-comfyui" });
    expect(defaults.service.modelServer.command).toMatch(/ComfyUI\/main\.py/);
  });

  test("aim for the users' objectives: fewer than 5 cold starts a day, p50/p90/p99 under 5/10/25 s", () => {
    expect(config.objectives).toEqual({
      coldStartsPerDay: 5,
      latency: [
        { percentile: 50, seconds: 5 },
        { percentile: 90, seconds: 10 },
        { percentile: 99, seconds: 25 },
      ],
    });
  });

  test("build the image remotely, reading the weights from the models domain with the access header", () => {
    expect(config.image.mode).toBe("cloudbuild");
    expect(config.image.models).toMatchObject({ access: "header", baseUrl: "https://models.example.com", header: "X-Warmstart-Models-Key" });
    expect(pulumi.Output.isInstance(config.image.models?.access === "header" && config.image.models.key)).toBe(true);
  });
});

// Each bad value: [key, value, what the message must say]. The run must fail with the key named and register nothing.
const BAD_VALUES: [string, string, RegExp][] = [
  ["warmstart:maxInstances", "lots", /must be an integer 1\.\.100, got "lots"/],
  ["warmstart:maxInstances", "0", /must be an integer 1\.\.100/],
  ["warmstart:maxInstances", "2.5", /must be an integer/],
  ["warmstart:cpu", "2", /must be an integer 4\.\.8/],
  ["warmstart:cpu", "5", /must be 4, 6 or 8/],
  ["warmstart:memory", "8Gi", /16Gi\.\.32Gi/],
  ["warmstart:memory", "32GB", /size like "32Gi"/],
  ["warmstart:concurrency", "0", /integer 1\.\.1000/],
  ["warmstart:requestTimeoutSeconds", "7200", /integer 1\.\.3600/],
  ["warmstart:maxColdStartSeconds", "600", /at most 480: Cloud Run caps a startup probe/],
  ["warmstart:gpuZonalRedundancy", "yes", /must be true or false/],
  ["warmstart:public", "1", /must be true or false/],
  ["warmstart:invokers", '["allUsers"]', /set warmstart:public true/],
  ["warmstart:invokers", "alice@example.com", /must be an IAM member/],
  ["warmstart:invokers", "[1, 2]", /list of strings/],
  ["warmstart:invokers", '["user:a@example.com","group:g@example.com","user:a@example.com"]', /item "user:a@example.com" appears twice/],
  ["warmstart:imageBuild", "kaniko", /one of cloudbuild \| local \| none/],
  ["warmstart:buildMachineType", "N1_HIGHCPU_32", /must be one of E2_HIGHCPU_8 \| E2_HIGHCPU_32/],
  ["warmstart:image", "myimage:latest", /by digest/],
  ["warmstart:timezone", "Mars/Olympus", /must be an IANA time zone name such as America\/New_York, Europe\/London or UTC, got/],
  // EST is a fixed UTC-5 (no daylight saving): a New York team's windows would run an hour late all summer.
  ["warmstart:timezone", "EST", /abbreviation names no daylight-saving rule\); did you mean America\/New_York\?/],
  ["warmstart:timezone", "PST", /did you mean America\/Los_Angeles\?/],
  ["warmstart:timezone", "europe/london", /did you mean Europe\/London\?/],
  ["warmstart:timezone", "Japan", /did you mean Asia\/Tokyo\?/],
  ["warmstart:warmWindows", "mon 25:00-26:00", /time 25:00 is not a valid time/],
  ["warmstart:warmWindows", "funday 09:00-10:00", /unknown day "funday"/],
  // Read as "runs into the next day" it would be 24 h warm on weekdays, about $785 a month.
  ["warmstart:warmWindows", "weekdays 09:00-09:00", /window "weekdays 09:00-09:00": starts and ends at 09:00, so it is empty; a whole day is written 00:00-24:00, e\.g\. "weekdays 00:00-24:00"$/],
  ["warmstart:warmWindows", "weekdays 09:00-17:00,sat 10:00-14:00", /holds 2 windows; separate windows with ";" \(a comma joins days within one window\), e\.g\. "weekdays 09:00-17:00; sat 10:00-14:00"$/],
  ["warmstart:warmWindows", "weekdays 09:00-17:00 x3", /count x3 is more than warmstart:maxInstances \(2\); lower the count, e\.g\. "weekdays 09:00-17:00 x2", or raise warmstart:maxInstances to 3 \(pulumi config set warmstart:maxInstances 3\)$/],
  ["warmstart:warmWindows", '["weekdays 09:00-17:00; sat 10:00-14:00"]', /item 1 of the list \("weekdays 09:00-17:00; sat 10:00-14:00"\) holds several windows: in a list, put one window per item/],
  ["warmstart:warmWindows", '["weekdays 09:00-17:00", 3]', /as a list, must hold one window per item, each a string/],
  ["warmstart:maxInstance", "3", /^ *warmstart:maxInstance: is not a key of this stack; did you mean warmstart:maxInstances\? \(pulumi config rm warmstart:maxInstance, then pulumi config set warmstart:maxInstances <value>\)$/],
  ["warmstart:warmwindows", "weekdays 09:00-17:00", /did you mean warmstart:warmWindows\?/],
  ["warmstart:budgetAlertEmail", "a@example.com", /is not a key of this stack \(docs\/configuration.md lists them all\); remove it with pulumi config rm warmstart:budgetAlertEmail$/],
  ["warmstart:warmLeadMinutes", "300", /integer 0\.\.240/],
  ["warmstart:idleMinInstances", "5", /must not exceed warmstart:maxInstances \(2\)/],
  ["warmstart:serviceName", "My_Service", /lowercase letters/],
  ["warmstart:modelsDomain", "https://models.example.com/", /host name/],
  ["warmstart:modelsManifest", "no/such/file.json", /cannot read/],
  ["gcp:region", "us-west1", /no Cloud Run L4 GPUs; use one of .*us-central1/],
  ["warmstart:modelsAccessHeader", "X Key", /HTTP header name/],
  ["warmstart:modelsAccessHeader", "Host", /"Host" is a header proxies and the WAF treat specially \(routing\).*e\.g\. the default X-Warmstart-Models-Key/],
  ["warmstart:modelsAccessHeader", "authorization", /"authorization" is a header proxies and the WAF treat specially \(credentials\).*X-Warmstart-Models-Key/],
  ["warmstart:modelsAccessHeader", "Proxy-Authorization", /treat specially \(credentials\)/],
  ["warmstart:modelsAccessHeader", "Cookie", /treat specially \(credentials\)/],
  ["warmstart:modelsAccessHeader", "Connection", /treat specially \(hop-by-hop\)/],
  ["warmstart:modelsAccessHeader", "TRANSFER-ENCODING", /treat specially \(hop-by-hop\)/],
  ["warmstart:modelsAccessHeader", "Content-Length", /treat specially \(message framing\)/],
  ["warmstart:modelsAccessHeader", "X-Forwarded-For", /treat specially \(routing\)/],
  ["warmstart:modelsAccessHeader", "Range", /treat specially \(set by the fetcher\)/],
  ["warmstart:modelsAccessHeader", "CF-Connecting-IP", /treat specially \(set by Cloudflare\)/],
  ["warmstart:modelsAccess", "signed", /one of header \| presigned \| public/],
  ["warmstart:secretsKmsKey", "projects/acme-test-123/locations/global/keyRings/my ring/cryptoKeys/k", /key ring id must be 1-63 letters, digits, _ or -.*e\.g\. projects\/acme-prod\/locations\/global/],
  ["warmstart:secretsKmsKey", 'projects/acme-test-123/locations/global/keyRings/pulumi/cryptoKeys/k"', /key id must be 1-63 letters, digits, _ or -/],
  ["warmstart:secretsKmsKey", "projects/acme-test-123/locations/global/keyRings/pulumi/cryptoKeys/a\nb", /key id must be 1-63/],
  ["warmstart:secretsKmsKey", `projects/acme-test-123/locations/global/keyRings/${"r".repeat(64)}/cryptoKeys/k`, /key ring id must be 1-63/],
  ["warmstart:secretsKmsKey", "projects/acme-test-123/locations/Global Region/keyRings/pulumi/cryptoKeys/k", /location must be a Cloud KMS location such as global/],
  ["warmstart:secretsKmsKey", "projects/Acme Test/locations/global/keyRings/pulumi/cryptoKeys/k", /project must be a project id/],
  ["warmstart:secretsKmsKey", "projects/acme-test-123/locations/global/keyRings/pulumi", /must be projects\/P\/locations\/L\/keyRings\/R\/cryptoKeys\/K/],
  ["warmstart:modelsAccess", "presigned", /"presigned" needs warmstart:cloudflareAccountId/],
  ["warmstart:coldStartsPerDayObjective", "-1", /must be an integer 0\.\.1000, got "-1"/],
  ["warmstart:coldStartsPerDayObjective", "five", /must be an integer 0\.\.1000/],
  ["warmstart:latencyObjectiveSeconds", "10", /must be a JSON object of percentile to seconds, e\.g\. \{"p50":5,"p90":10,"p99":25\}/],
  ["warmstart:latencyObjectiveSeconds", '{"p90":"10s"}', /has p90: "10s"; each objective is a number of seconds above 0 and at most 3600, e\.g\. \{"p50":5/],
  ["warmstart:latencyObjectiveSeconds", '{"90":10}', /has "90", which is not a percentile: write p followed by 1\.\.99\.9 \(p50, p90, p99, p99\.9\)/],
  ["warmstart:latencyObjectiveSeconds", '{"p100":10}', /has "p100", which is not a percentile/],
  ["warmstart:latencyObjectiveSeconds", '{"p50":10,"p90":5}', /asks p90 for 5 s but p50 for 10 s: a higher percentile cannot be faster than a lower one/],
  ["warmstart:latencyObjectiveSeconds", '{"p99":600}', /asks p99 for 600 s, not below warmstart:requestTimeoutSeconds \(600 s\): every request ends by then/],
];

describe("invalid config", () => {
  test.each(BAD_VALUES)("%s = %j is rejected with the key named and no resource registered", async (key, value, message) => {
    const error = await runStack({ [key]: value }).catch((e: unknown) => e);
    // The program is re-imported per run, so its ConfigError is another class object than ours: compare by name.
    expect((error as Error).name).toBe("ConfigError");
    const line = (error as ConfigError).message.split("\n").find((l) => l.trim().startsWith(`${key}:`));
    expect(line, (error as Error).message).toMatch(message);
    expect(lastResources).toEqual([]);
  });

  test("lists every offending key in one error, so all can be fixed at once", async () => {
    const error = (await runStack({ "warmstart:cpu": "3", "warmstart:maxInstances": "lots", "warmstart:timezone": "Nowhere" }).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems.map((p) => p.key).sort()).toEqual(["warmstart:cpu", "warmstart:maxInstances", "warmstart:timezone"]);
    expect(error.message).toMatch(/^Invalid stack configuration \(3 problems\):/);
  });

  test("names required keys that are missing", async () => {
    const error = (await runStack({}, { unset: ["gcp:project", "warmstart:modelsAccessKey"] }).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems.map((p) => p.key).sort()).toEqual(["gcp:project", "warmstart:modelsAccessKey"]);
    expect(error.message).toMatch(/pulumi config set --secret warmstart:modelsAccessKey/);
    expect(lastResources).toEqual([]);
  });

  test("refuses a secret stored in plain text (set without --secret), without printing it", async () => {
    const error = (await runStack({}, { plainText: ["warmstart:modelsAccessKey"] }).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems.map((p) => p.key)).toEqual(["warmstart:modelsAccessKey"]);
    expect(error.message).toMatch(/stored in plain text.*pulumi config set --secret warmstart:modelsAccessKey/);
    expect(error.message).not.toContain(BASE_CONFIG["warmstart:modelsAccessKey"]);
    expect(lastResources).toEqual([]);
  });

  test("never prints a secret's value in an error", async () => {
    const error = (await runStack({ "warmstart:modelsAccessKey": "   " }).catch((e: unknown) => e)) as ConfigError;
    expect(error.message).toMatch(/warmstart:modelsAccessKey: must not be empty, got \[secret\]/);
  });

  test("a prebuilt image needs no models domain or key", async () => {
    const image = `us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(64)}`;
    const run = await runStack({ "warmstart:imageBuild": "none", "warmstart:image": image }, { unset: ["warmstart:modelsDomain", "warmstart:modelsAccessKey"] });
    expect(run.one("gcp:cloudrunv2/service:Service").inputs.template).toMatchObject({ containers: [{ image }] });
  });
});

describe("secret values", () => {
  const CF = { "warmstart:cloudflareAccountId": "0123456789abcdef0123456789abcdef", "warmstart:cloudflareZoneId": "fedcba9876543210fedcba9876543210" };

  test.each([
    ["a line break", "first-line\nInjected-Header: injected"],
    ["a carriage return", "first-line\rsecond"],
    ["a NUL", "first\u0000second"],
    ["a tab inside", "first\tsecond"],
    ["a non-ASCII character", "clé-privée-42"],
  ])("a models key with %s is refused, naming the key and never the value", async (_what, value) => {
    const error = (await runStack({ "warmstart:modelsAccessKey": value }).catch((e: unknown) => e)) as ConfigError;
    expect(error.name).toBe("ConfigError");
    expect(error.message).toMatch(/warmstart:modelsAccessKey: must be printable ASCII .*, got \[secret\]/);
    for (const part of value.split(/[^!-~]+/).filter((p) => p.length > 2)) expect(error.message).not.toContain(part);
    expect(lastResources).toEqual([]);
  });

  test("surrounding whitespace (a pasted line end) is dropped: the build's header line and the WAF rule carry the same key", async () => {
    const run = await runStack({ ...CF, "warmstart:modelsAccessKey": "  k3y-value \r\n" });
    expect(run.one("gcp:secretmanager/secretVersion:SecretVersion").plainInputs.secretData).toBe("X-Warmstart-Models-Key: k3y-value");
    const rule = (run.one("cloudflare:index/ruleset:Ruleset").plainInputs as any).rules[0];
    expect(rule.expression).toMatch(/\[\*\] eq "k3y-value"\)\)$/);
  });

  test("the Hugging Face token follows the same rule", async () => {
    const config = { ...CF, "warmstart:syncModelsOnDeploy": "true", "warmstart:modelsManifest": "container/models.json", "warmstart:huggingFaceToken": "hf_abc\nhf_def" };
    const error = (await runStack(config).catch((e: unknown) => e)) as ConfigError;
    expect(error.message).toMatch(/warmstart:huggingFaceToken: must be printable ASCII/);
    expect(error.message).not.toContain("hf_");
  });
});

describe("the models manifest path", () => {
  const refused = async (manifest: string) => {
    const error = (await runStack({ "warmstart:modelsManifest": manifest }).catch((e: unknown) => e)) as ConfigError;
    expect(error.name).toBe("ConfigError");
    expect(lastResources).toEqual([]);
    return error.message;
  };
  const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-outside-")), "models.json");
  fs.writeFileSync(outside, JSON.stringify({ files: [{ path: "unet/a.safetensors", size: 1, sha256: "f".repeat(64) }] }));

  test("must stay inside the project root: ../ is refused before the file is read, and nothing of it is quoted", async () => {
    const message = await refused("../../../../etc/passwd");
    expect(message).toMatch(/warmstart:modelsManifest: must lie inside the project root .*e\.g\. container\/models\.json, got "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd"/);
    expect(message).not.toMatch(/root:|not valid JSON/);
  });

  test("an absolute path outside the root, even to a valid manifest, is refused", async () => {
    expect(await refused(outside)).toMatch(/must lie inside the project root/);
  });

  test("a symbolic link inside the root that leads out of it is refused", async () => {
    const dir = projectTempDir("link-");
    fs.symlinkSync("/etc/passwd", path.join(dir, "passwd.json"));
    fs.symlinkSync(outside, path.join(dir, "models.json"));
    for (const link of ["passwd.json", "models.json"]) {
      const message = await refused(path.relative(ROOT, path.join(dir, link)));
      expect(message).toMatch(/must lie inside the project root \(symbolic links resolved\)/);
      expect(message).not.toContain("root:");
    }
  });

  test("a path that only passes through ../ and stays inside is fine", async () => {
    const run = await runStack({ "warmstart:modelsManifest": "test/../test/fixtures/models.json" });
    expect(run.resources.length).toBeGreaterThan(0);
  });

  test("a file inside the root that is not JSON is refused without quoting its contents", async () => {
    const message = await refused("README.md");
    expect(message).toMatch(/warmstart:modelsManifest: README\.md: invalid models manifest:\n\s+- not valid JSON; a manifest looks like \{"files"/);
    expect(message).not.toContain(fs.readFileSync(path.join(ROOT, "README.md"), "utf8").slice(0, 10));
  });

  test("an entry's wrong values are named by position and rule, not quoted", async () => {
    const dir = projectTempDir("manifest-");
    const file = path.join(dir, "models.json");
    fs.writeFileSync(file, JSON.stringify({ files: [{ path: "../tok_SECRET_path", size: "tok_SECRET_size", sha256: "tok_SECRET_sha", source: "tok_SECRET_src" }] }));
    const message = await refused(path.relative(ROOT, file));
    expect(message).toContain('files[0]: "path" must not contain "..", "." or empty segments');
    expect(message).toContain('files[0]: "size" must be a positive whole number of bytes');
    expect(message).toContain('files[0]: "sha256" must be 64 lowercase hex digits');
    expect(message).toContain('files[0]: "source" must be an http(s) URL');
    expect(message).not.toContain("tok_SECRET");
  });
});

describe("warmstart:warmWindows", () => {
  const parse = (value: string) => parseConfig({ "warmstart:warmWindows": value });

  test("a YAML list (one window per item) gives the same schedule as the string with ';'", () => {
    const fromList = parse(JSON.stringify(["weekdays 09:00-21:00", "sat,sun 12:00-18:00 x2"]));
    const fromString = parse("weekdays 09:00-21:00; sat,sun 12:00-18:00 x2");
    expect(fromList.warm.schedule.jobs).toEqual(fromString.warm.schedule.jobs);
    expect(fromList.warm.windowsText).toBe("weekdays 09:00-21:00; sat,sun 12:00-18:00 x2");
  });

  test("a refused window is quoted once: the message does not repeat the whole value after it", () => {
    const value = "weekdays 09:00-21:00; sat 10:00-14:00; sun 09:00-09:00";
    const message = (() => {
      try {
        parse(value);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    const line = message!.split("\n").find((l) => l.includes("warmstart:warmWindows:"))!;
    expect(line).toContain('window "sun 09:00-09:00"');
    expect(line).not.toContain(value);
  });

  test("00:00-24:00 is a whole day, accepted", () => {
    expect(parse("sat 00:00-24:00").warm.schedule.jobs.length).toBeGreaterThan(0);
  });
});

describe("limits at their boundary", () => {
  const parse = parseConfig;
  const problems = configProblems;

  test("memory: exactly 4 GiB per vCPU is allowed, a MiB more is refused naming the vCPUs", () => {
    expect(parse({ "warmstart:cpu": "4", "warmstart:memory": "16Gi" }).service.memoryGiB).toBe(16);
    expect(parse({ "warmstart:cpu": "6", "warmstart:memory": "24576Mi" }).service.memoryGiB).toBe(24);
    expect(problems({ "warmstart:cpu": "6", "warmstart:memory": "24577Mi" })).toEqual([expect.stringMatching(/^warmstart:memory: is more than 6 vCPUs allow \(4 GiB per vCPU\)/)]);
    expect(problems({ "warmstart:cpu": "4", "warmstart:memory": "17Gi" })).toEqual([expect.stringMatching(/^warmstart:memory: is more than 4 vCPUs allow/)]);
  });

  test("memory: 16Gi and 32Gi are Cloud Run's GPU range, inclusive", () => {
    expect(parse({ "warmstart:memory": "32Gi" }).service.memoryGiB).toBe(32);
    expect(parse({ "warmstart:memory": "16384Mi" }).service.memoryGiB).toBe(16);
    expect(problems({ "warmstart:memory": "16383Mi" })).toEqual([expect.stringMatching(/^warmstart:memory: must be 16Gi\.\.32Gi/)]);
    expect(problems({ "warmstart:memory": "33Gi" })).toEqual([expect.stringMatching(/^warmstart:memory: must be 16Gi\.\.32Gi/)]);
  });

  test("guardMaxInstances, warmMinInstances and idleMinInstances may equal maxInstances, not exceed it", () => {
    const at = { "warmstart:maxInstances": "3", "warmstart:guardMaxInstances": "3", "warmstart:warmMinInstances": "3", "warmstart:idleMinInstances": "3" };
    const c = parse(at);
    expect(c.budget.guardMaxInstances).toBe(3);
    expect(c.service.maxInstances).toBe(3);
    expect(problems({ ...at, "warmstart:guardMaxInstances": "4", "warmstart:warmMinInstances": "4", "warmstart:idleMinInstances": "4" }).sort()).toEqual([
      "warmstart:guardMaxInstances: must not exceed warmstart:maxInstances (3)",
      "warmstart:idleMinInstances: must not exceed warmstart:maxInstances (3)",
      "warmstart:warmMinInstances: must not exceed warmstart:maxInstances (3)",
    ]);
  });
});

describe("warmstart:warmupOrigins", () => {
  const parse = parseConfig;
  const problem = (over: Record<string, string>) => configError(over)?.message.split("\n").find((l) => l.includes("warmstart:warmupOrigins:"));

  test("a public service takes the origins of the pages that warm it, as a list or comma-separated", () => {
    expect(parse({ "warmstart:public": "true", "warmstart:warmupOrigins": '["https://app.example.com","http://localhost:3000"]' }).service.warmupOrigins).toEqual(["https://app.example.com", "http://localhost:3000"]);
    expect(parse({ "warmstart:public": "true", "warmstart:warmupOrigins": "https://app.example.com, https://www.example.com" }).service.warmupOrigins).toEqual(["https://app.example.com", "https://www.example.com"]);
    expect(parse({}).service.warmupOrigins).toEqual([]);
  });

  test("a private service refuses them: a browser cannot get through Cloud Run's IAM check; the backend pattern is named", () => {
    expect(problem({ "warmstart:warmupOrigins": '["https://app.example.com"]' })).toMatch(/needs warmstart:public true: .*before the supervisor sees it; warm a private service from your app's backend instead \(docs\/prewarm\.md\)/);
  });

  test.each([
    ["*", /item "\*" must be one origin, not a wildcard/],
    ["https://app.example.com/", /item "https:\/\/app\.example\.com\/" must be written as the browser sends it, scheme:\/\/host\[:port\] with no path, e\.g\. https:\/\/app\.example\.com,/],
    ["app.example.com", /item "app\.example\.com" must be an origin, scheme:\/\/host\[:port\]/],
    ["https://app.example.com,https://app.example.com", /appears twice/],
  ])("%j is refused naming the item: %s", (value, message) => {
    expect(problem({ "warmstart:public": "true", "warmstart:warmupOrigins": value })).toMatch(message);
  });
});

test("IANA names are accepted, links included, whatever the runtime's own list says", () => {
  for (const zone of ["UTC", "Etc/UTC", "Asia/Kolkata", "Asia/Calcutta", "Europe/Kyiv", "Europe/Kiev", "America/Argentina/Buenos_Aires", "US/Eastern"]) {
    expect(() => parseConfig({ "warmstart:timezone": zone }), zone).not.toThrow();
  }
});
