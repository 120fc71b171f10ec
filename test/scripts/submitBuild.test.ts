import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";

const SCRIPT = path.resolve(__dirname, "../../scripts/submit-build.sh");
const DIGEST = `sha256:${"ab".repeat(32)}`;

/** A stand-in gcloud on PATH that logs its arguments and answers like the real one. */
function fakeGcloud(status: string, digest: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-gcloud-"));
  const log = path.join(dir, "calls.log");
  fs.writeFileSync(
    path.join(dir, "gcloud"),
    `#!/usr/bin/env bash
echo "$*" >> ${log}
case "$1 $2" in
  "builds submit") cat "$(printf '%s\\n' "$@" | sed -n 's/^--config=//p')" > ${dir}/config.json; (cd "$3" && find . -type f | sort) > ${dir}/context.txt; cp "$3/models.json" ${dir}/staged-manifest.json; echo build-123 ;;
  # GA gcloud, CLOUD_LOGGING_ONLY: --stream only waits; without it the log is read from Cloud Logging.
  "builds log") case " $* " in *" --stream "*) ;; *) echo "Step #0: building" ;; esac ;;
  "builds describe") printf '%s\\t%s\\n' "${status}" "${digest}" ;;
esac
`,
    { mode: 0o755 },
  );
  return { dir, log };
}

/** A build context as `npm run build:container` leaves it, and a manifest outside it. */
const CONTEXT = fs.mkdtempSync(path.join(os.tmpdir(), "ctx-"));
fs.mkdirSync(path.join(CONTEXT, "dist"));
fs.writeFileSync(path.join(CONTEXT, "dist", "fetcher.js"), "// bundle");
fs.writeFileSync(path.join(CONTEXT, "Dockerfile"), "FROM x");
fs.writeFileSync(path.join(CONTEXT, ".node-bin"), "local artefact");
const MANIFEST = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "manifest-")), "prod-models.json");
fs.writeFileSync(MANIFEST, '{"files":[]}');

const ENV = {
  BUILD_CONFIG: '{"steps":[]}',
  CONTEXT_DIR: CONTEXT,
  MANIFEST,
  PROJECT: "acme-test-123",
  REGION: "us-central1",
  BUILD_SERVICE_ACCOUNT: "b@acme-test-123.iam.gserviceaccount.com",
  SOURCE_STAGING_DIR: "gs://bucket/source",
};

const run = (gcloudDir: string, env: Record<string, string> = ENV) =>
  spawnSync("/bin/bash", [SCRIPT], { encoding: "utf8", env: { PATH: `${gcloudDir}:/usr/bin:/bin`, ...env } });

describe("scripts/submit-build.sh", () => {
  test("prints only the pushed digest on stdout, the build log on stderr", () => {
    const g = fakeGcloud("SUCCESS", DIGEST);
    const r = run(g.dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(DIGEST);
    expect(r.stderr).toContain("Step #0: building");
    const calls = fs.readFileSync(g.log, "utf8");
    expect(calls).toMatch(/^builds submit \S+ --async --config=\S+\.json --project=acme-test-123 --region=us-central1 --service-account=projects\/acme-test-123\/serviceAccounts\/b@acme-test-123\.iam\.gserviceaccount\.com --gcs-source-staging-dir=gs:\/\/bucket\/source --format=value\(id\)$/m);
    expect(fs.readFileSync(path.join(g.dir, "config.json"), "utf8")).toBe(ENV.BUILD_CONFIG);
  });

  test("stages the context with the configured manifest as models.json, without local artefacts", () => {
    const g = fakeGcloud("SUCCESS", DIGEST);
    expect(run(g.dir).status).toBe(0);
    expect(fs.readFileSync(path.join(g.dir, "context.txt"), "utf8").split("\n").filter(Boolean)).toEqual(["./Dockerfile", "./dist/fetcher.js", "./models.json"]);
    expect(fs.readFileSync(path.join(g.dir, "staged-manifest.json"), "utf8")).toBe('{"files":[]}');
  });

  test("stages the manifest a models sync printed (MANIFEST_JSON) instead of the file, which need not exist", () => {
    const g = fakeGcloud("SUCCESS", DIGEST);
    const synced = '{"files":[{"path":"a.safetensors","size":5,"sha256":"' + "f".repeat(64) + '"}]}';
    const r = run(g.dir, { ...ENV, MANIFEST: "/nonexistent/models.json", MANIFEST_JSON: synced });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(g.dir, "staged-manifest.json"), "utf8"))).toEqual(JSON.parse(synced));
  });

  test("refuses a context without the bundle", () => {
    const r = run(fakeGcloud("SUCCESS", DIGEST).dir, { ...ENV, CONTEXT_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "empty-")) });
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/dist\/ is missing; run npm run build:container/)]);
  });

  test("fails with the build id and how to read its log when the build did not succeed", () => {
    const r = run(fakeGcloud("FAILURE", "").dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/build build-123 ended FAILURE; see: gcloud builds log build-123 --region=us-central1/);
  });

  test("fails when a successful build reports no digest", () => {
    const r = run(fakeGcloud("SUCCESS", "").dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/succeeded but reported no image digest/);
  });

  test("names a missing variable and a missing gcloud", () => {
    const g = fakeGcloud("SUCCESS", DIGEST);
    const noRegion: Record<string, string> = { ...ENV };
    delete noRegion.REGION;
    expect(run(g.dir, noRegion).stderr).toMatch(/submit-build: REGION is not set/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-gcloud-"));
    const r = spawnSync("/bin/bash", [SCRIPT], { encoding: "utf8", env: { PATH: `${empty}:/nonexistent`, ...ENV } });
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/gcloud not found/)]);
  });
});
