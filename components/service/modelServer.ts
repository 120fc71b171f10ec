/**
 * The model server as configuration: what differs between ComfyUI, a TTS server, background removal or an LLM
 * reaches the container as environment variables the supervisor reads (container/supervisor.ts, ENV_HELP). They are
 * the Cloud Run service's, not the image's: changing one deploys a new revision and never rebuilds the image.
 * Pure: parsing and the container's environment.
 */

import { WARMUP_ORIGINS_ENV } from "../../container/warmupOrigins";

/** A warmup request, inline or a file in the image; none skips the warmup. */
export type Warmup = { readonly kind: "inline"; readonly json: string } | { readonly kind: "file"; readonly path: string } | { readonly kind: "none" };

export interface ModelServerConfig {
  /** Shell command (run with /bin/sh -c) that starts the server. */
  readonly command: string;
  /** Where the server listens, on the container's loopback. */
  readonly url: string;
  /** Answers 2xx once the server is up. */
  readonly healthPath: string;
  readonly warmup: Warmup;
  /** Read into the page cache while the server starts. */
  readonly prefetchDirs: readonly string[];
  /** Plain environment variables for the server. */
  readonly env: Readonly<Record<string, string>>;
  /** Environment variables from Secret Manager: name → secret id (its latest version). */
  readonly secrets: Readonly<Record<string, string>>;
}

/** ComfyUI's, as the Dockerfile's ENV sets them too. */
export const COMFYUI_DEFAULTS = {
  command: "python3 /ComfyUI/main.py --listen 127.0.0.1 --port 8188 --extra-model-paths-config /opt/warmstart/comfyui/extra_model_paths.yaml",
  url: "http://127.0.0.1:8188",
  healthPath: "/system_stats",
  warmup: "file:/opt/warmstart/comfyui/warmup.json",
  prefetchDirs: ["/models"],
} as const;

/**
 * Names the server's environment may not set: Cloud Run's own (https://cloud.google.com/run/docs/container-contract,
 * "Environment variables": PORT, K_SERVICE, K_REVISION, K_CONFIGURATION) and the supervisor's, which the keys above set.
 */
export const RESERVED_ENV = [
  "PORT",
  "K_SERVICE",
  "K_REVISION",
  "K_CONFIGURATION",
  "MODEL_SERVER_CMD",
  "MODEL_SERVER_URL",
  "MODEL_HEALTH_PATH",
  "WARMUP_REQUEST",
  "WARMUP_REQUEST_FILE",
  "PREFETCH_DIRS",
  "PREFETCH_MAX_BYTES",
  "HEALTH_TIMEOUT_SECONDS",
  "WARMUP_ATTEMPTS",
  "DRAIN_SECONDS",
  WARMUP_ORIGINS_ENV,
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The server's URL: http on the container's own loopback (the supervisor proxies to it), with a port. */
export function urlProblem(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return "must be a URL such as http://127.0.0.1:8188";
  }
  if (u.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname) || u.port === "" || (u.pathname !== "/" && u.pathname !== "")) {
    return "must be http://127.0.0.1:<port> (the model server listens inside the container; the supervisor proxies to it), e.g. http://127.0.0.1:8188";
  }
  return undefined;
}

export function pathProblem(v: string): string | undefined {
  return /^\/[\x21-\x7e]*$/.test(v) ? undefined : 'must be a path starting with "/", e.g. /health';
}

/** `none`, `file:/abs/path`, or an inline JSON request {"method"?, "path", "headers"?, "body"?}. */
export function parseWarmup(v: string): Warmup {
  if (v === "none") return { kind: "none" };
  if (v.startsWith("file:")) {
    const p = v.slice("file:".length);
    if (!/^\/\S+$/.test(p)) throw new Error('file: must name an absolute path in the image, e.g. "file:/opt/warmstart/comfyui/warmup.json"');
    return { kind: "file", path: p };
  }
  let r: unknown;
  try {
    r = JSON.parse(v);
  } catch {
    throw new Error('must be none, file:/path/in/image, or a JSON request such as {"path":"/predict","body":{"inputs":[0]}}');
  }
  const req = r as { method?: unknown; path?: unknown; headers?: unknown };
  if (!req || typeof req !== "object" || Array.isArray(req) || typeof req.path !== "string" || pathProblem(req.path)) {
    throw new Error('must be a JSON object with a "path" starting with "/", e.g. {"path":"/predict","body":{"inputs":[0]}}');
  }
  if (req.method !== undefined && (typeof req.method !== "string" || !/^[A-Z]+$/.test(req.method))) throw new Error('"method" must be an HTTP method such as POST');
  if (req.headers !== undefined && (typeof req.headers !== "object" || req.headers === null || Object.values(req.headers).some((h) => typeof h !== "string"))) {
    throw new Error('"headers" must map header names to strings');
  }
  return { kind: "inline", json: JSON.stringify(r) };
}

/** A JSON object of environment variable names to strings (`check` vets each value). */
export function parseEnvMap(v: string, what: string, check: (value: string) => string | undefined = () => undefined): Record<string, string> {
  let m: unknown;
  try {
    m = JSON.parse(v);
  } catch {
    throw new Error(`must be a JSON object of ${what}, e.g. ${what === "secret ids" ? '{"HF_TOKEN":"hf-token"}' : '{"HF_HOME":"/models"}'}`);
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) throw new Error(`must be a JSON object of ${what}`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(m)) {
    if (!ENV_NAME.test(name)) throw new Error(`"${name}" is not an environment variable name (letters, digits, _; not starting with a digit)`);
    if (RESERVED_ENV.includes(name.toUpperCase())) throw new Error(`"${name}" is set by Cloud Run or by warmstart's own keys; use modelServerCommand, modelServerUrl, modelHealthPath, warmupRequest, prefetchDirs or warmupOrigins`);
    if (typeof value !== "string") throw new Error(`the value of "${name}" must be a string`);
    const problem = check(value);
    if (problem) throw new Error(`the value of "${name}" ${problem}`);
    out[name] = value;
  }
  return out;
}

/** Secret Manager secret ids: letters, digits, - and _, at most 255 (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create). */
export function secretIdProblem(v: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,255}$/.test(v) ? undefined : "must be a Secret Manager secret id in this project (letters, digits, - and _), e.g. hf-token";
}

/** One entry of a Cloud Run container's env: a value, or a secret's latest version. */
export type ContainerEnv = { readonly name: string; readonly value: string } | { readonly name: string; readonly secret: string };

/**
 * The container's environment for the supervisor and the server. `warmupOrigins`: the pages that may call /warmup
 * from a browser (`warmstart:warmupOrigins`), set even when empty so that the service, not the image, decides.
 */
export function containerEnv(m: ModelServerConfig, warmupOrigins: readonly string[] = []): ContainerEnv[] {
  return [
    { name: "MODEL_SERVER_CMD", value: m.command },
    { name: "MODEL_SERVER_URL", value: m.url },
    { name: "MODEL_HEALTH_PATH", value: m.healthPath },
    // Both are set so that the image's default of the other never applies.
    { name: "WARMUP_REQUEST", value: m.warmup.kind === "inline" ? m.warmup.json : "" },
    { name: "WARMUP_REQUEST_FILE", value: m.warmup.kind === "file" ? m.warmup.path : "" },
    { name: "PREFETCH_DIRS", value: m.prefetchDirs.join(":") },
    { name: WARMUP_ORIGINS_ENV, value: warmupOrigins.join(",") },
    ...Object.entries(m.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(m.secrets).map(([name, secret]) => ({ name, secret })),
  ];
}
