/**
 * Static checks of the reference base images (images/): they cannot be built here (CUDA, PyPI, GitHub), so what can
 * be known without building is checked: every file they COPY exists, every package is pinned with its source, and
 * the supervisor environment each folder documents fits both the server and the model image.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import YAML from "yaml";
import { parseManifest } from "../../container/manifest";
import { configFromEnv } from "../../container/supervisor";
import { argDefaults, contextCopies, envFile, envPairs, instructions, type Instruction } from "../support/dockerfile";

const ROOT = path.resolve(__dirname, "../..");
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), "utf8");
const dockerfile = (p: string) => instructions(read(p));
/** Cloud Run's L4 driver, 535.216.03, is CUDA 12.2: https://cloud.google.com/run/docs/configuring/services/gpu */
const CLOUD_RUN_L4_CUDA = [12, 2];

/** The CUDA version of FROM's image (an nvidia/cuda tag, given as the ARG it names). */
function fromCuda(ins: readonly Instruction[]): number[] {
  const from = ins.find((i) => i.keyword === "FROM")!.args;
  const image = from.replace(/^\$\{(\w+)\}$/, (_, name: string) => argDefaults(ins)[name]);
  const m = /^docker\.io\/nvidia\/cuda:(\d+)\.(\d+)\.\d+-runtime-ubuntu\d+\.\d+$/.exec(image);
  expect(m, `FROM ${image} should be a pinned nvidia/cuda runtime tag`).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

function expectCopiesExist(folder: string, file: string) {
  const copies = contextCopies(dockerfile(`${folder}/${file}`));
  expect(copies.length, `${file} copies something`).toBeGreaterThan(0);
  for (const c of copies) for (const src of c.sources) expect(fs.existsSync(path.join(ROOT, folder, src)), `${folder}/${file}: COPY ${src}`).toBe(true);
}

/** Where a file lands in the image, from the COPY instructions (destination a folder, ending in /). */
function copiedTo(ins: readonly Instruction[], source: string): string | undefined {
  const c = contextCopies(ins).find((x) => x.sources.includes(source));
  return c && (c.dest.endsWith("/") ? `${c.dest}${path.basename(source)}` : c.dest);
}

/** The constraint lines `name==version` of a pins file, each with the comment block above it (shared by a group). */
function pins(text: string): { name: string; version: string; comment: string }[] {
  const out: { name: string; version: string; comment: string }[] = [];
  let comment = "";
  let inComment = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) {
      comment = inComment ? `${comment}\n${line}` : line;
      inComment = true;
    } else if (line.trim() !== "") {
      inComment = false;
      const m = /^([A-Za-z0-9._-]+)==(\S+)$/.exec(line.trim());
      expect(m, `"${line}" should be name==version`).not.toBeNull();
      out.push({ name: m![1].toLowerCase(), version: m![2], comment });
    }
  }
  return out;
}

describe("images/pyserver", () => {
  const dir = "images/pyserver";
  const env = envFile(read(`${dir}/supervisor.env`));
  const server = read(`${dir}/server.py`);
  const cpu = dockerfile(`${dir}/Dockerfile`);
  const cuda = dockerfile(`${dir}/Dockerfile.cuda`);

  test("every file its Dockerfiles COPY is in the folder", () => {
    expectCopiesExist(dir, "Dockerfile");
    expectCopiesExist(dir, "Dockerfile.cuda");
  });

  test("the supervisor accepts supervisor.env as it is", () => {
    const cfg = configFromEnv({ ...env, WARMUP_REQUEST_FILE: path.join(ROOT, dir, "warmup.json") });
    expect(cfg.warmup?.path).toBe("/predict");
  });

  test("MODEL_SERVER_URL is where server.py listens by default, and the health path is its route", () => {
    const url = new URL(env.MODEL_SERVER_URL);
    expect(url.hostname).toBe(/"PYSERVER_HOST", "([^"]+)"/.exec(server)![1]);
    expect(url.port).toBe(/"PYSERVER_PORT", "(\d+)"/.exec(server)![1]);
    expect(server).toContain(`if self.path == "${env.MODEL_HEALTH_PATH}":`);
    const warmup = JSON.parse(read(`${dir}/warmup.json`)) as { method: string; path: string };
    expect(warmup.method).toBe("POST");
    expect(server).toContain(`if self.path != "${warmup.path}":`);
  });

  test("both variants put server.py and warmup.json where supervisor.env says", () => {
    const script = /^python3 (\S+)$/.exec(env.MODEL_SERVER_CMD)?.[1];
    for (const ins of [cpu, cuda]) {
      expect(copiedTo(ins, "server.py")).toBe(script);
      expect(copiedTo(ins, "warmup.json")).toBe(env.WARMUP_REQUEST_FILE);
    }
  });

  test("the warmup fits the example model: one row as wide as the model the end-to-end test makes", () => {
    const rows = (JSON.parse(read(`${dir}/warmup.json`)) as { body: { inputs: number[][] } }).body.inputs;
    const inputs = Number(/"--sizes", default="(\d+),/.exec(read("test/support/mlp.py"))![1]);
    expect(rows.map((r) => r.length)).toEqual([inputs]);
    expect(rows.flat().every((x) => typeof x === "number")).toBe(true);
  });

  test("the server's default model is the example manifest's file, under /models", () => {
    const manifest = parseManifest(read(`${dir}/models.json`), `${dir}/models.json`);
    const model = /"PYSERVER_MODEL", "([^"]+)"/.exec(server)![1];
    expect(manifest.files.map((f) => `/models/${f.path}`)).toEqual([model]);
    expect(env.PREFETCH_DIRS).toBe("/models");
  });

  test("the CPU variant needs nothing but Debian's python3 and python3-numpy", () => {
    const imports = [...server.matchAll(/^(?:import|from) (\w+)/gm)].map((m) => m[1]);
    const stdlib = ["argparse", "json", "math", "os", "signal", "struct", "sys", "threading", "time", "http"];
    expect(imports.filter((m) => !stdlib.includes(m))).toEqual(["numpy"]);
    expect(cpu.find((i) => i.keyword === "RUN")!.args).toMatch(/apt-get install -y --no-install-recommends python3 python3-numpy/);
  });

  test("the CUDA variant pins every package it installs, each with its source, on Cloud Run's CUDA", () => {
    const reqs = pins(read(`${dir}/requirements-cuda.txt`));
    expect(reqs.map((r) => r.name).sort()).toEqual(["cupy-cuda12x", "fastrlock", "numpy"]);
    for (const r of reqs) expect(r.comment, r.name).toContain(`https://pypi.org/project/${r.name}/${r.version}/`);
    const installs = cuda.filter((i) => i.keyword === "RUN" && /pip install/.test(i.args));
    expect(installs.map((i) => i.args)).toEqual(["pip install -r /opt/pyserver/requirements-cuda.txt && pip check"]);
    expect(copiedTo(cuda, "requirements-cuda.txt")).toBe("/opt/pyserver/requirements-cuda.txt");
    expect(fromCuda(cuda)).toEqual(CLOUD_RUN_L4_CUDA);
    // The model image sets neither, so the base image's values reach the server.
    expect(envPairs(cuda)).toMatchObject({ PYSERVER_DEVICE: "cuda", PATH: "/opt/venv/bin:$PATH" });
    expect(server).toMatch(/if args\.device == "cuda":\n\s+import cupy/);
  });

  test("its README says it is unverified on a GPU until its first Cloud Build", () => {
    expect(read(`${dir}/README.md`)).toMatch(/unverified until (its|their) first Cloud Build/i);
  });
});

describe("images/comfyui", () => {
  const dir = "images/comfyui";
  const ins = dockerfile(`${dir}/Dockerfile`);
  const env = envFile(read(`${dir}/supervisor.env`));
  const constraints = read(`${dir}/constraints.txt`);
  const modelImage = instructions(read("container/Dockerfile"));
  const commit = argDefaults(ins).COMFYUI_COMMIT;
  /**
   * What ComfyUI's requirements.txt names at the pinned commit:
   * https://github.com/Comfy-Org/ComfyUI/blob/002f2bedd6e4f6a0f7436ab7ce2fb8021483904c/requirements.txt
   */
  const REQUIRED = [
    "comfyui-frontend-package", "comfyui-workflow-templates", "comfyui-embedded-docs", "torch", "torchsde", "torchvision",
    "torchaudio", "numpy", "einops", "transformers", "tokenizers", "sentencepiece", "safetensors", "aiohttp", "yarl",
    "pyyaml", "pillow", "scipy", "tqdm", "psutil", "alembic", "sqlalchemy", "filelock", "av", "comfy-kitchen", "comfy-aimdo",
    "requests", "simpleeval", "blake3", "kornia", "spandrel", "pydantic", "pydantic-settings", "pyopengl", "glfw",
  ];

  test("every file its Dockerfile COPYs is in the folder", () => {
    expectCopiesExist(dir, "Dockerfile");
  });

  test("ComfyUI is pinned by commit, and the constraints cite its requirements at that commit", () => {
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(constraints).toContain(`https://github.com/Comfy-Org/ComfyUI/blob/${commit}/requirements.txt`);
    expect(ins.some((i) => i.keyword === "RUN" && i.args.includes('test "$(git -C /ComfyUI rev-parse HEAD)" = "$COMFYUI_COMMIT"'))).toBe(true);
  });

  test("every package ComfyUI's requirements name is pinned exactly, each pin with its source", () => {
    const all = pins(constraints);
    expect(all.map((p) => p.name).sort()).toEqual([...REQUIRED].sort());
    for (const p of all) {
      expect(p.comment, p.name).toMatch(/https:\/\//);
      // Pins ComfyUI makes itself, and PyTorch's (not on PyPI with a +cu label), cite their group's source above.
      if (!/^(torch|torchvision|torchaudio|comfyui-.*|comfy-.*)$/.test(p.name)) expect(p.comment.toLowerCase(), p.name).toContain(`pypi.org/project/${p.name}/${p.version}/`);
    }
    expect(copiedTo(ins, "constraints.txt")).toBe("/opt/comfyui/constraints.txt");
    for (const run of ins.filter((i) => i.keyword === "RUN" && /pip install/.test(i.args))) {
      for (const cmd of run.args.split("&&").filter((c) => /pip install/.test(c))) expect(cmd, "every pip install is held to the constraints").toContain("-c /opt/comfyui/constraints.txt");
    }
  });

  test("PyTorch's CUDA build runs on Cloud Run's driver: same CUDA major, and the base image no newer than the driver", () => {
    const torch = pins(constraints).filter((p) => ["torch", "torchvision", "torchaudio"].includes(p.name));
    const labels = new Set(torch.map((p) => /\+cu(\d+)(\d)$/.exec(p.version)?.slice(1).join(".")));
    expect(labels.size, "one CUDA build for all three").toBe(1);
    const [torchCuda] = [...labels];
    expect(Number(torchCuda!.split(".")[0])).toBe(CLOUD_RUN_L4_CUDA[0]);
    expect(ins.find((i) => i.args.includes("--extra-index-url"))!.args).toContain(`https://download.pytorch.org/whl/cu${torchCuda!.replace(".", "")}`);
    expect(fromCuda(ins)).toEqual(CLOUD_RUN_L4_CUDA);
  });

  test("supervisor.env is the model image's own ComfyUI defaults", () => {
    const defaults = envPairs(modelImage);
    for (const [k, v] of Object.entries(env)) expect(defaults[k], k).toBe(v);
    expect(() => configFromEnv({ ...env, WARMUP_REQUEST_FILE: path.join(ROOT, "container/comfyui/warmup.json") })).not.toThrow();
  });

  test("the server command runs the venv's python on the checked-out ComfyUI, listening where MODEL_SERVER_URL says", () => {
    const m = /^python3 \/ComfyUI\/main\.py --listen (\S+) --port (\d+) /.exec(env.MODEL_SERVER_CMD);
    expect(m, env.MODEL_SERVER_CMD).not.toBeNull();
    const url = new URL(env.MODEL_SERVER_URL);
    expect([url.hostname, url.port]).toEqual([m![1], m![2]]);
    expect(envPairs(ins).PATH).toBe("/opt/venv/bin:$PATH");
    expect(ins.some((i) => i.keyword === "RUN" && i.args.startsWith("python3 -m venv /opt/venv"))).toBe(true);
  });

  test("the warmup is baked into the model image, and loads only files the Flux manifest bakes, from the folders ComfyUI reads", () => {
    expect(copiedTo(modelImage, "comfyui/")).toBe("/opt/warmstart/comfyui/comfyui");
    expect(env.WARMUP_REQUEST_FILE).toBe("/opt/warmstart/comfyui/warmup.json");
    const paths = YAML.parse(read("container/comfyui/extra_model_paths.yaml")).warmstart as Record<string, string>;
    const baked = new Set(parseManifest(read("container/models.json"), "container/models.json").files.map((f) => f.path));
    const nodes = Object.values((JSON.parse(read("container/comfyui/warmup.json")) as { body: { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> } }).body.prompt);
    const wants: [string, string][] = [];
    for (const n of nodes) {
      const kind = ({ UNETLoader: "unet", DualCLIPLoader: "clip", VAELoader: "vae", LoraLoader: "loras", LoraLoaderModelOnly: "loras" } as Record<string, string>)[n.class_type];
      if (!kind) continue;
      for (const [k, v] of Object.entries(n.inputs)) if (/_name\d?$/.test(k) && typeof v === "string") wants.push([kind, v]);
    }
    expect(wants.length).toBeGreaterThanOrEqual(4);
    // The LoRA too: a request with it would otherwise load it on the first user's time.
    expect(wants.map(([kind]) => kind)).toContain("loras");
    for (const [kind, file] of wants) expect(baked.has(`${paths[kind]}${file}`), `${kind} ${file}`).toBe(true);
  });

  test("its README says it is unverified until its first Cloud Build", () => {
    expect(read(`${dir}/README.md`)).toMatch(/unverified until (its|their) first Cloud Build/i);
  });
});
