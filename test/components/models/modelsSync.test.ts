import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { r2S3Endpoint } from "../../../components/models/r2";
import { huggingFaceAuth, partSizeFor, r2Client, stackSyncAccess, syncModels, waitForBucketAccess } from "../../../scripts/models-sync";
import { startFaultServer, type FaultServer } from "../../support/faultServer";
import { startForbiddenServer } from "../../support/forbiddenServer";

const ROOT = path.resolve(__dirname, "../../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const MIB = 1024 * 1024;
const FILES: Record<string, Buffer> = {
  "unet/big.safetensors": randomBytes(12 * MIB + 7),
  "vae/ae.safetensors": randomBytes(300_000),
};
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const BUCKET = "models";

let s3: S3rver;
let endpoint: string;
let sources: FaultServer;
const client = () => r2Client(endpoint, "S3RVER", "S3RVER");

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-"));
  s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const addr = (await s3.run()) as { port: number };
  endpoint = `http://127.0.0.1:${addr.port}`;
  sources = await startFaultServer(FILES);
});
afterAll(async () => {
  await sources.close();
  await s3.close();
});

function manifestFile(entries: object[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sync-manifest-")), "models.json");
  fs.writeFileSync(file, JSON.stringify({ files: entries }, null, 2));
  return file;
}
const unsynced = (prefix = "") => Object.keys(FILES).map((p) => ({ path: `${prefix}${p}`, source: `${sources.url}/${p}` }));
async function objectBytes(key: string): Promise<Buffer> {
  const r = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe("models:sync against a local S3 server", () => {
  test("streams every source into the bucket in parts, stores sha256 as metadata and writes size and sha256 back", async () => {
    sources.faults = {};
    const file = manifestFile(unsynced("a/"));
    const r = await syncModels({ manifestPath: file, bucket: BUCKET, client: client(), minPartBytes: 5 * MIB });
    expect(r.uploaded.sort()).toEqual(["a/unet/big.safetensors", "a/vae/ae.safetensors"]);
    for (const [p, b] of Object.entries(FILES)) {
      expect(sha(await objectBytes(`a/${p}`))).toBe(sha(b));
      const head = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: `a/${p}` }));
      expect(head.Metadata?.sha256).toBe(sha(b));
    }
    const written = JSON.parse(fs.readFileSync(file, "utf8")).files;
    expect(written).toEqual(Object.entries(FILES).map(([p, b]) => ({ path: `a/${p}`, size: b.length, sha256: sha(b), source: `${sources.url}/${p}` })));
  });

  test("a re-run skips what is already there, without fetching the sources", async () => {
    const file = manifestFile(unsynced("b/"));
    await syncModels({ manifestPath: file, bucket: BUCKET, client: client(), minPartBytes: 5 * MIB });
    sources.log.length = 0;
    const again = await syncModels({ manifestPath: file, bucket: BUCKET, client: client(), minPartBytes: 5 * MIB });
    expect(again.skipped.sort()).toEqual(["b/unet/big.safetensors", "b/vae/ae.safetensors"]);
    expect(sources.log).toEqual([]);
  });

  test("uses the source's own sha256 (X-Linked-Etag) instead of reading the file twice", async () => {
    sources.faults = { linkedEtag: true };
    sources.log.length = 0;
    await syncModels({ manifestPath: manifestFile(unsynced("c/")), bucket: BUCKET, client: client(), minPartBytes: 5 * MIB });
    expect(sources.log.filter((e) => e.path === "unet/big.safetensors" && e.bytes > 0)).toHaveLength(1);
    sources.faults = {};
  });

  test("a source that dies mid-stream leaves no object and an unchanged manifest entry", async () => {
    const entries = [{ path: "d/unet/big.safetensors", source: `${sources.url}/unet/big.safetensors`, size: FILES["unet/big.safetensors"].length, sha256: sha(FILES["unet/big.safetensors"]) }];
    const file = manifestFile(entries);
    sources.faults = { resets: 1000 };
    await expect(syncModels({ manifestPath: file, bucket: BUCKET, client: client(), minPartBytes: 5 * MIB })).rejects.toThrow(/d\/unet\/big\.safetensors: upload failed, nothing was stored/);
    sources.faults = {};
    await expect(client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: "d/unet/big.safetensors" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(JSON.parse(fs.readFileSync(file, "utf8")).files).toEqual(entries);
  });

  test("bytes that do not match the manifest's sha256 are not stored", async () => {
    const file = manifestFile([{ path: "e/vae/ae.safetensors", source: `${sources.url}/vae/ae.safetensors`, size: FILES["vae/ae.safetensors"].length, sha256: "0".repeat(64) }]);
    await expect(syncModels({ manifestPath: file, bucket: BUCKET, client: client() })).rejects.toThrow(/expected 300000 bytes with 0{64}/);
    await expect(client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: "e/vae/ae.safetensors" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  test("the command, run as pulumi up runs it, prints the synced manifest alone on stdout", async () => {
    const file = manifestFile(unsynced("g/"));
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(TSX, ["scripts/models-sync.ts", "--manifest", file, "--print-manifest"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, R2_ENDPOINT: endpoint, R2_BUCKET: BUCKET, R2_ACCESS_KEY_ID: "S3RVER", R2_SECRET_ACCESS_KEY: "S3RVER" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(fs.readFileSync(file, "utf8")));
    expect(printed.files.map((f: { sha256: string }) => f.sha256)).toEqual(Object.values(FILES).map(sha));
    expect(r.stderr).toMatch(/models:sync: 2 uploaded, 0 already there/);
  });

  test("a gated source is opened with HF_TOKEN, and without it the error says to set one", async () => {
    sources.faults = { requireHeader: ["authorization", "Bearer hf_test_token"] };
    const file = manifestFile(unsynced("h/"));
    await expect(syncModels({ manifestPath: file, bucket: BUCKET, client: client(), minPartBytes: 5 * MIB })).rejects.toThrow(
      /HTTP 403: the source wants a token \(a gated or private Hugging Face repository\?\); set HF_TOKEN, or warmstart:huggingFaceToken/,
    );
    // The loopback source stands in for a mirror named by HF_ENDPOINT.
    const r = await syncModels({ manifestPath: file, bucket: BUCKET, client: client(), minPartBytes: 5 * MIB, sourceHeaders: huggingFaceAuth("hf_test_token", sources.url) });
    expect(r.uploaded.sort()).toEqual(["h/unet/big.safetensors", "h/vae/ae.safetensors"]);
    sources.faults = {};
  });

  test("--only syncs one entry", async () => {
    const file = manifestFile(unsynced("f/"));
    const r = await syncModels({ manifestPath: file, bucket: BUCKET, client: client(), only: "f/vae/ae.safetensors" });
    expect(r.uploaded).toEqual(["f/vae/ae.safetensors"]);
    await expect(syncModels({ manifestPath: file, bucket: BUCKET, client: client(), only: "nope" })).rejects.toThrow(/no entry with path "nope"/);
  });
});

test("parts: 64 MiB at least, and 10,000 of them cover any file", () => {
  expect(partSizeFor(23e9)).toBe(64 * MIB);
  expect(partSizeFor(1e12)).toBeGreaterThanOrEqual(1e12 / 10_000);
  expect(partSizeFor(1e12) % MIB).toBe(0);
});

test("the command names what is missing and exits 2", () => {
  const r = spawnSync(TSX, ["scripts/models-sync.ts", "--manifest", "container/models.json"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { PATH: process.env.PATH },
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/missing --bucket .*R2_ACCESS_KEY_ID \(or --stack\), R2_SECRET_ACCESS_KEY \(or --stack\)/);
});

describe("credentials from the stack (--stack)", () => {
  /** A stand-in `pulumi` that answers `stack output` as given and records its arguments. */
  function fakePulumi(script: string): { bin: string; args: () => string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    const bin = path.join(dir, "pulumi");
    fs.writeFileSync(bin, `#!/bin/sh\necho "$@" > "${dir}/args"\n${script}\n`, { mode: 0o755 });
    return { bin, args: () => fs.readFileSync(path.join(dir, "args"), "utf8").trim() };
  }
  const access = { endpoint: "https://a.r2.cloudflarestorage.com", bucket: "warmstart-models", accessKeyId: "id", secretAccessKey: "s" };

  test("reads the stack's modelsSyncAccess output, decrypted by the CLI", () => {
    const p = fakePulumi(`echo '${JSON.stringify(access)}'`);
    expect(stackSyncAccess("prod", p.bin)).toEqual(access);
    expect(p.args()).toBe("stack output modelsSyncAccess --show-secrets --json --stack prod");
  });

  test("a stack without the output says how to get one", () => {
    const p = fakePulumi(`echo 'error: current stack does not have output property "modelsSyncAccess"' >&2; exit 255`);
    expect(() => stackSyncAccess("prod", p.bin)).toThrow(/--stack prod: the stack has no modelsSyncAccess output .*set warmstart:syncModelsOnDeploy true and run pulumi up/);
  });

  test("no Pulumi CLI, or an output without a field, is a clear error", () => {
    expect(() => stackSyncAccess("prod", "/nonexistent/pulumi")).toThrow(/cannot run the Pulumi CLI/);
    const p = fakePulumi(`echo '${JSON.stringify({ ...access, secretAccessKey: undefined })}'`);
    expect(() => stackSyncAccess("prod", p.bin)).toThrow(/modelsSyncAccess has no "secretAccessKey"/);
  });
});

test("endpoints per jurisdiction, and an unknown --jurisdiction is a usage error", () => {
  expect(r2S3Endpoint("abc")).toBe("https://abc.r2.cloudflarestorage.com");
  expect(r2S3Endpoint("abc", "eu")).toBe("https://abc.eu.r2.cloudflarestorage.com");
  expect(r2S3Endpoint("abc", "fedramp")).toBe("https://abc.fedramp.r2.cloudflarestorage.com");
  const r = spawnSync(TSX, ["scripts/models-sync.ts", "--manifest", "container/models.json", "--jurisdiction", "asia"], { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH } });
  expect([r.status, r.stderr.split("\n")[0]]).toEqual([2, 'models:sync: --jurisdiction must be one of default, eu, us, fedramp, got "asia"']);
  expect(r.stderr).toMatch(/^Usage: npm run models:sync -- /m);
});

describe("waiting for a new write token", () => {
  /** An S3 endpoint that answers 403 to the first `forbidden` requests, then 404 (allowed, no such key). */
  const s3Stub = (forbidden: number) => startForbiddenServer(forbidden, { status: 404 });

  test("403s that clear within the wait are waited out, and said so", async () => {
    const stub = await s3Stub(2);
    const lines: string[] = [];
    await waitForBucketAccess(r2Client(stub.url, "k", "s"), "models", 5000, (l) => lines.push(l), 10);
    expect(stub.seen()).toBe(3);
    expect(lines[0]).toMatch(/HTTP 403 from bucket models; a new token can take a minute to work, waiting/);
    await stub.close();
  });

  test("a key the bucket does not know fails after the wait, blaming the credentials", async () => {
    await expect(waitForBucketAccess(r2Client(endpoint, "NOT-A-KEY", "x"), BUCKET, 30, () => undefined, 10)).rejects.toThrow(
      /HTTP 403 from bucket models for 0 s: the credentials are wrong or may not write this bucket/,
    );
    await expect(waitForBucketAccess(client(), BUCKET, 30, () => undefined, 10)).resolves.toBeUndefined();
  });
});

test("the Hugging Face token goes to Hugging Face (or the HF_ENDPOINT mirror) only", () => {
  const auth = huggingFaceAuth("hf_x", "https://hf-mirror.example.net");
  const bearer = { authorization: "Bearer hf_x" };
  expect(auth("https://huggingface.co/org/repo/resolve/main/a.safetensors")).toEqual(bearer);
  expect(auth("https://hf.co/org/repo/resolve/main/a.safetensors")).toEqual(bearer);
  expect(auth("https://hf-mirror.example.net/org/repo/resolve/main/a")).toEqual(bearer);
  for (const other of ["https://civitai.com/api/download/models/1", "https://huggingface.co.evil.io/a", "https://cdn-lfs.hf.co.example.com/a"]) expect(auth(other), other).toEqual({});
  expect(huggingFaceAuth(undefined)("https://huggingface.co/a")).toEqual({});
});
