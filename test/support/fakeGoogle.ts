/**
 * Stands in for the Google APIs the budget guard and the reconcile step call, on loopback, and enforces the rules
 * the real ones do, so that a blind call fails here as it would there:
 * - Cloud Scheduler v1: pause only an ENABLED job, resume only a PAUSED one (cloudscheduler.proto, PauseJob /
 *   ResumeJob: "A job must be in Job.State.ENABLED to be paused", "must be in Job.State.PAUSED to be resumed"),
 *   refused with FAILED_PRECONDITION, which Google's error model maps to HTTP 400 (google/rpc/code.proto;
 *   https://cloud.google.com/apis/design/errors). Stricter than seen in practice for resume (the Terraform provider
 *   resumes a job it just created), which only makes this fake harder to please.
 * - Cloud Run Admin v2 services.patch: an updateMask is required here (without one the real API replaces the whole
 *   service, image included, which no caller of ours may do); fields named in the mask but absent from the body are
 *   reset to their default (https://google.aip.dev/134).
 * - Cloud Storage JSON: `ifGenerationMatch` writes are refused with 412 when the object moved on, generation "0"
 *   means "must not exist" (https://cloud.google.com/storage/docs/request-preconditions); a missing object is 404.
 * - Cloud Monitoring metricDescriptors.get: 404 for a type it does not know yet; a log-based metric is known only
 *   after `metrics.get(type)` more reads (Logging to Monitoring takes minutes, terraform-provider-google#11102).
 * - the metadata server answers only with `Metadata-Flavor: Google`.
 * `failNext(method, pathPrefix, status)` makes the next matching call fail once (a 503, say).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeJob {
  state: "ENABLED" | "PAUSED" | "DISABLED" | "UPDATE_FAILED";
}

export interface FakeGoogle {
  readonly base: string;
  readonly services: Map<string, { scaling: Record<string, number> }>;
  readonly jobs: Map<string, FakeJob>;
  readonly objects: Map<string, { text: string; generation: number }>;
  /** Metric type → reads still answered 404 before Monitoring knows it. Absent: never known. */
  readonly metrics: Map<string, number>;
  /** Every call as "METHOD path?query", in order. */
  readonly calls: string[];
  readonly tokens: (string | undefined)[];
  failNext(method: string, pathPrefix: string, status: number): void;
  close(): Promise<void>;
}

export async function startFakeGoogle(init: { services?: Record<string, Record<string, number>>; jobs?: Record<string, FakeJob["state"]> } = {}): Promise<FakeGoogle> {
  const services = new Map(Object.entries(init.services ?? {}).map(([k, v]) => [k, { scaling: { ...v } }]));
  const jobs = new Map(Object.entries(init.jobs ?? {}).map(([k, v]) => [k, { state: v }]));
  const objects = new Map<string, { text: string; generation: number }>();
  const metrics = new Map<string, number>();
  const calls: string[] = [];
  const tokens: (string | undefined)[] = [];
  const failures: { method: string; prefix: string; status: number }[] = [];
  let generation = 1000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url!, "http://fake");
      const path = url.pathname;
      calls.push(`${req.method} ${path}${url.search}`);
      const send = (status: number, data: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { "content-type": "application/json", ...headers }).end(typeof data === "string" ? data : JSON.stringify(data));
      const error = (status: number, code: string, message: string) => send(status, { error: { code: status, status: code, message } });

      if (path === "/token") return req.headers["metadata-flavor"] === "Google" ? send(200, { access_token: "fake-token", expires_in: 3599 }) : send(403, "missing Metadata-Flavor");
      tokens.push(req.headers.authorization);
      if (req.headers.authorization !== "Bearer fake-token") return error(401, "UNAUTHENTICATED", "no valid token");
      const failure = failures.findIndex((f) => f.method === req.method && path.startsWith(f.prefix));
      if (failure >= 0) {
        const [f] = failures.splice(failure, 1);
        return error(f.status, "UNAVAILABLE", "injected failure");
      }

      let m: RegExpExecArray | null;
      if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+)$/.exec(path))) {
        const svc = services.get(m[1]);
        if (!svc) return error(404, "NOT_FOUND", `service ${m[1]} not found`);
        if (req.method === "GET") return send(200, { name: m[1], scaling: svc.scaling });
        if (req.method !== "PATCH") return error(405, "METHOD_NOT_ALLOWED", req.method!);
        const mask = url.searchParams.get("updateMask");
        if (!mask) return error(400, "INVALID_ARGUMENT", "this fake refuses a PATCH without updateMask (it would replace the whole service)");
        const patch = (JSON.parse(body || "{}") as { scaling?: Record<string, number> }).scaling ?? {};
        for (const field of mask.split(",")) {
          if (!/^scaling\.(minInstanceCount|maxInstanceCount)$/.test(field)) return error(400, "INVALID_ARGUMENT", `unexpected mask field ${field}`);
          const key = field.slice("scaling.".length);
          svc.scaling[key] = patch[key] ?? 0;
        }
        return send(200, { name: "operations/fake", done: false });
      }
      if ((m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:]+)(:pause|:resume)?$/.exec(path))) {
        const job = jobs.get(m[1]);
        if (!job) return error(404, "NOT_FOUND", `job ${m[1]} not found`);
        if (!m[2]) return req.method === "GET" ? send(200, { name: m[1], ...job }) : error(405, "METHOD_NOT_ALLOWED", req.method!);
        if (req.method !== "POST") return error(405, "METHOD_NOT_ALLOWED", req.method!);
        if (m[2] === ":pause") {
          if (job.state !== "ENABLED") return error(400, "FAILED_PRECONDITION", `Job ${m[1]} must be in ENABLED state to be paused (is ${job.state})`);
          job.state = "PAUSED";
        } else {
          if (job.state !== "PAUSED") return error(400, "FAILED_PRECONDITION", `Job ${m[1]} must be in PAUSED state to be resumed (is ${job.state})`);
          job.state = "ENABLED";
        }
        return send(200, { name: m[1], ...job });
      }
      if ((m = /^\/v3\/projects\/([^/]+)\/metricDescriptors\/(.+)$/.exec(path)) && req.method === "GET") {
        const type = decodeURIComponent(m[2]);
        const left = metrics.get(type);
        if (left === undefined || left > 0) {
          if (left !== undefined) metrics.set(type, left - 1);
          return error(404, "NOT_FOUND", `Could not find descriptor for metric '${type}'.`);
        }
        return send(200, { type, name: `projects/${m[1]}/metricDescriptors/${type}` });
      }
      if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path)) && req.method === "GET") {
        const o = objects.get(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`);
        if (!o) return error(404, "NOT_FOUND", "No such object");
        if (url.searchParams.get("alt") !== "media") return send(200, { generation: String(o.generation) });
        return send(200, o.text, { "x-goog-generation": String(o.generation) });
      }
      if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)) && req.method === "POST") {
        const key = `${decodeURIComponent(m[1])}/${url.searchParams.get("name")}`;
        const match = url.searchParams.get("ifGenerationMatch");
        const current = objects.get(key);
        if (match !== null && String(current?.generation ?? 0) !== match) return error(412, "FAILED_PRECONDITION", "At least one of the pre-conditions you specified did not hold.");
        objects.set(key, { text: body, generation: ++generation });
        return send(200, { name: url.searchParams.get("name"), generation: String(generation) });
      }
      return error(404, "NOT_FOUND", `no such API in the fake: ${req.method} ${path}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    services,
    jobs,
    objects,
    metrics,
    calls,
    tokens,
    failNext: (method, prefix, status) => void failures.push({ method, prefix, status }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
