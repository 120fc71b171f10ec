import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundleContainer } from "../../components/image/containerBundle";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { fetchWeights } from "../../container/fetcher";
import { MIB } from "../../container/fetchPlan";
import type { Manifest } from "../../container/manifest";
import { startFaultServer, type FaultServer, type Faults } from "../support/faultServer";
import { selfSigned } from "../support/selfSigned";
import { fillUp, mountTmpfs, type Tmpfs } from "../support/tmpfs";

const ROOT = path.resolve(__dirname, "../..");
// The image runs the bundled fetcher under plain node, so the command tests do too (and a SIGKILL reaches it,
// not a wrapper that would leave it running).
const BUNDLE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-fetcher-")), "fetcher.js");
beforeAll(async () => {
  await bundleContainer(ROOT, path.dirname(BUNDLE), { fetcher: "container/fetcher.ts" }); // the image's recipe
});

const FILES: Record<string, Buffer> = {
  "unet/big.safetensors": randomBytes(9 * MIB + 12345),
  "clip/text encoder.safetensors": randomBytes(3 * MIB),
  "vae/small.safetensors": randomBytes(100_000),
};
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const MANIFEST: Manifest = { files: Object.entries(FILES).map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b), source: undefined })) };

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-fetch-"));
const serve = async (faults: Faults = {}) => (server = await startFaultServer(FILES, faults));
const fetchInto = (out: string, opts: { retries?: number; connections?: number; log?: (l: string) => void; onProgress?: () => void } = {}) =>
  fetchWeights({
    manifest: MANIFEST,
    source: server!.url,
    outDir: out,
    connections: opts.connections ?? 4,
    headers: {},
    chunkBytes: 1 * MIB,
    retries: opts.retries ?? 8,
    backoffFirstMs: 5,
    log: opts.log,
    onProgress: opts.onProgress,
  });

/** Every file at its final path equals the source; nothing else is left behind. */
function expectAllVerified(out: string) {
  for (const [p, b] of Object.entries(FILES)) expect(sha(fs.readFileSync(path.join(out, p))), p).toBe(sha(b));
  const leftovers = fs.readdirSync(out, { recursive: true }).map(String).filter((f) => f.includes(".partial"));
  expect(leftovers).toEqual([]);
}

/** After a failure: no file at a final path that does not match its checksum. */
function expectNoCorruptFinalFile(out: string) {
  for (const [p, b] of Object.entries(FILES)) {
    const final = path.join(out, p);
    if (fs.existsSync(final)) expect(sha(fs.readFileSync(final)), p).toBe(sha(b));
  }
}

describe("fetcher", () => {
  test("fetches every file in ranged chunks over the pool and verifies it", async () => {
    await serve();
    const out = tmpdir();
    const result = await fetchInto(out);
    expectAllVerified(out);
    expect(result.fetched).toHaveLength(3);
    const ranged = server!.log.filter((r) => r.path === "unet/big.safetensors" && r.range !== "bytes=0-0");
    expect(ranged.every((r) => r.status === 206)).toBe(true);
    // The requests tile the file: no byte asked for twice, none missed.
    const spans = ranged.map((r) => r.range!.slice(6).split("-").map(Number)).sort((a, b) => a[0] - b[0]);
    expect(spans[0][0]).toBe(0);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBe(spans[i - 1][1] + 1);
    expect(spans[spans.length - 1][1]).toBe(FILES["unet/big.safetensors"].length - 1);
    expect(spans.length).toBeGreaterThan(4); // spread over the pool
  });

  test("asks for the largest file first", async () => {
    await serve();
    await fetchInto(tmpdir(), { connections: 1 });
    const firstChunk = server!.log.find((r) => r.range && r.range !== "bytes=0-0")!;
    expect(firstChunk.path).toBe("unet/big.safetensors");
  });

  test.each([
    ["connection resets mid-body", { resets: 6 }],
    ["500 errors", { errors500: 6 }],
    ["truncated bodies", { truncations: 6 }],
  ] as [string, Faults][])("survives %s and ends with verified files", async (_, faults) => {
    await serve(faults);
    const out = tmpdir();
    await fetchInto(out);
    expectAllVerified(out);
  });

  test("a server that ignores Range is fetched as one stream per file", async () => {
    await serve({ ignoreRange: true });
    const out = tmpdir();
    const lines: string[] = [];
    await fetchWeights({ manifest: MANIFEST, source: server!.url, outDir: out, connections: 4, headers: {}, chunkBytes: MIB, log: (l) => lines.push(l) });
    expectAllVerified(out);
    expect(lines).toContainEqual(expect.stringMatching(/unet\/big\.safetensors: the server ignores Range; fetching it as one stream/));
  });

  test("a corrupted byte fails the run naming the file, and leaves no file at its final path", async () => {
    await serve({ corrupt: { path: "clip/text encoder.safetensors", offset: 2 * MIB + 7 } });
    const out = tmpdir();
    await expect(fetchInto(out)).rejects.toThrow(/clip\/text encoder\.safetensors: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}; the file was removed/);
    expect(fs.existsSync(path.join(out, "clip/text encoder.safetensors"))).toBe(false);
    expect(fs.existsSync(path.join(out, "clip/text encoder.safetensors.partial"))).toBe(false);
    expectNoCorruptFinalFile(out);
  });

  test("a server that keeps failing ends the run with the file named after the retries", async () => {
    await serve({ errors500: 1000 });
    const out = tmpdir();
    // The file named once, then why.
    await expect(fetchInto(out, { retries: 2 })).rejects.toThrow(/^[^:]+\.safetensors: gave up after 3 attempts: HTTP 500 from the models host$/);
    expectNoCorruptFinalFile(out);
    expect(fs.readdirSync(out, { recursive: true }).map(String).filter((f) => !f.includes(".partial") && f.endsWith(".safetensors"))).toEqual([]);
  });

  test("403 and 404 say what to check", async () => {
    await serve({ requireHeader: ["x-key", "k"] });
    await expect(fetchInto(tmpdir(), { retries: 0 })).rejects.toThrow(/HTTP 403 from the models host; check the models access \(the access header and key, or the bucket's read credential\)/);
    await server!.close();
    await serve({ missing: ["vae/small.safetensors"] });
    await expect(fetchInto(tmpdir(), { retries: 0 })).rejects.toThrow(/vae\/small\.safetensors: HTTP 404: not on the models host/);
  });

  test("sends the access header", async () => {
    await serve({ requireHeader: ["x-warmstart-models-key", "s3cr3t"] });
    const out = tmpdir();
    await fetchWeights({ manifest: MANIFEST, source: server!.url, outDir: out, connections: 2, headers: { "x-warmstart-models-key": "s3cr3t" }, chunkBytes: MIB });
    expectAllVerified(out);
  });

  test("asks for each file's bytes without a probe first: the manifest gives the size", async () => {
    await serve();
    await fetchInto(tmpdir());
    expect(server!.log.filter((r) => r.range === "bytes=0-0")).toEqual([]);
    expect(server!.log.filter((r) => r.path === "vae/small.safetensors")).toHaveLength(1);
  });

  test("a server that stops honouring Range mid-file: that file is fetched as one stream, and verified", async () => {
    await serve({ ignoreRangeAfter: 3 });
    const out = tmpdir();
    const lines: string[] = [];
    await fetchInto(out, { log: (l) => lines.push(l) });
    expectAllVerified(out);
    expect(lines).toContainEqual(expect.stringMatching(/unet\/big\.safetensors: the server stopped honouring Range; fetching the file as one stream/));
  });

  test("a re-run skips verified files without a single request for them", async () => {
    await serve();
    const out = tmpdir();
    await fetchInto(out);
    server!.log.length = 0;
    const again = await fetchInto(out);
    expect(again.skipped.sort()).toEqual(Object.keys(FILES).sort());
    expect(server!.log).toEqual([]);
  });
});

describe("what is already on disk", () => {
  /** A file outside the output folder that a link under it points at. */
  const victim = () => {
    const file = path.join(tmpdir(), "precious.txt");
    fs.writeFileSync(file, "precious");
    return file;
  };

  test.each(["unet/big.safetensors.partial", "unet/big.safetensors.partial.json.tmp", "vae/small.safetensors.partial"])(
    "a symbolic link at %s is refused, naming it, and what it points at is left alone",
    async (link) => {
      await serve();
      const out = tmpdir();
      const target = victim();
      fs.mkdirSync(path.dirname(path.join(out, link)), { recursive: true });
      fs.symlinkSync(target, path.join(out, link));
      await expect(fetchInto(out, { retries: 0 })).rejects.toThrow(new RegExp(`${link.replace(/\./g, "\\.")}: is a symbolic link`));
      expect(fs.readFileSync(target, "utf8")).toBe("precious");
      expectNoCorruptFinalFile(out);
    },
  );

  test("a folder under the output folder that is a symbolic link is refused, and nothing is written through it", async () => {
    await serve();
    const out = tmpdir();
    const elsewhere = tmpdir();
    fs.symlinkSync(elsewhere, path.join(out, "unet"));
    await expect(fetchInto(out)).rejects.toThrow(/unet: is a symbolic link/);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  test("a symbolic link at a final path is refused, even to a file of the right size", async () => {
    await serve();
    const out = tmpdir();
    const zeros = path.join(tmpdir(), "zeros");
    fs.writeFileSync(zeros, Buffer.alloc(FILES["vae/small.safetensors"].length));
    fs.mkdirSync(path.join(out, "vae"));
    fs.symlinkSync(zeros, path.join(out, "vae/small.safetensors"));
    await expect(fetchInto(out)).rejects.toThrow(/vae\/small\.safetensors: is a symbolic link/);
    expect(fs.readFileSync(zeros).equals(Buffer.alloc(FILES["vae/small.safetensors"].length))).toBe(true);
  });

  test("a file of the right size but the wrong bytes at a final path is not trusted: it is fetched again", async () => {
    await serve();
    const out = tmpdir();
    fs.mkdirSync(path.join(out, "vae"));
    fs.writeFileSync(path.join(out, "vae/small.safetensors"), Buffer.alloc(FILES["vae/small.safetensors"].length));
    const lines: string[] = [];
    const result = await fetchInto(out, { log: (l) => lines.push(l) });
    expectAllVerified(out);
    expect(result.fetched).toContain("vae/small.safetensors");
    expect(lines).toContainEqual(expect.stringMatching(/vae\/small\.safetensors: the file here does not match the manifest's sha256; fetching it again/));
  });

  test("a file that starts with the right bytes but runs longer is not trusted either: the size decides before the hash", async () => {
    await serve();
    const out = tmpdir();
    fs.mkdirSync(path.join(out, "vae"));
    fs.writeFileSync(path.join(out, "vae/small.safetensors"), Buffer.concat([FILES["vae/small.safetensors"], Buffer.from("stale tail")]));
    const lines: string[] = [];
    const result = await fetchInto(out, { log: (l) => lines.push(l) });
    expectAllVerified(out);
    expect(result.fetched).toContain("vae/small.safetensors");
    expect(lines).toContainEqual(expect.stringMatching(/vae\/small\.safetensors: the file here does not match the manifest's size; fetching it again/));
  });
});

describe("a full disk", () => {
  // A real filesystem that runs out of space; FILES are ~12 MiB.
  let small: Tmpfs | string;
  let roomy: Tmpfs | string;
  beforeAll(() => {
    small = mountTmpfs(8 * MIB);
    roomy = mountTmpfs(16 * MIB);
  });
  afterAll(() => {
    for (const t of [small, roomy]) if (typeof t !== "string") t.unmount();
  });

  test("too little free space fails at once, naming the folder and the bytes needed", async () => {
    // Mounting a tmpfs needs root, as in CI (.ci/run); without it this fails saying so rather than skipping.
    if (typeof small === "string") throw new Error(`the full-disk tests need a tmpfs: ${small}`);
    await serve();
    const out = path.join(small.dir, "models");
    const needed = Object.values(FILES).reduce((n, b) => n + b.length, 0);
    await expect(fetchInto(out)).rejects.toThrow(new RegExp(`${out}: not enough free space: ${needed} bytes to write`));
    expect(server!.log).toEqual([]);
  });

  test("a disk that fills up during the download fails at once (no retries), naming the folder and the bytes still needed", async () => {
    if (typeof roomy === "string") throw new Error(`the full-disk tests need a tmpfs: ${roomy}`);
    const disk = roomy.dir;
    await serve();
    const out = path.join(disk, "models");
    const lines: string[] = [];
    let filled = false;
    const run = fetchInto(out, {
      log: (l) => lines.push(l),
      onProgress: () => {
        if (!filled) fillUp(disk);
        filled = true;
      },
    });
    await expect(run).rejects.toThrow(new RegExp(`${out}: no space left on the device: \\d+ bytes still to write`));
    expect(lines.filter((l) => /retrying/.test(l))).toEqual([]);
    expectNoCorruptFinalFile(out);
  });
});

describe("warmstart-fetch command", () => {
  const writeManifest = (dir: string, m: unknown) => {
    const file = path.join(dir, "models.json");
    fs.writeFileSync(file, JSON.stringify(m));
    return file;
  };
  const cli = (args: string[]) => spawnSync(process.execPath, [BUNDLE, ...args], { cwd: ROOT, encoding: "utf8" });
  /** For runs against the in-process server: spawnSync would block the event loop the server answers on. */
  const cliAsync = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (status) => resolve({ status, stderr }));
    });

  test("exits 0 with one-line progress and a summary when not on a terminal", async () => {
    await serve();
    const dir = tmpdir();
    const r = await cliAsync(["--manifest", writeManifest(dir, MANIFEST), "--source", server!.url, "--out", path.join(dir, "models"), "--chunk-mib", "1", "--header", "X-Key: v"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^fetch: \d.* \/ .*MB\/s ETA \d+s$/m);
    expect(r.stderr).toMatch(/fetch: done: 3 file\(s\), .* 0 already verified/);
    expectAllVerified(path.join(dir, "models"));
  });

  test("fetches over https, checking the server's certificate", async () => {
    const tls = selfSigned();
    if (typeof tls === "string") throw new Error(`the https test needs openssl (.ci/run installs it): ${tls}`);
    server = await startFaultServer(FILES, {}, tls);
    const dir = tmpdir();
    const args = (out: string) => ["--manifest", writeManifest(dir, MANIFEST), "--source", server!.url, "--out", path.join(dir, out), "--chunk-mib", "1", "--progress", "none"];
    const trusted = await cliAsync(args("trusted"), { NODE_EXTRA_CA_CERTS: tls.certFile });
    expect(trusted.status, trusted.stderr).toBe(0);
    expectAllVerified(path.join(dir, "trusted"));
    const untrusted = await cliAsync([...args("untrusted"), "--retries", "0"]);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toMatch(/self[- ]signed certificate/);
  });

  test("--url-map gives each file its own URL (presigned GETs), query string and all", async () => {
    await serve();
    const dir = tmpdir();
    const map = Object.fromEntries(Object.keys(FILES).map((p) => [p, `${server!.url}/${p}?X-Amz-Signature=abc&X-Amz-Expires=604800`]));
    fs.writeFileSync(path.join(dir, "urls.json"), JSON.stringify(map));
    const r = await cliAsync(["--manifest", writeManifest(dir, MANIFEST), "--url-map", path.join(dir, "urls.json"), "--out", path.join(dir, "models"), "--chunk-mib", "1"]);
    expect(r.status, r.stderr).toBe(0);
    expectAllVerified(path.join(dir, "models"));
    fs.writeFileSync(path.join(dir, "partial.json"), JSON.stringify({ "vae/small.safetensors": map["vae/small.safetensors"] }));
    const missing = cli(["--manifest", writeManifest(dir, MANIFEST), "--url-map", path.join(dir, "partial.json"), "--out", dir]);
    expect([missing.status, missing.stderr]).toEqual([2, expect.stringMatching(/--url-map has no URL for unet\/big\.safetensors, clip\/text encoder\.safetensors$/m)]);
  });

  test("refuses entries without size and sha256, exit 2", () => {
    const dir = tmpdir();
    const r = cli(["--manifest", writeManifest(dir, { files: [{ path: "unet/a.safetensors", source: "https://huggingface.co/a" }] }), "--source", "http://127.0.0.1:9", "--out", dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/without size or sha256 cannot be verified: unet\/a\.safetensors; record each file's size and sha256/);
  });

  test("bad usage and a bad manifest exit 2 with a one-line reason", () => {
    const dir = tmpdir();
    expect(cli(["--source", "http://x", "--out", dir]).stderr).toMatch(/--manifest is required/);
    const bad = cli(["--manifest", writeManifest(dir, { files: [{ path: "/abs", size: 1, sha256: "x" }] }), "--source", "http://127.0.0.1:9", "--out", dir]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/files\[0\]: "path" must be relative/);
    expect(cli(["--manifest", "m", "--source", "http://x", "--out", dir, "--connections", "0"]).stderr).toMatch(/--connections must be an integer 1\.\.256, got "0"/);
  });

  test("a header file without a colon is refused naming the file and the rule, never showing its content", () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, "header.txt"), "s3cr3t-only-the-key\n");
    const r = cli(["--manifest", writeManifest(dir, MANIFEST), "--source", "http://127.0.0.1:9", "--header-file", path.join(dir, "header.txt"), "--out", dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/header\.txt: line 1 must look like "Name: value"/);
    expect(r.stdout + r.stderr).not.toContain("s3cr3t");
  });

  test("a URL map or access file that is not JSON is refused without showing its content", () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, "urls.json"), "https://h/x?X-Amz-Signature=deadbeefsecret");
    fs.writeFileSync(path.join(dir, "access.json"), '{"endpoint": "https://x", "secretAccessKey": topsecret}');
    const m = writeManifest(dir, MANIFEST);
    const urls = cli(["--manifest", m, "--url-map", path.join(dir, "urls.json"), "--out", dir]);
    const access = cli(["--manifest", m, "--s3-access", path.join(dir, "access.json"), "--out", dir]);
    expect([urls.status, access.status]).toEqual([2, 2]);
    expect(urls.stderr).toMatch(/urls\.json: not valid JSON/);
    expect(access.stderr).toMatch(/access\.json: not valid JSON/);
    expect(urls.stdout + urls.stderr + access.stdout + access.stderr).not.toMatch(/deadbeef|topsecret/);
  });

  test("a URL that is not http(s), or a header value with a control character, is a usage error that shows neither", () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, "urls.json"), JSON.stringify(Object.fromEntries(Object.keys(FILES).map((p) => [p, `file:///etc/${p}?sig=s3cr3t`]))));
    const m = writeManifest(dir, MANIFEST);
    const url = cli(["--manifest", m, "--url-map", path.join(dir, "urls.json"), "--out", dir, "--retries", "0"]);
    expect([url.status, url.stderr]).toEqual([2, expect.stringMatching(/unet\/big\.safetensors: its URL is not an http\(s\) URL/)]);
    const header = cli(["--manifest", m, "--source", "http://127.0.0.1:9", "--header", "X-Key: s3cr3t\rX-Other: 1", "--out", dir, "--retries", "0"]);
    expect([header.status, header.stderr]).toEqual([2, expect.stringMatching(/--header #1 must look like "Name: value"/)]);
    expect(url.stderr + header.stderr).not.toContain("s3cr3t");
  });

  test("a resume state that cannot be written ends the run with one line and exit 1, not a stack trace", async () => {
    await serve();
    const dir = tmpdir();
    const out = path.join(dir, "models");
    // A folder where the state's temporary file goes: writing it fails (EISDIR).
    fs.mkdirSync(path.join(out, "unet/big.safetensors.partial.json.tmp"), { recursive: true });
    const r = await cliAsync(["--manifest", writeManifest(dir, MANIFEST), "--source", server!.url, "--out", out, "--chunk-mib", "1", "--progress", "none"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^warmstart-fetch: .*unet\/big\.safetensors\.partial\.json\.tmp: /m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test("resumes after a kill: verified files are not fetched again, finished chunks are kept", async () => {
    await serve({ bytesPerSecond: 1 * MIB });
    const dir = tmpdir();
    const out = path.join(dir, "models");
    const args = ["--manifest", writeManifest(dir, MANIFEST), "--source", server!.url, "--out", out, "--chunk-mib", "1", "--connections", "2", "--progress", "none"];
    const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, stdio: "ignore" });
    // Wait until some chunks of the big file are recorded, then kill hard.
    const state = path.join(out, "unet/big.safetensors.partial.json");
    for (let i = 0; i < 200 && !(fs.existsSync(state) && JSON.parse(fs.readFileSync(state, "utf8")).done.length >= 2); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const kept = JSON.parse(fs.readFileSync(state, "utf8")).done as number[];
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(path.join(out, "unet/big.safetensors")), "killed before the big file completed").toBe(false);
    const verifiedBefore = Object.keys(FILES).filter((p) => fs.existsSync(path.join(out, p)));

    server!.faults = {};
    server!.log.length = 0;
    const r = await cliAsync(args);
    expect(r.status, r.stderr).toBe(0);
    expectAllVerified(out);
    const bigSpans = server!.log
      .filter((e) => e.path === "unet/big.safetensors" && e.range !== "bytes=0-0")
      .map((e) => e.range!.slice(6).split("-").map(Number));
    for (const p of verifiedBefore) expect(server!.log.filter((e) => e.path === p), p).toEqual([]);
    // No request of the second run touches a chunk the first run had completed.
    for (const i of kept) for (const [a, b] of bigSpans) expect(b < i * MIB || a >= (i + 1) * MIB, `chunk ${i} refetched by ${a}-${b}`).toBe(true);
  });
});
