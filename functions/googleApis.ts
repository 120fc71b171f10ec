/**
 * The few Google REST calls the budget guard and the deploy's reconcile step make: Cloud Run Admin v2 (service
 * scaling), Cloud Scheduler v1 (job state) and Cloud Storage JSON (the guard's state object). Plain fetch, so the
 * function bundle stays small and the same code runs in the function and on the machine running `pulumi up`.
 */

export interface ApiEndpoints {
  readonly run: string;
  readonly scheduler: string;
  readonly storage: string;
  readonly monitoring: string;
}

export const GOOGLE_ENDPOINTS: ApiEndpoints = {
  run: "https://run.googleapis.com",
  scheduler: "https://cloudscheduler.googleapis.com",
  storage: "https://storage.googleapis.com",
  monitoring: "https://monitoring.googleapis.com",
};

/** Names one base URL that stands in for every Google API (a test's loopback server); unset in production. */
export const API_BASE_ENV = "WARMSTART_GOOGLE_APIS";

export function endpointsFromEnv(env: NodeJS.ProcessEnv): ApiEndpoints {
  const base = env[API_BASE_ENV];
  return base ? { run: base, scheduler: base, storage: base, monitoring: base } : GOOGLE_ENDPOINTS;
}

/** A non-2xx answer; `status` lets callers tell a precondition failure (412) or a missing object (404) apart. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    body: string,
  ) {
    super(`${method} ${url}: HTTP ${status} ${body.slice(0, 300)}`);
    this.name = "ApiError";
  }
}

/** Job states (google/cloud/scheduler/v1/job.proto, State). */
export type JobState = "ENABLED" | "PAUSED" | "DISABLED" | "UPDATE_FAILED" | "STATE_UNSPECIFIED";

export interface GoogleApis {
  /** The service-level scaling (ServiceScaling: minInstanceCount, maxInstanceCount; an absent field is 0). */
  serviceScaling(service: string): Promise<{ minInstanceCount: number; maxInstanceCount: number }>;
  patchServiceScaling(service: string, scaling: { minInstanceCount?: number; maxInstanceCount?: number }): Promise<void>;
  jobState(job: string): Promise<JobState>;
  pauseJob(job: string): Promise<void>;
  resumeJob(job: string): Promise<void>;
  /** The object's text and generation; undefined when it does not exist. */
  readObject(bucket: string, object: string): Promise<{ text: string; generation: string } | undefined>;
  /** Writes only if the object is still at `generation` ("0": does not exist yet); false when someone wrote first. */
  writeObject(bucket: string, object: string, text: string, generation: string): Promise<boolean>;
  /** Whether Monitoring knows a metric type yet (a new log-based metric takes minutes to appear there). */
  metricDescriptorExists(project: string, metricType: string): Promise<boolean>;
}

/**
 * `send` defaults to the global fetch, looked up at each call; `npm run guard:reset -- --dry-run` passes one that
 * performs the reads and records the writes.
 */
export function googleApis(token: () => Promise<string>, endpoints: ApiEndpoints = GOOGLE_ENDPOINTS, send?: typeof fetch): GoogleApis {
  const call = async (method: string, url: string, body?: string, contentType = "application/json") => {
    const r = await (send ?? fetch)(url, {
      method,
      headers: { authorization: `Bearer ${await token()}`, ...(body === undefined ? {} : { "content-type": contentType }) },
      body,
    });
    const text = await r.text();
    if (!r.ok) throw new ApiError(method, url, r.status, text);
    return { text, headers: r.headers };
  };
  const json = async (method: string, url: string, body?: unknown) => {
    const { text } = await call(method, url, body === undefined ? undefined : JSON.stringify(body));
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  const objectUrl = (bucket: string, object: string) => `${endpoints.storage}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`;
  return {
    async serviceScaling(service) {
      const scaling = ((await json("GET", `${endpoints.run}/v2/${service}`)).scaling ?? {}) as { minInstanceCount?: number; maxInstanceCount?: number };
      return { minInstanceCount: scaling.minInstanceCount ?? 0, maxInstanceCount: scaling.maxInstanceCount ?? 0 };
    },
    async patchServiceScaling(service, scaling) {
      // Without updateMask the PATCH would replace the whole service; with it, only the named fields change and a
      // field named but absent from the body is cleared (https://google.aip.dev/134).
      const mask = Object.keys(scaling).map((k) => `scaling.${k}`).join(",");
      await json("PATCH", `${endpoints.run}/v2/${service}?updateMask=${mask}`, { scaling });
    },
    async jobState(job) {
      return ((await json("GET", `${endpoints.scheduler}/v1/${job}`)).state as JobState | undefined) ?? "STATE_UNSPECIFIED";
    },
    async pauseJob(job) {
      await json("POST", `${endpoints.scheduler}/v1/${job}:pause`, {});
    },
    async resumeJob(job) {
      await json("POST", `${endpoints.scheduler}/v1/${job}:resume`, {});
    },
    async readObject(bucket, object) {
      try {
        const { text, headers } = await call("GET", `${objectUrl(bucket, object)}?alt=media`);
        return { text, generation: headers.get("x-goog-generation") ?? "0" };
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    async metricDescriptorExists(project, metricType) {
      try {
        await call("GET", `${endpoints.monitoring}/v3/projects/${project}/metricDescriptors/${encodeURIComponent(metricType)}`);
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      }
    },
    async writeObject(bucket, object, text, generation) {
      // ifGenerationMatch makes the write conditional: 412 when another writer got there first
      // (https://cloud.google.com/storage/docs/request-preconditions).
      const url = `${endpoints.storage}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=media&name=${encodeURIComponent(object)}&ifGenerationMatch=${generation}`;
      try {
        await call("POST", url, text);
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 412) return false;
        throw err;
      }
    },
  };
}

/** A token from the metadata server, as a Cloud Run function's own service account. */
export function metadataToken(tokenUrl = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"): () => Promise<string> {
  return async () => {
    const r = await fetch(tokenUrl, { headers: { "Metadata-Flavor": "Google" } });
    if (!r.ok) throw new Error(`metadata token: HTTP ${r.status}`);
    return ((await r.json()) as { access_token: string }).access_token;
  };
}
