import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parseStackConfig } from "../../../config/parse";
import { COMFYUI_DEFAULTS, containerEnv } from "../../../components/service/modelServer";
import { readStackConfig } from "../../../scripts/stackFiles";
import { runStack } from "../../harness";

const env = (run: Awaited<ReturnType<typeof runStack>>) => {
  const c = (run.one("gcp:cloudrunv2/service:Service").inputs as any).template.containers[0];
  return Object.fromEntries((c.envs as any[]).map((e) => [e.name, e.value ?? e.valueSource]));
};
const TTS = {
  "warmstart:modelServerCommand": "python3 /srv/tts/server.py --port 9000",
  "warmstart:modelServerUrl": "http://127.0.0.1:9000",
  "warmstart:modelHealthPath": "/ready",
  "warmstart:warmupRequest": '{"path":"/synthesize","body":{"text":"warmup"}}',
  "warmstart:prefetchDirs": '["/models/tts"]',
  "warmstart:modelServerEnv": '{"TTS_VOICE":"en-1"}',
  "warmstart:modelServerSecrets": '{"HF_TOKEN":"hf-token"}',
};

describe("the model server as config", () => {
  test("by default the service runs ComfyUI, with the same settings the Dockerfile's ENV gives the image", async () => {
    const e = env(await runStack());
    expect(e).toMatchObject({ MODEL_SERVER_CMD: COMFYUI_DEFAULTS.command, MODEL_SERVER_URL: COMFYUI_DEFAULTS.url, MODEL_HEALTH_PATH: "/system_stats", WARMUP_REQUEST: "", WARMUP_REQUEST_FILE: "/opt/warmstart/comfyui/warmup.json", PREFETCH_DIRS: "/models", WARMUP_ORIGINS: "" });
    // The image's own defaults (what runs when the service sets nothing) say the same.
    const dockerfile = fs.readFileSync(path.resolve(__dirname, "../../../container/Dockerfile"), "utf8");
    const envBlock = /^ENV ([\s\S]*?)\n(?!\s)/m.exec(dockerfile)![1];
    const image = Object.fromEntries([...envBlock.matchAll(/([A-Z_]+)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, "")]));
    for (const k of ["MODEL_SERVER_CMD", "MODEL_SERVER_URL", "MODEL_HEALTH_PATH", "WARMUP_REQUEST_FILE", "PREFETCH_DIRS"]) expect(image[k], k).toBe(e[k]);
    // No page may warm it from a browser unless the stack says so: the image sets no origins either.
    expect(image.WARMUP_ORIGINS ?? "").toBe(e.WARMUP_ORIGINS);
  });

  test("another model server is config only: command, address, health, warmup, prefetch, env, and secrets from Secret Manager", async () => {
    const run = await runStack(TTS);
    expect(env(run)).toEqual({
      MODEL_SERVER_CMD: "python3 /srv/tts/server.py --port 9000",
      MODEL_SERVER_URL: "http://127.0.0.1:9000",
      MODEL_HEALTH_PATH: "/ready",
      WARMUP_REQUEST: '{"path":"/synthesize","body":{"text":"warmup"}}',
      WARMUP_REQUEST_FILE: "",
      PREFETCH_DIRS: "/models/tts",
      WARMUP_ORIGINS: "",
      TTS_VOICE: "en-1",
      HF_TOKEN: { secretKeyRef: { secret: "hf-token", version: "latest" } },
    });
    const grant = run.ofType("gcp:secretmanager/secretIamMember:SecretIamMember").find((g) => g.inputs.secretId === "hf-token")!;
    expect(grant.inputs).toMatchObject({ role: "roles/secretmanager.secretAccessor", member: "serviceAccount:warmstart-run@acme-test-123.iam.gserviceaccount.com" });
    expect(run.one("gcp:cloudrunv2/service:Service").dependencies).toContain(grant.urn);
  });

  test("warmstart:warmupOrigins reaches the supervisor as WARMUP_ORIGINS", async () => {
    const run = await runStack({ "warmstart:public": "true", "warmstart:warmupOrigins": '["https://app.example.com","http://localhost:3000"]' });
    expect(env(run).WARMUP_ORIGINS).toBe("https://app.example.com,http://localhost:3000");
  });

  test("changing the model server is a new revision, never an image rebuild", async () => {
    const trigger = async (over: Record<string, string>) => (await runStack(over)).command("submit-build").inputs.triggers;
    expect(await trigger(TTS)).toEqual(await trigger({}));
  });

  test.each([
    ["warmstart:modelServerUrl", "http://models.example.com:9000", /must be http:\/\/127\.0\.0\.1:<port>/],
    ["warmstart:modelServerUrl", "http://127.0.0.1", /must be http:\/\/127\.0\.0\.1:<port>/],
    ["warmstart:modelHealthPath", "ready", /must be a path starting with "\/"/],
    ["warmstart:warmupRequest", '{"body":{}}', /a "path" starting with "\/"/],
    ["warmstart:warmupRequest", "file:warmup.json", /absolute path in the image/],
    ["warmstart:modelServerEnv", '{"PORT":"9000"}', /"PORT" is set by Cloud Run or by warmstart's own keys/],
    ["warmstart:modelServerEnv", '{"1X":"a"}', /"1X" is not an environment variable name/],
    ["warmstart:modelServerEnv", '{"WARMUP_ORIGINS":"*"}', /"WARMUP_ORIGINS" is set by Cloud Run or by warmstart's own keys; use .*warmupOrigins/],
    ["warmstart:modelServerEnv", "HF_HOME=/models", /must be a JSON object of environment variables, e\.g\. \{"HF_HOME":"\/models"\}/],
    ["warmstart:modelServerSecrets", '{"HF_TOKEN":"projects/p/secrets/x"}', /the value of "HF_TOKEN" must be a Secret Manager secret id/],
    ["warmstart:prefetchDirs", '["models"]', /must be an absolute path/],
  ])("%s = %j is refused naming the key: %s", async (key, value, message) => {
    const err = (await runStack({ [key]: value }).catch((e: unknown) => e)) as Error;
    expect(err.message.split("\n").find((l) => l.trim().startsWith(`${key}:`))).toMatch(message);
  });
});

describe("the pyserver example stack (examples/stacks/Pulumi.pyserver.yaml)", () => {
  const ROOT = path.resolve(__dirname, "../../..");

  test("gives the container exactly what images/pyserver/supervisor.env says the server needs, with config alone", () => {
    const files = readStackConfig(ROOT, "pyserver", "examples/stacks/Pulumi.pyserver.yaml");
    const stack = parseStackConfig((k) => files.config[k], { rootDir: ROOT, isEncrypted: (k) => files.secretKeys.includes(k), presentKeys: files.presentKeys });
    const given = Object.fromEntries(containerEnv(stack.service.modelServer).map((e) => [e.name, "value" in e ? e.value : `secret:${e.secret}`]));
    const needed = Object.fromEntries(
      fs
        .readFileSync(path.join(ROOT, "images/pyserver/supervisor.env"), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("#"))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(Object.keys(needed).length).toBeGreaterThan(3);
    expect(given).toMatchObject(needed);
    expect(stack.image.baseReference).toEqual({ folder: "images/pyserver", dockerfile: "Dockerfile.cuda", imageName: "base-pyserver-cuda" });
    expect(stack.image.manifestPath).toBe("images/pyserver/models.json");
  });
});
