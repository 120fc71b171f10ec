import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { buildDiskSizeGb } from "../../../components/image/cloudBuild";
import { imageContentHash, manifestSourcesHash } from "../../../components/image/contentHash";
import { ABORT_MULTIPART_AFTER_SECONDS, R2_READ_PERMISSION, R2_WRITE_PERMISSION } from "../../../components/models/modelsBucket";
import { gateExpression } from "../../../components/models/modelsGate";
import { SECRET_MASK } from "../../../scripts/offline";
import { BASE_CONFIG, lastResources, runStack, sharedStackRun } from "../../harness";

const ROOT = path.resolve(__dirname, "../../..");

const CF = {
  "warmstart:cloudflareAccountId": "0123456789abcdef0123456789abcdef",
  "warmstart:cloudflareZoneId": "fedcba9876543210fedcba9876543210",
};

/** Evaluates the gate's expression form on a request, as Cloudflare would: true = blocked. */
function blocks(expression: string, req: { host: string; headers: Record<string, string[]> }): boolean {
  const str = `"((?:[^"\\\\]|\\\\.)*)"`;
  const m = new RegExp(`^\\(http\\.host eq ${str} and not any\\(http\\.request\\.headers\\[${str}\\]\\[\\*\\] eq ${str}\\)\\)$`).exec(expression);
  if (!m) throw new Error(`not the gate's form: ${expression}`);
  const [host, header, key] = m.slice(1).map((s) => s.replace(/\\(.)/g, "$1"));
  return req.host === host && !(req.headers[header] ?? []).some((v) => v === key);
}

describe("models gate expression", () => {
  const expr = gateExpression("models.example.com", "X-Warmstart-Models-Key", 'k"e\\y');
  test("blocks the models host without the header or with a wrong value", () => {
    expect(blocks(expr, { host: "models.example.com", headers: {} })).toBe(true);
    expect(blocks(expr, { host: "models.example.com", headers: { "x-warmstart-models-key": ["nope"] } })).toBe(true);
  });
  test("lets the right key through, quoted safely", () => {
    expect(blocks(expr, { host: "models.example.com", headers: { "x-warmstart-models-key": ['k"e\\y'] } })).toBe(false);
  });
  test("never touches the zone's other hosts", () => {
    for (const host of ["example.com", "www.example.com", "models.example.com.evil.io", "xmodels.example.com"]) expect(blocks(expr, { host, headers: {} }), host).toBe(false);
  });
});

describe("models bucket", () => {
  test("an R2 bucket on the custom domain with TLS 1.2, r2.dev off, and the multipart abort rule in seconds", async () => {
    const run = await runStack({ ...CF, "warmstart:modelsLocationHint": "weur" });
    expect(run.one("cloudflare:index/r2Bucket:R2Bucket").inputs).toMatchObject({ accountId: CF["warmstart:cloudflareAccountId"], name: "warmstart-models", location: "weur", jurisdiction: "default" });
    expect(run.one("cloudflare:index/r2CustomDomain:R2CustomDomain").inputs).toMatchObject({ domain: "models.example.com", zoneId: CF["warmstart:cloudflareZoneId"], minTls: "1.2", enabled: true, bucketName: "warmstart-models" });
    expect(run.one("cloudflare:index/r2ManagedDomain:R2ManagedDomain").inputs).toMatchObject({ enabled: false, bucketName: "warmstart-models" });
    const rules = (run.one("cloudflare:index/r2BucketLifecycle:R2BucketLifecycle").inputs as any).rules;
    expect(rules).toEqual([{ id: "abort-incomplete-multipart-uploads", enabled: true, conditions: { prefix: "" }, abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 259200 } } }]);
    expect(ABORT_MULTIPART_AFTER_SECONDS).toBe(3 * 24 * 3600);
    for (const t of ["r2CustomDomain:R2CustomDomain", "r2ManagedDomain:R2ManagedDomain", "r2BucketLifecycle:R2BucketLifecycle"]) {
      expect(run.one(`cloudflare:index/${t}`).inputs.jurisdiction, t).toBe("default");
    }
  });

  test("the gate is a zone WAF custom rule, secret in state, and exists before the domain is connected", async () => {
    const run = await sharedStackRun(CF);
    const gate = run.one("cloudflare:index/ruleset:Ruleset");
    expect(gate.inputs).toMatchObject({ zoneId: CF["warmstart:cloudflareZoneId"], kind: "zone", phase: "http_request_firewall_custom" });
    expect((gate.inputs as any).rules).toEqual(SECRET_MASK);
    const rule = (gate.plainInputs as any).rules[0];
    expect(rule.action).toBe("block");
    expect(rule.expression).toBe(gateExpression("models.example.com", "X-Warmstart-Models-Key", BASE_CONFIG["warmstart:modelsAccessKey"]));
    expect(run.one("cloudflare:index/r2CustomDomain:R2CustomDomain").dependencies).toContain(gate.urn);
  });

  test("modelsAccess public removes the gate and warns", async () => {
    const run = await runStack({ ...CF, "warmstart:modelsAccess": "public" });
    expect(run.ofType("cloudflare:index/ruleset:Ruleset")).toEqual([]);
    expect(run.warnings).toContainEqual(expect.stringMatching(/modelsAccess is "public": anyone who knows https:\/\/models\.example\.com/));
  });

  test("exports the base URL, the S3 endpoint and the bucket name", async () => {
    const run = await sharedStackRun(CF);
    expect(run.outputs).toMatchObject({
      modelsBaseUrl: "https://models.example.com",
      modelsS3Endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
      modelsBucketName: "warmstart-models",
    });
  });

  test("not managed without a Cloudflare account; the zone is required with one", async () => {
    expect((await runStack()).ofType("cloudflare:index/r2Bucket:R2Bucket")).toEqual([]);
    const error = (await runStack({ "warmstart:cloudflareAccountId": CF["warmstart:cloudflareAccountId"] }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/warmstart:cloudflareZoneId: is required when warmstart:cloudflareAccountId is set/);
    const bad = (await runStack({ ...CF, "warmstart:modelsLocationHint": "mars" }).catch((e: unknown) => e)) as Error;
    expect(bad.message).toMatch(/warmstart:modelsLocationHint: must be one of "" \| wnam/);
  });
});

test("the image build waits for the models bucket and its domain", async () => {
  const run = await sharedStackRun(CF);
  const build = run.command("submit-build");
  // Depending on the component means depending on each of its resources, the custom domain included.
  expect(build.dependencies).toContain(run.one("cloudflare:index/r2CustomDomain:R2CustomDomain").urn);
  expect(build.dependencies).toContain(run.one("cloudflare:index/ruleset:Ruleset").urn);
});

describe("presigned access", () => {
  const PRESIGNED = { ...CF, "warmstart:modelsAccess": "presigned" };
  const account = CF["warmstart:cloudflareAccountId"];

  test("no public host at all: no custom domain, no WAF rule, r2.dev off; needs no domain, zone or key", async () => {
    const run = await runStack({ "warmstart:cloudflareAccountId": account, "warmstart:modelsAccess": "presigned" }, { unset: ["warmstart:modelsDomain", "warmstart:modelsAccessKey"] });
    expect(run.ofType("cloudflare:index/r2CustomDomain:R2CustomDomain")).toEqual([]);
    expect(run.ofType("cloudflare:index/ruleset:Ruleset")).toEqual([]);
    expect(run.one("cloudflare:index/r2ManagedDomain:R2ManagedDomain").inputs).toMatchObject({ enabled: false });
    expect(run.outputs.modelsBaseUrl).toBeUndefined();
  });

  test("an account token that may only read this bucket's objects", async () => {
    const run = await sharedStackRun(PRESIGNED);
    const token = run.one("cloudflare:index/accountToken:AccountToken").inputs as any;
    expect(token.accountId).toBe(account);
    expect(token.policies).toHaveLength(1);
    const [policy] = token.policies;
    expect(policy.effect).toBe("allow");
    expect(policy.permissionGroups).toEqual([{ id: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
    expect(JSON.parse(policy.resources)).toEqual({ [`com.cloudflare.edge.r2.bucket.${account}_default_warmstart-models`]: "*" });
  });

  test("the token's permission group is looked up by its plain name (the provider encodes the query itself)", async () => {
    const run = await sharedStackRun(PRESIGNED);
    const policy = (run.one("cloudflare:index/accountToken:AccountToken").inputs as any).policies[0];
    // The offline mock derives a group's id from the name it was asked for.
    const expected = createHash("sha256").update(`group:${R2_READ_PERMISSION}`).digest("hex").slice(0, 32);
    expect(policy.permissionGroups[0].id).toBe(expected);
  });

  test("the build gets the bucket's S3 read access (token id, sha256 of its value) as its secret, nothing else", async () => {
    const run = await runStack(PRESIGNED, { unset: ["warmstart:modelsDomain", "warmstart:modelsAccessKey"] });
    const version = run.one("gcp:secretmanager/secretVersion:SecretVersion");
    expect(version.inputs.secretData).toBe(SECRET_MASK);
    const access = JSON.parse((version.plainInputs as any).secretData);
    const token = run.one("cloudflare:index/accountToken:AccountToken");
    expect(access).toEqual({
      endpoint: `https://${account}.r2.cloudflarestorage.com`,
      bucket: "warmstart-models",
      accessKeyId: token.id,
      secretAccessKey: createHash("sha256").update(token.plainOutputs.value as string).digest("hex"),
    });
    const config = JSON.parse((run.command("submit-build").plainInputs as any).environment.BUILD_CONFIG);
    const script = config.steps[0].args[1] as string;
    expect(script).toContain("--build-arg MODELS_ACCESS=presigned");
    expect(script).not.toContain("MODELS_BASE_URL");
    expect(script).toContain("--secret id=models-access,src=/tmp/models-access");
    expect(JSON.stringify(run.outputs)).not.toContain(access.secretAccessKey);
  });

  test("the build waits for the token", async () => {
    const run = await sharedStackRun(PRESIGNED);
    expect(run.command("submit-build").dependencies).toContain(run.one("cloudflare:index/accountToken:AccountToken").urn);
  });

  test("a public models host needs no key and sends no secret to the build", async () => {
    const run = await runStack({ ...CF, "warmstart:modelsAccess": "public" }, { unset: ["warmstart:modelsAccessKey"] });
    expect(run.ofType("gcp:secretmanager/secret:Secret")).toEqual([]);
    const config = JSON.parse((run.command("submit-build").plainInputs as any).environment.BUILD_CONFIG);
    expect(config.availableSecrets).toBeUndefined();
    expect(config.steps[0].args[1]).toContain("--build-arg MODELS_ACCESS=public --build-arg MODELS_BASE_URL=https://models.example.com");
  });
});

describe("sync on deploy", () => {
  const SYNC = { ...CF, "warmstart:syncModelsOnDeploy": "true", "warmstart:modelsManifest": "container/models.json" };
  const account = CF["warmstart:cloudflareAccountId"];
  const groupId = (name: string) => createHash("sha256").update(`group:${name}`).digest("hex").slice(0, 32);
  const syncCommand = (run: Awaited<ReturnType<typeof runStack>>) => run.ofType("command:local:Command").find((c) => String(c.inputs.create).includes("models:sync"))!;
  const buildCommand = (run: Awaited<ReturnType<typeof runStack>>) => run.ofType("command:local:Command").find((c) => String(c.inputs.create).includes("submit-build"))!;

  test("a token that may read and write this bucket's objects, and nothing else", async () => {
    const run = await sharedStackRun(SYNC);
    const write = run.one("cloudflare:index/accountToken:AccountToken").inputs as any;
    expect(write.policies).toEqual([
      {
        effect: "allow",
        permissionGroups: [{ id: groupId(R2_READ_PERMISSION) }, { id: groupId(R2_WRITE_PERMISSION) }],
        resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${account}_default_warmstart-models`]: "*" }),
      },
    ]);
  });

  test("runs models:sync with the token's S3 credentials, kept secret, whenever paths or sources change", async () => {
    const run = await sharedStackRun(SYNC);
    const sync = syncCommand(run);
    expect(sync.inputs.create).toBe("npm run --silent models:sync -- --manifest 'container/models.json' --print-manifest");
    expect(sync.inputs.environment).toBe(SECRET_MASK);
    const token = run.one("cloudflare:index/accountToken:AccountToken");
    expect((sync.plainInputs as any).environment).toEqual({
      R2_ENDPOINT: `https://${account}.r2.cloudflarestorage.com`,
      R2_BUCKET: "warmstart-models",
      R2_ACCESS_KEY_ID: token.id,
      R2_SECRET_ACCESS_KEY: createHash("sha256").update(token.plainOutputs.value as string).digest("hex"),
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "container/models.json"), "utf8"));
    expect(sync.inputs.triggers).toEqual([manifestSourcesHash(manifest.files)]);
    expect(sync.inputs.logging).toBe("stderr");
  });

  test("the build waits for the sync and stages the manifest it printed, sized from it", async () => {
    const run = await sharedStackRun(SYNC);
    const sync = syncCommand(run);
    const build = buildCommand(run);
    expect(build.dependencies).toContain(sync.urn);
    const env = (build.plainInputs as any).environment;
    expect(env.MANIFEST_JSON).toBe(String(sync.plainOutputs.stdout).trim());
    const synced = JSON.parse(env.MANIFEST_JSON).files as { size: number; sha256: string }[];
    expect(synced.every((f) => f.size > 0 && /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    const bytes = synced.reduce((s, f) => s + f.size, 0);
    expect(JSON.parse(env.BUILD_CONFIG).options.diskSizeGb).toBe(buildDiskSizeGb(bytes));
  });

  test("an update with entries not yet synced goes ahead, since the sync fills them in first", async () => {
    const run = await runStack(SYNC, { preview: false });
    expect(syncCommand(run)).toBeDefined();
    const without = await runStack({ ...CF, "warmstart:modelsManifest": "container/models.json" }, { preview: false }).catch((e: unknown) => e);
    expect((without as Error).message).toMatch(/have no size\/sha256 yet/);
  });

  test("recording sizes and sha256 in the manifest starts neither another sync nor another build", () => {
    const files = [{ path: "a.safetensors", source: "https://h/a" }];
    expect(manifestSourcesHash([{ ...files[0], size: 5, sha256: "f".repeat(64) } as never])).toBe(manifestSourcesHash(files));
    expect(manifestSourcesHash([{ path: "a.safetensors", source: "https://h/b" }])).not.toBe(manifestSourcesHash(files));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-synchash-"));
    fs.mkdirSync(path.join(dir, "container"));
    fs.writeFileSync(path.join(dir, "container", "Dockerfile"), "FROM x\n");
    const manifest = path.join(dir, "container", "models.json");
    const hash = (manifestFromSync: boolean) => imageContentHash({ contextDir: path.join(dir, "container"), manifestPath: manifest, baseImage: "b", manifestFromSync });
    fs.writeFileSync(manifest, JSON.stringify({ files }));
    const before = [hash(true), hash(false)];
    fs.writeFileSync(manifest, JSON.stringify({ files: [{ ...files[0], size: 5, sha256: "f".repeat(64) }] }));
    expect(hash(true)).toBe(before[0]);
    expect(hash(false)).not.toBe(before[1]);
  });

  test("exports the write credentials as a secret, for models:sync --stack; not made without the option", async () => {
    expect((await sharedStackRun(SYNC)).outputs.modelsSyncAccess).toBe(SECRET_MASK);
    const plain = await sharedStackRun(CF);
    expect(plain.outputs.modelsSyncAccess).toBeUndefined();
    expect(plain.ofType("cloudflare:index/accountToken:AccountToken")).toEqual([]);
  });

  test("hands warmstart:huggingFaceToken to the sync as HF_TOKEN, secret; refused without the sync", async () => {
    const run = await runStack({ ...SYNC, "warmstart:huggingFaceToken": "hf_secret_value" });
    const sync = syncCommand(run);
    expect(sync.inputs.environment).toBe(SECRET_MASK);
    expect((sync.plainInputs as any).environment.HF_TOKEN).toBe("hf_secret_value");
    for (const r of run.resources) expect(JSON.stringify(r.inputs), r.name).not.toContain("hf_secret_value");
    const error = (await runStack({ ...CF, "warmstart:huggingFaceToken": "hf_secret_value" }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/warmstart:huggingFaceToken: is only used by the sync during pulumi up/);
    expect(error.message).not.toContain("hf_secret_value");
  });

  test("needs the stack's own bucket", async () => {
    const error = (await runStack({ "warmstart:syncModelsOnDeploy": "true" }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/warmstart:syncModelsOnDeploy: needs warmstart:cloudflareAccountId/);
    expect(lastResources).toEqual([]);
  });
});

describe("a zone whose custom WAF rules are not ours", () => {
  const RULESETS = "cloudflare:index/getRulesets:getRulesets";
  const zone = (rulesets: object[]) => ({ [RULESETS]: (inputs: Record<string, unknown>) => ({ ...inputs, results: rulesets }) });

  test("stops the deploy in preview, naming the ruleset and the way out, instead of replacing its rules", async () => {
    const error = await runStack(CF, { calls: zone([{ id: "abc123", name: "default", kind: "zone", phase: "http_request_firewall_custom" }]) }).catch((e: unknown) => e);
    expect(String((error as Error).message ?? error)).toMatch(
      /zone fedcba9876543210fedcba9876543210 already has custom WAF rules \(ruleset "default", id abc123\); the models gate would replace all of them\..*"presigned"/,
    );
  });

  test("the gate's own entry point, other phases and managed rulesets are fine", async () => {
    const run = await runStack(CF, {
      calls: zone([
        { id: "1", name: "warmstart models gate", kind: "zone", phase: "http_request_firewall_custom" },
        { id: "2", name: "rate limits", kind: "zone", phase: "http_ratelimit" },
        { id: "3", name: "Cloudflare Managed Ruleset", kind: "managed", phase: "http_request_firewall_managed" },
      ]),
    });
    expect(run.one("cloudflare:index/ruleset:Ruleset").inputs.description).toMatch(/^Blocks requests to models\.example\.com/);
  });
});

describe("an EU bucket", () => {
  const EU = { ...CF, "warmstart:modelsJurisdiction": "eu", "warmstart:modelsAccess": "presigned", "warmstart:syncModelsOnDeploy": "true" };
  const account = CF["warmstart:cloudflareAccountId"];

  test("every sub-resource names the jurisdiction, so none 404s on it (pulumi-cloudflare#1174)", async () => {
    const run = await runStack({ ...CF, "warmstart:modelsJurisdiction": "eu" });
    for (const t of ["r2Bucket:R2Bucket", "r2CustomDomain:R2CustomDomain", "r2ManagedDomain:R2ManagedDomain", "r2BucketLifecycle:R2BucketLifecycle"]) {
      expect(run.one(`cloudflare:index/${t}`).inputs.jurisdiction, t).toBe("eu");
    }
  });

  test("uses the EU S3 endpoint and EU token resources for the build and the sync", async () => {
    const run = await runStack(EU, { unset: ["warmstart:modelsDomain", "warmstart:modelsAccessKey"] });
    expect(run.outputs.modelsS3Endpoint).toBe(`https://${account}.eu.r2.cloudflarestorage.com`);
    for (const token of run.ofType("cloudflare:index/accountToken:AccountToken")) {
      expect(Object.keys(JSON.parse((token.inputs as any).policies[0].resources))).toEqual([`com.cloudflare.edge.r2.bucket.${account}_eu_warmstart-models`]);
    }
    const access = JSON.parse((run.one("gcp:secretmanager/secretVersion:SecretVersion").plainInputs as any).secretData);
    expect(access.endpoint).toBe(`https://${account}.eu.r2.cloudflarestorage.com`);
  });

  test("an unknown jurisdiction is refused by name", async () => {
    const error = (await runStack({ ...CF, "warmstart:modelsJurisdiction": "asia" }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/warmstart:modelsJurisdiction: must be one of default \| eu \| us \| fedramp/);
  });
});

test("a local build with presigned access gets the read access as its BuildKit secret and no base URL", async () => {
  const run = await runStack(
    { ...CF, "warmstart:modelsAccess": "presigned", "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/models.json" },
    { unset: ["warmstart:modelsDomain", "warmstart:modelsAccessKey"], preview: true },
  );
  const image = run.one("docker-build:index:Image");
  expect(image.inputs.secrets).toBe(SECRET_MASK);
  const access = JSON.parse((image.plainInputs as any).secrets["models-access"]);
  expect(access).toMatchObject({ endpoint: `https://${CF["warmstart:cloudflareAccountId"]}.r2.cloudflarestorage.com`, bucket: "warmstart-models" });
  expect(image.inputs.buildArgs).toEqual({ BASE_IMAGE: "docker.io/example/comfyui:1", MODELS_ACCESS: "presigned", MANIFEST: "models.json" });
});

test("moving the weights to another host or access mode does not rebuild the image: the manifest pins their bytes", async () => {
  const trigger = async (overrides: Record<string, string>, unset: string[] = []) =>
    (await runStack({ ...CF, ...overrides }, { unset })).ofType("command:local:Command").find((c) => String(c.inputs.create).includes("submit-build"))!.inputs.triggers;
  const header = await trigger({});
  expect(await trigger({ "warmstart:modelsDomain": "weights.example.com" })).toEqual(header);
  expect(await trigger({ "warmstart:modelsAccess": "presigned" }, ["warmstart:modelsDomain", "warmstart:modelsAccessKey"])).toEqual(header);
  expect(await trigger({ "warmstart:modelsAccessKey": "a-rotated-key" })).toEqual(header);
  expect(await trigger({ "warmstart:baseImage": "docker.io/library/python:3.12" })).not.toEqual(header);
});
