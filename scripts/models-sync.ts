/**
 * npm run models:sync -- --manifest container/models.json [--only PATH] [--bucket NAME] [--endpoint URL | --account-id ID]
 *
 * Streams each manifest entry that has a `source` URL into the R2 bucket through the S3 API (multipart, parts
 * sized so 10,000 cover the file, several in flight), computing sha256 and size on the way; stores the sha256 as
 * object metadata and writes size and sha256 back into the manifest, so the fetcher can verify. An entry whose
 * object already has the same size and sha256 is skipped. A source that fails mid-stream leaves no object.
 *
 * The sha256 is needed when the upload starts (metadata is set then): it is the manifest's, else the source's own
 * (Hugging Face sends it as X-Linked-Etag for LFS files), else one extra pass over the source computes it.
 *
 * Credentials: R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY, or --stack NAME (the stack's write token, exported as
 * modelsSyncAccess with warmstart:syncModelsOnDeploy). Bucket: --bucket or R2_BUCKET. Endpoint: --endpoint,
 * R2_ENDPOINT, or https://<--account-id | CLOUDFLARE_ACCOUNT_ID>.r2.cloudflarestorage.com.
 * Exit codes: 0 all synced; 1 an upload failed; 2 bad usage or manifest.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { MultiBar, type SingleBar } from "cli-progress";
import { R2_JURISDICTIONS, r2S3Endpoint, type R2Jurisdiction } from "../components/models/r2";
import { NEW_TOKEN_WAIT_SECONDS, waitWhileForbidden } from "../container/accessWait";
import { command, numberFlag, readFlagFile, runCommand, UsageError, type Values } from "../container/cli";
import { CommandError } from "../container/commandError";
import { ManifestError, parseManifest, type ManifestFile } from "../container/manifest";
import type { S3Access } from "../container/presign";

const MIB = 1024 * 1024;
const MIN_PART_BYTES = 64 * MIB;
const MAX_PARTS = 10_000;
/** A key no manifest uses: asking for it tells "allowed, not there" (404) from "not allowed" (403). */
const ACCESS_PROBE_KEY = ".warmstart-access-probe";

/** A failure of the sync; `exitCode` says which kind. */
export class SyncError extends CommandError {}

/** All parts but the last are this size; 10,000 parts must cover the file. */
export function partSizeFor(size: number | undefined, minPartBytes = MIN_PART_BYTES): number {
  if (size === undefined) return 100 * MIB;
  return Math.max(minPartBytes, Math.ceil(size / MAX_PARTS / MIB) * MIB);
}

export interface SyncOptions {
  readonly manifestPath: string;
  readonly only?: string;
  readonly bucket: string;
  readonly client: S3Client;
  /** Smallest part; 64 MiB by default (lib-storage's 5 MiB would cap an object at ~48.8 GiB). */
  readonly minPartBytes?: number;
  readonly log?: (line: string) => void;
  readonly onProgress?: (file: string, bytes: number, total: number | undefined) => void;
  /** Headers for the sources (default none); the command line sends HF_TOKEN to Hugging Face. */
  readonly sourceHeaders?: SourceHeaders;
}

export interface SyncResult {
  readonly uploaded: string[];
  readonly skipped: string[];
  /** The manifest's entries after the sync, sizes and sha256 filled in where a source was synced. */
  readonly files: ManifestFile[];
}

/** The R2 client as R2 wants it: region auto, and no CRC32 checksums (recent SDKs send them by default; R2 rejected them). */
export function r2Client(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    region: "auto",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Headers to send to a source URL (e.g. a Hugging Face token); none by default. */
export type SourceHeaders = (url: string) => Record<string, string>;

/**
 * A Hugging Face token for gated and private repositories, sent only to Hugging Face's hosts and to a mirror named
 * by HF_ENDPOINT (huggingface_hub's own variables). fetch drops it on the cross-origin redirect to the file CDN.
 */
export function huggingFaceAuth(token: string | undefined, endpoint?: string): SourceHeaders {
  const mirror = endpoint ? new URL(endpoint).host : undefined;
  return (url): Record<string, string> => {
    const host = new URL(url).host;
    const hf = host === "huggingface.co" || host === "hf.co" || host.endsWith(".huggingface.co") || host === mirror;
    return token && hf ? { authorization: `Bearer ${token}` } : {};
  };
}

function sourceError(url: string, status: number): SyncError {
  if (status === 401 || status === 403) {
    return new SyncError(`${url}: HTTP ${status}: the source wants a token (a gated or private Hugging Face repository?); set HF_TOKEN, or warmstart:huggingFaceToken for pulumi up`);
  }
  return new SyncError(`${url}: HTTP ${status}`);
}

async function openSource(url: string, headers: SourceHeaders): Promise<{ body: Readable; size: number | undefined }> {
  const res = await fetch(url, { redirect: "follow", headers: headers(url) });
  if (!res.ok || !res.body) throw sourceError(url, res.status);
  const len = res.headers.get("content-length");
  return { body: Readable.fromWeb(res.body as unknown as WebReadableStream), size: len === null ? undefined : Number(len) };
}

/** The source's own sha256 and size, when it states them (Hugging Face: X-Linked-Etag / X-Linked-Size on LFS files). */
async function sourceDigest(url: string, headers: SourceHeaders): Promise<{ sha256: string; size: number } | undefined> {
  const res = await fetch(url, { method: "HEAD", redirect: "manual", headers: headers(url) });
  const etag = res.headers.get("x-linked-etag")?.replace(/"/g, "");
  const size = Number(res.headers.get("x-linked-size"));
  return etag && /^[0-9a-f]{64}$/.test(etag) && size > 0 ? { sha256: etag, size } : undefined;
}

async function hashSource(url: string, headers: SourceHeaders): Promise<{ sha256: string; size: number }> {
  const { body } = await openSource(url, headers);
  const h = createHash("sha256");
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest("hex"), size };
}

async function objectMatches(client: S3Client, bucket: string, key: string, size: number, sha256: string): Promise<boolean> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength === size && head.Metadata?.sha256 === sha256;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** The manifest's JSON form, keys in the order people write them. */
export function manifestJson(files: readonly ManifestFile[], indent?: number): string {
  return JSON.stringify({ files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, source: f.source })) }, null, indent);
}

/** Writes the manifest atomically, so an interrupted sync never leaves it half-written. */
function writeManifest(path: string, files: ManifestFile[]): void {
  fs.writeFileSync(`${path}.tmp`, manifestJson(files, 2) + "\n");
  fs.renameSync(`${path}.tmp`, path);
}

export async function syncModels(o: SyncOptions): Promise<SyncResult> {
  const log = o.log ?? (() => undefined);
  const headers = o.sourceHeaders ?? (() => ({}));
  let manifest;
  try {
    manifest = parseManifest(fs.readFileSync(o.manifestPath, "utf8"), o.manifestPath);
  } catch (err) {
    throw new SyncError(err instanceof ManifestError ? err.message : `${o.manifestPath}: ${(err as Error).message}`, 2);
  }
  const files = [...manifest.files];
  if (o.only && !files.some((f) => f.path === o.only)) throw new SyncError(`${o.manifestPath}: no entry with path "${o.only}"`, 2);
  const result: SyncResult = { uploaded: [], skipped: [], files };
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    if (o.only && f.path !== o.only) continue;
    if (!f.source) {
      log(`${f.path}: no source; skipped`);
      continue;
    }
    let expected = f.size !== undefined && f.sha256 !== undefined ? { size: f.size, sha256: f.sha256 } : undefined;
    if (expected && (await objectMatches(o.client, o.bucket, f.path, expected.size, expected.sha256))) {
      log(`${f.path}: already in the bucket with the same size and sha256`);
      result.skipped.push(f.path);
      continue;
    }
    expected ??= await sourceDigest(f.source, headers);
    if (!expected) {
      log(`${f.path}: the source states no sha256; reading it once to compute it`);
      expected = await hashSource(f.source, headers);
    }
    if (await objectMatches(o.client, o.bucket, f.path, expected.size, expected.sha256)) {
      files[i] = { ...f, ...expected };
      writeManifest(o.manifestPath, files);
      result.skipped.push(f.path);
      continue;
    }

    const { body } = await openSource(f.source, headers);
    const hash = createHash("sha256");
    let seen = 0;
    const want = expected;
    // Checks the bytes as they pass; failing at the end makes lib-storage abort the upload, so no object appears.
    const verify = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        seen += chunk.length;
        o.onProgress?.(f.path, seen, want.size);
        done(null, chunk);
      },
      flush(done) {
        const got = hash.digest("hex");
        if (seen !== want.size || got !== want.sha256) done(new SyncError(`${f.path}: the source sent ${seen} bytes with sha256 ${got}, expected ${want.size} bytes with ${want.sha256}`));
        else done();
      },
    });
    body.on("error", (err) => verify.destroy(err));
    const upload = new Upload({
      client: o.client,
      params: { Bucket: o.bucket, Key: f.path, Body: body.pipe(verify), Metadata: { sha256: want.sha256 }, ContentType: "application/octet-stream" },
      partSize: partSizeFor(want.size, o.minPartBytes),
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      throw new SyncError(`${f.path}: upload failed, nothing was stored: ${(err as Error).message}`);
    }
    files[i] = { ...f, ...want };
    writeManifest(o.manifestPath, files);
    log(`${f.path}: uploaded ${want.size} bytes, sha256 ${want.sha256}`);
    result.uploaded.push(f.path);
  }
  return result;
}

const MODELS_SYNC = command({
  name: "models:sync",
  purpose: "Uploads the manifest's weight files from their source URLs to the R2 bucket, recording size and sha256.",
  usage: "npm run models:sync -- --manifest FILE [--only PATH] [--bucket NAME] [--endpoint URL | --account-id ID] [options]",
  about: `Streams each entry with a \`source\` URL into the bucket (multipart, verified on the way), stores its sha256 as object
metadata and writes size and sha256 back into the manifest, which the image build's fetcher verifies against. An
entry already in the bucket with the same size and sha256 is skipped. Credentials come from R2_ACCESS_KEY_ID and
R2_SECRET_ACCESS_KEY, or from --stack (the stack's write token, its modelsSyncAccess output, made with
warmstart:syncModelsOnDeploy).`,
  flags: {
    manifest: { type: "string", value: "FILE", required: true, help: "the manifest to sync and update in place (container/models.json)" },
    only: { type: "string", value: "PATH", defaultText: "every entry with a source", help: "sync this entry alone" },
    bucket: { type: "string", value: "NAME", defaultText: "R2_BUCKET, else the stack's", help: "the R2 bucket (pulumi stack output modelsBucketName)" },
    endpoint: { type: "string", value: "URL", defaultText: "R2_ENDPOINT, else made from the account id, else the stack's", help: "the bucket's S3 endpoint" },
    "account-id": { type: "string", value: "ID", defaultText: "CLOUDFLARE_ACCOUNT_ID", help: "the Cloudflare account, for the endpoint" },
    jurisdiction: { type: "string", value: "J", defaultText: "none", help: `the bucket's jurisdiction, for the endpoint: ${R2_JURISDICTIONS.filter((j) => j !== "default").join(", ")}` },
    stack: { type: "string", value: "NAME", defaultText: "none", help: "take what is not set from this stack's write token (read with the Pulumi CLI)" },
    "print-manifest": { type: "boolean", help: "print the synced manifest as JSON on stdout (logs go to stderr), as pulumi up reads it" },
    "access-wait": { type: "string", value: "S", default: String(NEW_TOKEN_WAIT_SECONDS), help: "seconds a 403 is waited out first, as a token made moments ago can take a minute to work" },
  },
  env: {
    R2_ACCESS_KEY_ID: "the write token's S3 access key id (default: the stack's, with --stack)",
    R2_SECRET_ACCESS_KEY: "its secret (default: the stack's, with --stack)",
    R2_BUCKET: "the bucket, when --bucket is not given",
    R2_ENDPOINT: "the endpoint, when --endpoint is not given",
    CLOUDFLARE_ACCOUNT_ID: "the account, when --account-id is not given",
    HF_TOKEN: "a Hugging Face token for gated and private repositories; sent to Hugging Face only (default none)",
    HF_ENDPOINT: "a Hugging Face mirror that also gets HF_TOKEN (default none)",
  },
  example: "R2_ACCESS_KEY_ID=... R2_SECRET_ACCESS_KEY=... npm run models:sync -- --manifest container/models.json --bucket warmstart-models --account-id 0123abcd",
  exitCodes: { 0: "every entry synced or already there", 1: "a source or an upload failed", 2: "bad usage or manifest, or no credentials" },
});

/**
 * Waits until the credentials may use the bucket: a 403 on a probe object is waited out for up to `maxWaitMs`,
 * any other answer ends the wait (the sync reports what it meets itself).
 */
export async function waitForBucketAccess(client: S3Client, bucket: string, maxWaitMs: number, log: (line: string) => void, pollMs = 5000): Promise<void> {
  const probe = async () => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: ACCESS_PROBE_KEY }));
      return 200;
    } catch (err) {
      return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    }
  };
  await waitWhileForbidden(probe, {
    maxWaitMs,
    pollMs,
    onWait: (s) => log(`HTTP 403 from bucket ${bucket}; a new token can take a minute to work, waiting (${s} s so far)`),
    giveUp: (s) => new SyncError(`HTTP 403 from bucket ${bucket} for ${s} s: the credentials are wrong or may not write this bucket`),
  });
}

/** Reads the stack's `modelsSyncAccess` output (the bucket's S3 write access) through the Pulumi CLI, which decrypts it. */
export function stackSyncAccess(stack: string, pulumiBin = "pulumi"): S3Access {
  const r = spawnSync(pulumiBin, ["stack", "output", "modelsSyncAccess", "--show-secrets", "--json", "--stack", stack], { encoding: "utf8" });
  if (r.error) throw new SyncError(`--stack ${stack}: cannot run the Pulumi CLI (${r.error.message}); install it, or set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY`, 2);
  if (r.status !== 0) {
    throw new SyncError(
      `--stack ${stack}: the stack has no modelsSyncAccess output (pulumi said: ${r.stderr.trim().split("\n").pop()}); set warmstart:syncModelsOnDeploy true and run pulumi up, or set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY`,
      2,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(r.stdout);
    if (typeof value === "string") value = JSON.parse(value);
  } catch {
    throw new SyncError(`--stack ${stack}: modelsSyncAccess is not JSON`, 2);
  }
  const v = value as Partial<S3Access> | null;
  for (const k of ["endpoint", "bucket", "accessKeyId", "secretAccessKey"] as const) {
    if (typeof v?.[k] !== "string" || v[k] === "") throw new SyncError(`--stack ${stack}: modelsSyncAccess has no "${k}"`, 2);
  }
  return v as S3Access;
}

async function main(values: Values<typeof MODELS_SYNC.flags>): Promise<number> {
  const env = process.env;
  // The manifest first: a wrong path or a bad entry is said before credentials are looked for.
  try {
    parseManifest(readFlagFile("--manifest", values.manifest), values.manifest);
  } catch (err) {
    throw err instanceof ManifestError ? new SyncError(err.message, 2) : err;
  }
  const jurisdiction = values.jurisdiction ?? "default";
  const accessWait = numberFlag("access-wait", values["access-wait"], 0, 3600, { integer: true });
  if (!(R2_JURISDICTIONS as readonly string[]).includes(jurisdiction)) throw new UsageError(`--jurisdiction must be one of ${R2_JURISDICTIONS.join(", ")}, got "${jurisdiction}"`);
  const fromStack = values.stack && !(env.R2_ACCESS_KEY_ID && env.R2_SECRET_ACCESS_KEY) ? stackSyncAccess(values.stack) : undefined;
  const accountId = values["account-id"] ?? env.CLOUDFLARE_ACCOUNT_ID;
  const endpoint = values.endpoint ?? env.R2_ENDPOINT ?? (accountId ? r2S3Endpoint(accountId, jurisdiction as R2Jurisdiction) : fromStack?.endpoint);
  const bucket = values.bucket ?? env.R2_BUCKET ?? fromStack?.bucket;
  const accessKeyId = fromStack?.accessKeyId ?? env.R2_ACCESS_KEY_ID;
  const secretAccessKey = fromStack?.secretAccessKey ?? env.R2_SECRET_ACCESS_KEY;
  const missing = [
    !bucket && "--bucket (or R2_BUCKET; see `pulumi stack output modelsBucketName`)",
    !endpoint && "--endpoint or --account-id (or R2_ENDPOINT / CLOUDFLARE_ACCOUNT_ID)",
    !accessKeyId && "R2_ACCESS_KEY_ID (or --stack)",
    !secretAccessKey && "R2_SECRET_ACCESS_KEY (or --stack)",
  ].filter(Boolean);
  if (missing.length) throw new UsageError(`missing ${missing.join(", ")}`);
  // A bar per file on a terminal; a line every 10 s otherwise.
  const bars = process.stderr.isTTY ? new MultiBar({ format: "{file} {bar} {percentage}% | {mb} MB", stream: process.stderr, hideCursor: true }) : undefined;
  const perFile = new Map<string, SingleBar>();
  let lastLine = 0;
  const onProgress = (file: string, bytes: number, total: number | undefined) => {
    if (bars) {
      let bar = perFile.get(file);
      if (!bar) perFile.set(file, (bar = bars.create(total ?? bytes, 0, { file, mb: "0" })));
      bar.update(bytes, { file, mb: (bytes / 1e6).toFixed(0) });
    } else if (Date.now() - lastLine > 10_000) {
      lastLine = Date.now();
      console.error(`models:sync: ${file}: ${(bytes / 1e6).toFixed(0)}${total ? ` / ${(total / 1e6).toFixed(0)}` : ""} MB`);
    }
  };
  let r: SyncResult;
  try {
    const client = r2Client(endpoint!, accessKeyId!, secretAccessKey!);
    await waitForBucketAccess(client, bucket!, accessWait * 1000, (l) => console.error(`models:sync: ${l}`));
    r = await syncModels({
      manifestPath: values.manifest,
      only: values.only,
      bucket: bucket!,
      client,
      sourceHeaders: huggingFaceAuth(env.HF_TOKEN, env.HF_ENDPOINT),
      log: (l) => console.error(`models:sync: ${l}`),
      onProgress,
    });
  } finally {
    bars?.stop();
  }
  console.error(`models:sync: ${r.uploaded.length} uploaded, ${r.skipped.length} already there`);
  // For `pulumi up` (syncModelsOnDeploy): the build uses exactly what was synced, whatever the file on disk holds.
  if (values["print-manifest"]) process.stdout.write(manifestJson(r.files) + "\n");
  return 0;
}

if (require.main === module) {
  // pulumi up runs it (syncModelsOnDeploy): a failed source or upload is one line whatever threw it (the SDK, fetch).
  void runCommand(MODELS_SYNC, process.argv.slice(2), main, { userErrors: "all" }).then((code) => process.exit(code));
}
