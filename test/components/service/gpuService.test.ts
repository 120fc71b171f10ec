import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { imageContentHash } from "../../../components/image/contentHash";
import { buildDiskSizeGb, cloudBuildConfig, modelImageBuildArgs, substituted } from "../../../components/image/cloudBuild";
import { invokerBindingNames } from "../../../components/service/invokerBindings";
import { L4_REGIONS, weightsFit } from "../../../components/service/l4";
import { probeBudgetSeconds, startupProbeTiming } from "../../../components/service/startupProbe";
import { SECRET_MASK } from "../../../scripts/offline";
import { BASE_CONFIG, lastResources, projectTempDir, runStack, sharedStackRun } from "../../harness";

const SERVICE = "gcp:cloudrunv2/service:Service";
const INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember";
const GIB = 1024 ** 3;

describe("the Cloud Run service", () => {
  test("runs on one L4 with the configured CPU and memory, CPU always allocated and boosted at startup", async () => {
    const svc = (await runStack({ "warmstart:cpu": "6", "warmstart:memory": "24Gi" })).one(SERVICE).inputs as any;
    expect(svc.template.nodeSelector).toEqual({ accelerator: "nvidia-l4" });
    expect(svc.template.containers[0].resources).toEqual({
      limits: { cpu: "6", memory: "24Gi", "nvidia.com/gpu": "1" },
      cpuIdle: false,
      startupCpuBoost: true,
    });
  });

  test("serves one request per instance by default, not the API's 80, and caps instances and request time", async () => {
    const svc = (await sharedStackRun()).one(SERVICE).inputs as any;
    expect(svc.template.maxInstanceRequestConcurrency).toBe(1);
    expect(svc.template.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 2 });
    expect(svc.template.timeout).toBe("600s");
    const custom = (await runStack({ "warmstart:concurrency": "4", "warmstart:maxInstances": "5", "warmstart:requestTimeoutSeconds": "3600" })).one(SERVICE).inputs as any;
    expect([custom.template.maxInstanceRequestConcurrency, custom.template.scaling.maxInstanceCount, custom.template.timeout]).toEqual([4, 5, "3600s"]);
  });

  test("disables GPU zonal redundancy unless asked, and keeps deletion protection on by default", async () => {
    const svc = (await sharedStackRun()).one(SERVICE).inputs as any;
    expect(svc.template.gpuZonalRedundancyDisabled).toBe(true);
    expect(svc.deletionProtection).toBe(true);
    const redundant = (await runStack({ "warmstart:gpuZonalRedundancy": "true", "warmstart:deletionProtection": "false" })).one(SERVICE).inputs as any;
    expect([redundant.template.gpuZonalRedundancyDisabled, redundant.deletionProtection]).toEqual([false, false]);
  });

  test("has a startup probe on /healthz that waits maxColdStartSeconds, and a liveness probe", async () => {
    const c = ((await runStack({ "warmstart:maxColdStartSeconds": "420" })).one(SERVICE).inputs as any).template.containers[0];
    expect(c.startupProbe).toMatchObject({ httpGet: { path: "/healthz", port: 8080 }, initialDelaySeconds: 180, periodSeconds: 10, failureThreshold: 24 });
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
  });

  test("references the image by digest, in the service's own Artifact Registry repository", async () => {
    const run = await sharedStackRun();
    const image = (run.one(SERVICE).inputs as any).template.containers[0].image as string;
    expect(image).toMatch(/^us-central1-docker\.pkg\.dev\/acme-test-123\/warmstart-images\/model-server@sha256:[0-9a-f]{64}$/);
    expect(run.outputs.imageRef).toBe(image);
    expect(run.outputs.imageDigest).toBe(image.split("@")[1]);
  });

  test("declares the service-level scaling block explicitly", async () => {
    const svc = (await sharedStackRun()).one(SERVICE).inputs as any;
    expect(svc.scaling).toEqual({ minInstanceCount: 0, scalingMode: "AUTOMATIC" });
  });

  test("runs as its own service account with no project-wide role", async () => {
    const run = await sharedStackRun();
    const runtime = run.ofType("gcp:serviceaccount/account:Account").find((a) => a.inputs.accountId === "warmstart-run")!;
    expect(runtime).toBeDefined();
    expect((run.one(SERVICE).inputs as any).template.serviceAccount).toBe("warmstart-run@acme-test-123.iam.gserviceaccount.com");
    const projectRoles = run.ofType("gcp:projects/iAMMember:IAMMember").filter((m) => String(m.inputs.member).includes("warmstart-run@"));
    expect(projectRoles).toEqual([]);
    expect(run.outputs.runtimeServiceAccount).toBe("warmstart-run@acme-test-123.iam.gserviceaccount.com");
  });
});

describe("who may call the service", () => {
  test("only the configured invokers and the warmup account, never allUsers by default", async () => {
    const run = await runStack({ "warmstart:invokers": '["user:ana@example.com","serviceAccount:api@p.iam.gserviceaccount.com"]' });
    const members = run.ofType(INVOKER).filter((m) => m.inputs.role === "roles/run.invoker").map((m) => m.inputs.member).sort();
    expect(members).toEqual(["serviceAccount:api@p.iam.gserviceaccount.com", "serviceAccount:warmstart-invoke@acme-test-123.iam.gserviceaccount.com", "user:ana@example.com"]);
    expect(run.warnings.some((w) => /public/.test(w))).toBe(false);
  });

  const memberBinding = (run: Awaited<ReturnType<typeof runStack>>, member: string) => run.ofType(INVOKER).find((b) => b.inputs.member === member)!;
  const oldUrn = (slug: string) => `urn:pulumi:test::warmstart::warmstart:service:GpuService$${INVOKER}::warmstart-invoker-${slug}`;

  test("members that differ only in punctuation get a binding each, named by a readable slug and a hash of the exact member", async () => {
    const run = await runStack({ "warmstart:invokers": '["user:john.doe@acme.com","user:john-doe@acme.com"]' });
    const [dot, dash] = ["user:john.doe@acme.com", "user:john-doe@acme.com"].map((m) => memberBinding(run, m));
    expect(dot.urn).not.toBe(dash.urn);
    expect(dot.name).toMatch(/^warmstart-invoker-user-john-doe-acme-com-[0-9a-f]{8}$/);
    expect(dash.name).toMatch(/^warmstart-invoker-user-john-doe-acme-com-[0-9a-f]{8}$/);
  });

  test("a stack deployed with the old names updates its bindings in place: the first member with an old name takes it as an alias", async () => {
    const run = await runStack({ "warmstart:invokers": '["user:john.doe@acme.com","user:john-doe@acme.com","group:ops@acme.com"]' });
    expect(memberBinding(run, "user:john.doe@acme.com").aliases).toEqual([oldUrn("user-john-doe-acme-com")]);
    // The engine refused the second registration of that name, so no stack holds a binding under it for this member.
    expect(memberBinding(run, "user:john-doe@acme.com").aliases).toEqual([]);
    expect(memberBinding(run, "group:ops@acme.com").aliases).toEqual([oldUrn("group-ops-acme-com")]);
    expect(run.ofType(INVOKER).find((b) => b.name === "warmstart-invoker-warmup")!.aliases).toEqual([]);
    // The stack may hold the old name for the other member: the user is told what the preview would show then.
    expect(run.warnings).toContainEqual(
      expect.stringMatching(/^warmstart:invokers user:john\.doe@acme\.com, user:john-doe@acme\.com had one resource name \(warmstart-invoker-user-john-doe-acme-com\) before; .*list that member first/),
    );
    expect(run.warnings.filter((w) => w.includes("had one resource name"))).toHaveLength(1);
  });

  test("public: true adds allUsers and warns", async () => {
    const run = await runStack({ "warmstart:public": "true" });
    expect(run.ofType(INVOKER).map((m) => m.inputs.member)).toContain("allUsers");
    expect(run.warnings).toContainEqual(expect.stringMatching(/warmstart:public is true: anyone on the internet can call warmstart/));
  });
});

describe("the weights", () => {
  // Inside the project: the program reads no manifest outside its root.
  const manifest = (bytes: number[]) => {
    const dir = projectTempDir("manifest-");
    const file = path.join(dir, "models.json");
    fs.writeFileSync(file, JSON.stringify({ files: bytes.map((size, i) => ({ path: `unet/m${i}.safetensors`, size, sha256: "f".repeat(64) })) }));
    return file;
  };

  test("above the L4's 24 GB warn that the server must offload", async () => {
    const run = await runStack({ "warmstart:modelsManifest": manifest([20 * GIB, 6 * GIB]) });
    expect(run.warnings).toContainEqual(expect.stringMatching(/weights total 26\.0 GiB, more than the L4's 24\.0 GiB; the model server will have to offload/));
  });

  test("above GPU plus instance memory are an error naming the manifest and the sizes, with nothing registered", async () => {
    const file = manifest([40 * GIB, 20 * GIB]);
    const error = (await runStack({ "warmstart:modelsManifest": file, "warmstart:memory": "32Gi" }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`warmstart:modelsManifest: ${file}: the weights total 60.0 GiB, more than the L4's 24.0 GiB plus the instance's 32 GiB can hold`);
    expect(lastResources).toEqual([]);
  });

  test("an invalid manifest is a config error naming the entry", async () => {
    const dir = projectTempDir("manifest-");
    const file = path.join(dir, "models.json");
    fs.writeFileSync(file, JSON.stringify({ files: [{ path: "../etc/passwd", size: 1, sha256: "f".repeat(64) }] }));
    const error = (await runStack({ "warmstart:modelsManifest": file }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/files\[0\]: "path" must not contain "\.\."/);
  });

  test("files without size and sha256 warn on preview and stop a real update before the build starts", async () => {
    const dir = projectTempDir("manifest-");
    const file = path.join(dir, "models.json");
    fs.writeFileSync(file, JSON.stringify({ files: [{ path: "unet/a.safetensors", source: "https://huggingface.co/x/y/resolve/main/a.safetensors" }] }));
    const preview = await runStack({ "warmstart:modelsManifest": file });
    expect(preview.warnings).toContainEqual(expect.stringMatching(/1 file\(s\) have no size\/sha256 yet \(unet\/a\.safetensors\)/));
    const update = await runStack({ "warmstart:modelsManifest": file }, { preview: false }).catch((e: unknown) => e);
    expect(String(update)).toMatch(/have no size\/sha256 yet/);
    expect(lastResources.some((r) => r.type === "command:local:Command" && String(r.inputs.create).includes("submit-build"))).toBe(false);
  });
});

describe("the remote image build", () => {
  test("runs gcloud builds submit with a generated config, sized from the manifest, re-run by a content hash", async () => {
    const run = await runStack({ "warmstart:buildTimeoutMinutes": "90", "warmstart:buildMachineType": "E2_HIGHCPU_8" });
    const build = run.command("submit-build").inputs as any;
    expect(build.create).toBe("npm run --silent build:container 1>&2 && bash scripts/submit-build.sh");
    expect(build.triggers).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
    const config = JSON.parse(build.environment.BUILD_CONFIG);
    expect(config.options).toEqual({ machineType: "E2_HIGHCPU_8", diskSizeGb: buildDiskSizeGb(17_376_909_332), logging: "CLOUD_LOGGING_ONLY" });
    expect(config.timeout).toBe("5400s");
    expect(config.images).toEqual([expect.stringMatching(/^us-central1-docker\.pkg\.dev\/acme-test-123\/warmstart-images\/model-server:[0-9a-f]{16}$/)]);
    expect(build.environment).toMatchObject({ CONTEXT_DIR: "container", MANIFEST: "test/fixtures/models.json", PROJECT: "acme-test-123", REGION: "us-central1" });
  });

  test("passes the models key only through Secret Manager: never in build args, the command or plain inputs", async () => {
    const run = await sharedStackRun();
    const key = BASE_CONFIG["warmstart:modelsAccessKey"];
    for (const r of run.resources) expect(JSON.stringify(r.inputs), r.name).not.toContain(key);
    expect(run.one("gcp:secretmanager/secretVersion:SecretVersion").inputs.secretData).toBe(SECRET_MASK);
    expect(run.one("gcp:secretmanager/secretVersion:SecretVersion").plainInputs.secretData).toBe(`X-Warmstart-Models-Key: ${key}`);
    const build = JSON.parse((run.command("submit-build").plainInputs as any).environment.BUILD_CONFIG);
    expect(JSON.stringify(build)).not.toContain(key);
    expect(build.steps[0].args[1]).not.toMatch(/--build-arg \S*KEY/i);
    expect(build.availableSecrets.secretManager[0]).toEqual({ versionName: "projects/acme-test-123/secrets/warmstart-image-models-access/versions/latest", env: "WARMSTART_MODELS_ACCESS" });
    expect(JSON.stringify(run.outputs)).not.toContain(key);
  });

  test("the build account may push to the repository, read the one secret and its source, and write logs", async () => {
    const run = await sharedStackRun();
    const builder = "serviceAccount:warmstart-image-build@acme-test-123.iam.gserviceaccount.com";
    const roles = run.resources.filter((r) => r.inputs.member === builder).map((r) => `${r.type.split(":").pop()} ${r.inputs.role}`).sort();
    expect(roles).toEqual([
      "BucketIAMMember roles/storage.objectViewer",
      "IAMMember roles/logging.logWriter",
      "RepositoryIamMember roles/artifactregistry.writer",
      "SecretIamMember roles/secretmanager.secretAccessor",
    ]);
  });

  test("a service no one may call warns, naming the key to set; one with invokers does not", async () => {
    const none = await sharedStackRun();
    expect(none.warnings).toContainEqual(expect.stringMatching(/^no one can call warmstart but its warmups: set warmstart:invokers, e\.g\. pulumi config set --path 'warmstart:invokers\[0\]'/));
    const some = await runStack({ "warmstart:invokers": '["serviceAccount:app@acme-test-123.iam.gserviceaccount.com"]' });
    expect(some.warnings.filter((w) => w.startsWith("no one can call"))).toEqual([]);
  });

  test("a base image in the project's Artifact Registry: the build account may pull from that repository", async () => {
    const run = await runStack({ "warmstart:baseImage": "us-central1-docker.pkg.dev/acme-test-123/base/comfyui:cuda12.6" });
    const reader = run.ofType("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember").find((m) => m.inputs.role === "roles/artifactregistry.reader")!;
    expect(reader.inputs).toMatchObject({ project: "acme-test-123", location: "us-central1", repository: "base", member: "serviceAccount:warmstart-image-build@acme-test-123.iam.gserviceaccount.com" });
    expect(run.command("submit-build").dependencies).toContain(reader.urn);
  });

  test("a base image in another project's registry: a warning with the grant to make there", async () => {
    const run = await runStack({ "warmstart:baseImage": "europe-west4-docker.pkg.dev/shared-images-1/base/comfyui:1" });
    expect(run.ofType("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember").map((m) => m.inputs.role)).toEqual(["roles/artifactregistry.writer"]);
    expect(run.warnings).toContainEqual(
      "warmstart:baseImage is in project shared-images-1, not acme-test-123: the image build's account needs read there. Grant it once: gcloud artifacts repositories add-iam-policy-binding base --project=shared-images-1 --location=europe-west4 --role=roles/artifactregistry.reader --member=serviceAccount:warmstart-image-build@acme-test-123.iam.gserviceaccount.com",
    );
  });

  test("local builds use docker-build with the key as a BuildKit secret", async () => {
    const run = await runStack({ "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/models.json" });
    const image = run.one("docker-build:index:Image");
    expect(image.inputs.secrets).toBe(SECRET_MASK);
    expect((image.plainInputs as any).secrets["models-access"]).toBe(`X-Warmstart-Models-Key: ${BASE_CONFIG["warmstart:modelsAccessKey"]}`);
    expect(image.inputs.buildArgs).toEqual({ BASE_IMAGE: "docker.io/example/comfyui:1", MODELS_ACCESS: "header", MODELS_BASE_URL: "https://models.example.com", MANIFEST: "models.json" });
    expect(run.command("build:container").inputs.create).toBe("npm run --silent build:container");
  });

  test("local builds need the manifest inside the build context", async () => {
    const error = (await runStack({ "warmstart:imageBuild": "local" }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/warmstart:modelsManifest: must lie inside container\/ when warmstart:imageBuild is "local"/);
  });

  test("a prebuilt image builds nothing; the image repository stays, kept in the cloud even if the stack is deleted", async () => {
    const image = `europe-docker.pkg.dev/p/r/img@sha256:${"1".repeat(64)}`;
    const run = await runStack({ "warmstart:imageBuild": "none", "warmstart:image": image });
    expect(run.ofType("command:local:Command").filter((c) => /submit-build|build:container/.test(String(c.inputs.create)))).toEqual([]);
    const [repo] = run.ofType("gcp:artifactregistry/repository:Repository").filter((r) => r.inputs.repositoryId === "warmstart-images");
    expect(repo.retainOnDelete).toBe(true);
    expect(run.outputs.imageDigest).toBe(`sha256:${"1".repeat(64)}`);
  });

  test("keeps the last imageRetention images and deletes older ones", async () => {
    const repo = (await runStack({ "warmstart:imageRetention": "5" })).one("gcp:artifactregistry/repository:Repository").inputs as any;
    expect(repo.cleanupPolicies).toEqual([
      { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 5 } },
      { id: "delete-older", action: "DELETE", condition: { tagState: "ANY" } },
    ]);
    expect(repo.location).toBe("us-central1");
  });
});

describe("content hash (the build trigger)", () => {
  const setup = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-ctx-"));
    fs.mkdirSync(path.join(dir, "container"));
    fs.writeFileSync(path.join(dir, "container", "Dockerfile"), "FROM x\n");
    const manifest = path.join(dir, "container", "models.json");
    fs.writeFileSync(manifest, JSON.stringify({ files: [{ path: "a/b.safetensors", size: 1, sha256: "0".repeat(64) }] }, null, 2));
    const hash = () => imageContentHash({ contextDir: path.join(dir, "container"), manifestPath: manifest, baseImage: "docker.io/x/y:1" });
    return { dir, manifest, hash };
  };

  test("changes when a manifest line changes", () => {
    const { manifest, hash } = setup();
    const before = hash();
    fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace('"size": 1', '"size": 2'));
    expect(hash()).not.toBe(before);
  });

  test("does not change when nothing that goes into the image changed", () => {
    const { dir, hash } = setup();
    const before = hash();
    fs.writeFileSync(path.join(dir, "container", ".node-bin"), "local test artefact");
    fs.writeFileSync(path.join(dir, "README.md"), "outside the context");
    expect(hash()).toBe(before);
  });

  test("covers exactly what the Dockerfile copies: the files, the folders and the bundles as built now", () => {
    const { dir, manifest } = setup();
    const ctx = path.join(dir, "container");
    fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM x\nCOPY dist/fetcher.js ./\nCOPY ${MANIFEST} models.json\nCOPY --from=node /usr/bin/node /n\nCOPY init.sh \\\n  /opt/init.sh\nCOPY comfyui/ /opt/comfyui/\n");
    fs.writeFileSync(path.join(ctx, "init.sh"), "#!/bin/sh\n");
    fs.mkdirSync(path.join(ctx, "comfyui"));
    fs.writeFileSync(path.join(ctx, "comfyui", "warmup.json"), "{}");
    let bundle = "fetcher v1";
    const hash = () => imageContentHash({ contextDir: ctx, manifestPath: manifest, baseImage: "b", bundles: { "dist/fetcher.js": bundle } });
    const before = hash();
    // Not copied: a source file the bundle was made from, a note, an example server's folder outside the context.
    fs.writeFileSync(path.join(ctx, "fetcher.ts"), "// an edit the bundle does not reflect (a comment esbuild drops)");
    fs.writeFileSync(path.join(ctx, "NOTES.md"), "notes");
    fs.mkdirSync(path.join(dir, "images", "pyserver"), { recursive: true });
    fs.writeFileSync(path.join(dir, "images", "pyserver", "server.py"), "print(1)");
    expect(hash()).toBe(before);
    for (const change of [
      () => fs.writeFileSync(path.join(ctx, "init.sh"), "#!/bin/sh\nexec \"$@\"\n"),
      () => fs.writeFileSync(path.join(ctx, "comfyui", "warmup.json"), '{"path":"/x"}'),
      () => (bundle = "fetcher v2"),
    ]) {
      const was = hash();
      change();
      expect(hash()).not.toBe(was);
    }
    fs.rmSync(path.join(ctx, "init.sh"));
    expect(hash).toThrow(/the Dockerfile copies init\.sh, which is not in/);
  });

  test("changes with the Dockerfile and with the base image", () => {
    const { dir, manifest, hash } = setup();
    const before = hash();
    expect(imageContentHash({ contextDir: path.join(dir, "container"), manifestPath: manifest, baseImage: "docker.io/x/y:2" })).not.toBe(before);
    fs.writeFileSync(path.join(dir, "container", "Dockerfile"), "FROM x\nRUN true\n");
    expect(hash()).not.toBe(before);
  });
});

describe("invoker binding names", () => {
  test("distinct members always get distinct names, and each old name is claimed by one alias at most", () => {
    const member = fc.tuple(fc.constantFrom("user:", "group:", "serviceAccount:"), fc.stringMatching(/^[a-z.\-_]{1,6}@[a-z.-]{1,4}$/)).map(([k, v]) => k + v);
    fc.assert(
      fc.property(fc.uniqueArray(member, { maxLength: 12 }), (members) => {
        const names = invokerBindingNames("svc", members);
        expect(new Set(names.map((n) => n.name)).size).toBe(members.length);
        const aliases = names.flatMap((n) => (n.alias ? [n.alias] : []));
        expect(new Set(aliases).size).toBe(aliases.length);
        expect(new Set(aliases)).toEqual(new Set(names.map((n) => n.oldName)));
      }),
    );
  });
});

describe("pure limits", () => {
  test.each([10, 60, 240, 241, 300, 480])("a startup probe for %i s covers it within Cloud Run's caps", (seconds) => {
    const t = startupProbeTiming(seconds);
    expect(probeBudgetSeconds(t)).toBeGreaterThanOrEqual(seconds);
    expect(probeBudgetSeconds(t)).toBeLessThan(seconds + t.periodSeconds);
    expect(t.initialDelaySeconds).toBeLessThanOrEqual(240);
    expect(t.periodSeconds * t.failureThreshold).toBeLessThanOrEqual(240);
    expect(t.timeoutSeconds).toBeLessThan(t.periodSeconds);
  });

  test("the L4 region list is the documented six, with asia-south1 by invitation", () => {
    expect(L4_REGIONS.map((r) => r.region).sort()).toEqual(["asia-south1", "asia-southeast1", "europe-west1", "europe-west4", "us-central1", "us-east4"]);
    expect(L4_REGIONS.filter((r) => r.invitationOnly).map((r) => r.region)).toEqual(["asia-south1"]);
  });

  test("weights fit, need offload, or are too big", () => {
    expect(weightsFit(20 * GIB, 32, "m.json").kind).toBe("fits");
    expect(weightsFit(30 * GIB, 32, "m.json").kind).toBe("offload");
    expect(weightsFit(57 * GIB, 32, "m.json").kind).toBe("too-big");
  });

  test("the build disk holds 2.5x the weights plus headroom, at least 100 GB", () => {
    expect(buildDiskSizeGb(1 * GIB)).toBe(100);
    expect(buildDiskSizeGb(23 * GIB)).toBe(108);
  });

  test("the build config hands the key to BuildKit as a secret file, not a build arg", () => {
    const c = cloudBuildConfig({
      imageRepo: "r/p/i",
      tag: "t",
      buildArgs: modelImageBuildArgs("b", "header", "https://m"),
      accessSecretVersion: "projects/p/secrets/s/versions/latest",
      machineType: "E2_HIGHCPU_32",
      diskSizeGb: 100,
      timeoutMinutes: 10,
    }) as any;
    const script = c.steps[0].args[1] as string;
    expect(script).toContain("--secret id=models-access,src=/tmp/models-access");
    expect(script).toContain("printf '%s' \"$$WARMSTART_MODELS_ACCESS\" > /tmp/models-access");
    expect(script).toContain("--build-arg MODELS_ACCESS=header --build-arg MODELS_BASE_URL=https://m");
    expect(script).not.toMatch(/--build-arg [A-Z_]*=\$\$WARMSTART_MODELS_ACCESS/);
    expect(c.steps[0].secretEnv).toEqual(["WARMSTART_MODELS_ACCESS"]);
    // What bash runs after Cloud Build's substitution pass.
    expect(substituted(script)).toContain(`printf '%s' "$WARMSTART_MODELS_ACCESS" > /tmp/models-access`);
    expect(c.steps[0].name).toBe("gcr.io/cloud-builders/docker:20.10.24");
  });

  test("a lone $ in a step script is refused: Cloud Build would substitute it", () => {
    expect(() => substituted('echo "$HOME"')).toThrow(/unescaped "\$H": Cloud Build would substitute it; write \$\$/);
    expect(() => substituted("echo ${_X}")).toThrow(/unescaped "\$\{"/);
    expect(substituted("echo $$HOME costs 5$")).toBe("echo $HOME costs 5$");
  });
});

describe("a reference base image built by the stack", () => {
  const ROOT = path.resolve(__dirname, "../../..");
  const folder = `images/zz-test-${process.pid}`;
  const dir = path.join(ROOT, folder);
  beforeAll(() => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM docker.io/library/python:3.12-slim\nCOPY server.py /srv/\n");
    fs.writeFileSync(path.join(dir, "server.py"), "print('v1')\n");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("./images/<name> is built by Cloud Build first, only when its folder changes, and the model image is built FROM it", async () => {
    const run = await runStack({ "warmstart:baseImage": `./${folder}` });
    const baseBuild = (r: Awaited<ReturnType<typeof runStack>>) => r.ofType("command:local:Command").find((c) => c.inputs.create === "bash scripts/submit-build.sh")!;
    const base = baseBuild(run);
    const env = (base.inputs as any).environment;
    expect(env.CONTEXT_DIR).toBe(folder);
    expect(env.MANIFEST).toBeUndefined();
    const config = JSON.parse((base.plainInputs as any).environment.BUILD_CONFIG);
    expect(config.images).toEqual([expect.stringMatching(new RegExp(`^us-central1-docker\\.pkg\\.dev/acme-test-123/warmstart-images/base-zz-test-${process.pid}:[0-9a-f]{16}$`))]);
    expect(config.steps[0].args[1]).not.toContain("--build-arg");
    const model = run.command("build:container 1>&2");
    expect(model.dependencies).toContain(base.urn);
    const modelConfig = JSON.parse((model.plainInputs as any).environment.BUILD_CONFIG);
    expect(modelConfig.steps[0].args[1]).toMatch(new RegExp(`--build-arg BASE_IMAGE=us-central1-docker\\.pkg\\.dev/acme-test-123/warmstart-images/base-zz-test-${process.pid}@sha256:[0-9a-f]{64}`));

    const triggers = async () => {
      const r = await runStack({ "warmstart:baseImage": `./${folder}` });
      return [baseBuild(r).inputs.triggers, r.command("build:container 1>&2").inputs.triggers];
    };
    const [baseBefore, modelBefore] = await triggers();
    fs.writeFileSync(path.join(dir, "server.py"), "print('v2')\n");
    const [baseAfter, modelAfter] = await triggers();
    expect(baseAfter).not.toEqual(baseBefore);
    expect(modelAfter).not.toEqual(modelBefore);
  });

  test("./images/<name>/Dockerfile.<variant> builds that Dockerfile of the folder (the folder is the context) as base-<name>-<variant>", async () => {
    fs.writeFileSync(path.join(dir, "Dockerfile.cuda"), "FROM docker.io/nvidia/cuda:12.2.2-runtime-ubuntu22.04\nCOPY server.py /srv/\n");
    try {
      const run = await runStack({ "warmstart:baseImage": `./${folder}/Dockerfile.cuda` });
      const base = run.ofType("command:local:Command").find((c) => c.inputs.create === "bash scripts/submit-build.sh")!;
      expect((base.inputs as any).environment.CONTEXT_DIR).toBe(folder);
      const config = JSON.parse((base.plainInputs as any).environment.BUILD_CONFIG);
      expect(config.steps[0].args[1]).toMatch(/^docker build --progress=plain --file Dockerfile\.cuda --tag \S+ \.$/m);
      expect(config.images).toEqual([expect.stringMatching(new RegExp(`/warmstart-images/base-zz-test-${process.pid}-cuda:[0-9a-f]{16}$`))]);
      const missing = (await runStack({ "warmstart:baseImage": `./${folder}/Dockerfile.rocm` }).catch((e: unknown) => e)) as Error;
      expect(missing.message).toMatch(new RegExp(`warmstart:baseImage: names \\./${folder.replace("/", "\\/")}/Dockerfile\\.rocm, which has no Dockerfile\\.rocm; the reference images are .*\\./${folder.replace("/", "\\/")}/Dockerfile\\.cuda`));
    } finally {
      fs.rmSync(path.join(dir, "Dockerfile.cuda"));
    }
  });

  test("a folder without a Dockerfile, or a local build, is refused naming the key", async () => {
    const missing = (await runStack({ "warmstart:baseImage": "./images/nope" }).catch((e: unknown) => e)) as Error;
    expect(missing.message).toMatch(/warmstart:baseImage: names \.\/images\/nope, which has no Dockerfile; the reference images are/);
    const local = (await runStack({ "warmstart:baseImage": `./${folder}`, "warmstart:imageBuild": "local", "warmstart:modelsManifest": "container/models.json" }).catch((e: unknown) => e)) as Error;
    expect(local.message).toMatch(/warmstart:baseImage: a reference image \(\.\/images\/zz-test-\d+\) is built remotely; use warmstart:imageBuild cloudbuild, or build and push it yourself and name it, e\.g\. docker build -t REGION-docker\.pkg\.dev\/PROJECT\/REPO\/zz-test-\d+:1 images\/zz-test-\d+ /);
  });
});
