/**
 * warmstart-fetch: downloads the manifest's weight files fast and verified.
 *
 * One connection to R2 (or any CDN) is capped, and one file usually dominates, so every file is split into ranged
 * GETs served by one shared pool of connections, largest file first. Bodies stream to disk at their offsets (memory
 * stays bounded whatever the sizes), the sha256 is computed as the file's prefix completes, and a file appears at
 * its final path only once verified. A re-run skips verified files and keeps the completed chunks of partial ones.
 *
 * Exit codes: 0 all files verified; 1 a download or checksum failed; 2 bad usage or manifest.
 */
import { createHash, type Hash } from "node:crypto";
import { setMaxListeners } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { SingleBar } from "cli-progress";
import { Agent, request } from "undici";
import {
  backoffMs,
  chunkCount,
  chunkOf,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_REQUEST_BYTES,
  MIB,
  parseContentRange,
  planRequests,
  resumableChunks,
  type PartialState,
  type SyncedFile,
} from "./fetchPlan";
import { NEW_TOKEN_WAIT_SECONDS, waitWhileForbidden } from "./accessWait";
import { CommandError } from "./commandError";
import { ManifestError, parseManifest, unsyncedFiles, type Manifest } from "./manifest";
import { parseS3Access, presignManifestUrls, S3AccessError, type S3Access } from "./presign";

/** A failure the fetch cannot recover from (not retried); `exitCode` says which kind. */
export class FetchError extends CommandError {}

/** A failure worth another attempt (reset, 5xx, timeout, short body). */
class RetryableError extends Error {}

export interface FetchOptions {
  readonly manifest: Manifest;
  /** Base URL the manifest paths are relative to, e.g. https://models.example.com. */
  readonly source: string;
  /** Per-file URLs (e.g. presigned GETs) that take precedence over `source`. */
  readonly urls?: Readonly<Record<string, string>>;
  readonly outDir: string;
  readonly connections: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Unit of resume and hashing (default 8 MiB). */
  readonly chunkBytes?: number;
  /** Longest single ranged request (default 64 MiB); requests shrink towards the end of the queue. */
  readonly maxRequestBytes?: number;
  /** Attempts per request after the first. */
  readonly retries?: number;
  /** Called with (bytes done, bytes total) as data lands. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly log?: (line: string) => void;
  /** Headers and body idle timeouts, ms. */
  readonly timeoutMs?: number;
  /** First retry's backoff, ms (doubles per attempt). */
  readonly backoffFirstMs?: number;
}

export interface FetchResult {
  readonly fetched: string[];
  readonly skipped: string[];
  readonly bytesDownloaded: number;
  readonly seconds: number;
}

const WRITE_BUFFER_BYTES = 1 * MIB;
const HASH_READ_BYTES = 8 * MIB;
const HASH_READ_BYTES_LITERAL = String(HASH_READ_BYTES);

/**
 * Hashes files off the main thread: the event loop keeps reading sockets while a worker reads completed ranges
 * back from the page cache and feeds each file's sha256 in order. (Hashing on the main thread stalled every
 * connection for the hash's duration: ~0.7 s per GiB.)
 */
const HASHER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const crypto = require("node:crypto");
const fs = require("node:fs");
const files = new Map();
const buf = Buffer.allocUnsafe(${HASH_READ_BYTES_LITERAL});
parentPort.on("message", (m) => {
  try {
    if (m.type === "open") files.set(m.id, { fd: fs.openSync(m.path, "r"), hash: crypto.createHash("sha256") });
    else if (m.type === "range") {
      const f = files.get(m.id);
      for (let pos = m.start; pos <= m.end; ) {
        const n = fs.readSync(f.fd, buf, 0, Math.min(buf.length, m.end + 1 - pos), pos);
        if (n === 0) throw new Error("partial file is shorter than its completed chunks");
        f.hash.update(buf.subarray(0, n));
        pos += n;
      }
    } else if (m.type === "finish") {
      const f = files.get(m.id);
      fs.closeSync(f.fd);
      files.delete(m.id);
      parentPort.postMessage({ id: m.id, digest: f.hash.digest("hex") });
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

class Hasher {
  private readonly worker = new Worker(HASHER_SOURCE, { eval: true });
  private readonly waiting = new Map<number, { resolve: (d: string) => void; reject: (e: Error) => void }>();
  private readonly failed = new Map<number, string>();
  private nextId = 0;

  constructor() {
    this.worker.on("message", (m: { id: number; digest?: string; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (m.error !== undefined) {
        if (w) w.reject(new FetchError(m.error));
        else this.failed.set(m.id, m.error);
      } else if (w && m.digest) w.resolve(m.digest);
      this.waiting.delete(m.id);
    });
  }

  open(file: string): number {
    const id = this.nextId++;
    this.worker.postMessage({ type: "open", id, path: file });
    return id;
  }

  range(id: number, start: number, end: number): void {
    this.worker.postMessage({ type: "range", id, start, end });
  }

  digest(id: number): Promise<string> {
    const early = this.failed.get(id);
    if (early !== undefined) return Promise.reject(new FetchError(early));
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: "finish", id });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Sees a single-stream download's bytes in order, to hash them as they land. */
interface StreamSink {
  data(b: Buffer): void;
  /** The stream starts over from byte 0 (after a failure, without Range). */
  restart(): void;
}

/** One file being downloaded: its partial file, its completed chunks, and its running hash. */
class FileJob {
  readonly finalPath: string;
  readonly partialPath: string;
  readonly statePath: string;
  done = new Set<number>();
  hashedChunks = 0;
  /** The file's hash in the worker (ranged downloads), or ... */
  hashId: number | undefined;
  /** ... on the main thread, fed as a single stream arrives (servers without Range). */
  hash: Hash = createHash("sha256");
  ranged = true;
  fh!: fs.promises.FileHandle;
  stateWrite: Promise<void> = Promise.resolve();

  constructor(
    readonly file: SyncedFile,
    outDir: string,
    readonly chunkBytes: number,
    private readonly hasher: Hasher,
  ) {
    this.finalPath = path.join(outDir, file.path);
    this.partialPath = `${this.finalPath}.partial`;
    this.statePath = `${this.finalPath}.partial.json`;
  }

  get chunks(): number {
    return chunkCount(this.file.size, this.chunkBytes);
  }

  /** Records completed chunks (atomically, so a kill mid-write leaves the previous state) and hashes what is contiguous. */
  completeChunks(indices: readonly number[]): void {
    for (const i of indices) this.done.add(i);
    const state: PartialState = { size: this.file.size, sha256: this.file.sha256, chunkBytes: this.chunkBytes, done: [...this.done].sort((a, b) => a - b) };
    this.stateWrite = this.stateWrite.then(async () => {
      await fs.promises.writeFile(`${this.statePath}.tmp`, JSON.stringify(state));
      await fs.promises.rename(`${this.statePath}.tmp`, this.statePath);
    });
    this.advanceHash();
  }

  /** Hands the hasher every chunk from the frontier on that is complete, in order. */
  advanceHash(): void {
    this.hashId ??= this.hasher.open(this.partialPath);
    const first = this.hashedChunks;
    while (this.done.has(this.hashedChunks)) this.hashedChunks++;
    if (this.hashedChunks > first) {
      this.hasher.range(this.hashId, chunkOf(this.file, first, this.chunkBytes).start, chunkOf(this.file, this.hashedChunks - 1, this.chunkBytes).end);
    }
  }

  /** The file's sha256, once every byte has landed. */
  digest(): Promise<string> {
    return this.ranged ? this.hasher.digest(this.hashId ?? this.hasher.open(this.partialPath)) : Promise.resolve(this.hash.digest("hex"));
  }
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function describeStatus(status: number, file: string): string {
  if (status === 403) return `${file}: HTTP 403 from the models host; check the models access (the access header and key, or the bucket's read credential)`;
  if (status === 404) return `${file}: HTTP 404: not on the models host; upload it to the bucket first`;
  return `${file}: HTTP ${status} from the models host`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Downloads and verifies every file of the manifest into `outDir`. Throws a {@link FetchError} on failure. */
export async function fetchWeights(opts: FetchOptions): Promise<FetchResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const retries = opts.retries ?? 8;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const unsynced = unsyncedFiles(opts.manifest);
  if (unsynced.length > 0) {
    throw new FetchError(
      `manifest entries without size or sha256 cannot be verified: ${unsynced.map((f) => f.path).join(", ")}; record each file's size and sha256 in the manifest first (npm run models:sync does)`,
      2,
    );
  }
  const files = opts.manifest.files as SyncedFile[];
  const base = opts.source.replace(/\/+$/, "");
  const urlOf = (f: SyncedFile) => opts.urls?.[f.path] ?? `${base}/${f.path.split("/").map(encodeURIComponent).join("/")}`;

  const skipped: string[] = [];
  const jobs: FileJob[] = [];
  const hasher = new Hasher();
  for (const file of files) {
    const job = new FileJob(file, opts.outDir, chunkBytes, hasher);
    // Only verified files are ever renamed to their final path, so one there with the right size is done.
    const st = await fs.promises.stat(job.finalPath).catch(() => undefined);
    if (st?.isFile() && st.size === file.size) {
      skipped.push(file.path);
      continue;
    }
    jobs.push(job);
  }
  const total = jobs.reduce((s, j) => s + j.file.size, 0);
  let landed = 0;
  let downloaded = 0;
  const progress = (delta: number) => {
    landed += delta;
    opts.onProgress?.(landed, total);
  };

  const dispatcher = new Agent({ connections: opts.connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const abort = new AbortController();
  // Every in-flight request listens on the one signal.
  setMaxListeners(0, abort.signal);
  try {
    for (const job of jobs) {
      await fs.promises.mkdir(path.dirname(job.finalPath), { recursive: true });
      const state = await fs.promises
        .readFile(job.statePath, "utf8")
        .then((t) => JSON.parse(t) as unknown)
        .catch(() => undefined);
      const partialExists = await fs.promises.stat(job.partialPath).then(
        (s) => s.size === job.file.size,
        () => false,
      );
      job.done = partialExists ? resumableChunks(state, job.file, chunkBytes) : new Set();
      job.fh = await fs.promises.open(job.partialPath, partialExists ? "r+" : "w+");
      if (!partialExists) await job.fh.truncate(job.file.size);
      for (const i of job.done) progress(Math.min(chunkBytes, job.file.size - i * chunkBytes));
      if (job.done.size > 0) log(`${job.file.path}: resuming, ${job.done.size}/${job.chunks} chunks already here`);
    }

    /** One GET of [from, end] of a file into its partial file; retried from where it stopped. */
    const fetchRange = async (job: FileJob, start: number, end: number, ranged: boolean, sink?: StreamSink): Promise<void> => {
      let pos = start;
      for (let attempt = 0; ; attempt++) {
        try {
          const headers: Record<string, string> = { ...opts.headers };
          if (ranged) headers.range = `bytes=${pos}-${end}`;
          const res = await request(urlOf(job.file), { dispatcher, headers, signal: abort.signal });
          if (res.statusCode === 206 && ranged) {
            const cr = parseContentRange(res.headers["content-range"] as string | undefined);
            if (!cr || cr.start !== pos || cr.end !== end) {
              await res.body.dump();
              throw new RetryableError(`${job.file.path}: asked for bytes ${pos}-${end}, got Content-Range ${res.headers["content-range"]}`);
            }
            if (cr.total !== undefined && cr.total !== job.file.size) {
              await res.body.dump();
              throw new FetchError(`${job.file.path}: the manifest says ${job.file.size} bytes, the models host has ${cr.total}; upload the right file or fix the manifest`);
            }
          } else if (res.statusCode === 200 && !ranged) {
            const length = Number(res.headers["content-length"] ?? job.file.size);
            if (length !== job.file.size) {
              await res.body.dump();
              throw new FetchError(`${job.file.path}: the manifest says ${job.file.size} bytes, the models host sends ${length}; upload the right file or fix the manifest`);
            }
          } else {
            await res.body.dump();
            if (res.statusCode === 200) throw new RetryableError(`${job.file.path}: server ignored the Range header mid-download`);
            if (isRetryableStatus(res.statusCode) || (res.statusCode === 403 && attempt < 3)) throw new RetryableError(describeStatus(res.statusCode, job.file.path));
            throw new FetchError(describeStatus(res.statusCode, job.file.path));
          }
          // Coalesce the socket's small reads into 1 MiB positional writes.
          let pending: Buffer[] = [];
          let pendingBytes = 0;
          const flush = async () => {
            if (pendingBytes === 0) return;
            // writev: one syscall for the batch, without copying it into one buffer first.
            await job.fh.writev(pending, pos);
            for (const b of pending) sink?.data(b);
            pos += pendingBytes;
            downloaded += pendingBytes;
            progress(pendingBytes);
            pending = [];
            pendingBytes = 0;
          };
          for await (const data of res.body as AsyncIterable<Buffer>) {
            if (pos + pendingBytes + data.length > end + 1) throw new RetryableError(`${job.file.path}: body longer than the range ${start}-${end}`);
            pending.push(data);
            pendingBytes += data.length;
            if (pendingBytes >= WRITE_BUFFER_BYTES) await flush();
          }
          await flush();
          if (pos !== end + 1) throw new RetryableError(`${job.file.path}: body ended at byte ${pos} of ${end + 1} (short body)`);
          return;
        } catch (err) {
          if (err instanceof FetchError || abort.signal.aborted) throw err;
          if (attempt >= retries) throw new FetchError(`${job.file.path}: gave up after ${retries + 1} attempts: ${(err as Error).message}`);
          log(`${job.file.path}: ${(err as Error).message}; retrying (${attempt + 1}/${retries})`);
          if (!ranged) {
            // Without ranges the only way on is from the start.
            progress(start - pos);
            pos = start;
            sink?.restart();
          }
          await sleep(backoffMs(attempt + 1, opts.backoffFirstMs));
        }
      }
    };

    // Does the server honour Range for this file? One byte tells.
    const probe = async (job: FileJob) => {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await request(urlOf(job.file), { dispatcher, headers: { ...opts.headers, range: "bytes=0-0" }, signal: abort.signal });
          await res.body.dump();
          if (res.statusCode === 206) return;
          if (res.statusCode === 200) {
            job.ranged = false;
            log(`${job.file.path}: the server ignores Range; fetching it as one stream`);
            // Chunks kept from an earlier run cannot be used without ranges: the stream starts over.
            for (const i of job.done) progress(-Math.min(chunkBytes, job.file.size - i * chunkBytes));
            job.done.clear();
            return;
          }
          if (isRetryableStatus(res.statusCode) || (res.statusCode === 403 && attempt < 3)) throw new RetryableError(describeStatus(res.statusCode, job.file.path));
          throw new FetchError(describeStatus(res.statusCode, job.file.path));
        } catch (err) {
          if (err instanceof FetchError || abort.signal.aborted) throw err;
          if (attempt >= retries) throw new FetchError(`${job.file.path}: gave up after ${retries + 1} attempts: ${(err as Error).message}`);
          await sleep(backoffMs(attempt + 1, opts.backoffFirstMs));
        }
      }
    };

    const finish = async (job: FileJob) => {
      await job.stateWrite;
      const digest = await job.digest();
      await job.fh.close();
      if (digest !== job.file.sha256) {
        await fs.promises.rm(job.partialPath, { force: true });
        await fs.promises.rm(job.statePath, { force: true });
        throw new FetchError(`${job.file.path}: sha256 mismatch: expected ${job.file.sha256}, got ${digest}; the file was removed`);
      }
      await fs.promises.rename(job.partialPath, job.finalPath);
      await fs.promises.rm(job.statePath, { force: true });
      log(`${job.file.path}: verified (${job.file.size} bytes)`);
    };

    // The queue: probes first, then every chunk (largest file first), single streams as one task each.
    await runPool(opts.connections, jobs.map((j) => () => probe(j)), abort);
    const byFile = new Map(jobs.map((j) => [j.file.path, j]));
    const remaining = new Map(jobs.map((j) => [j, j.chunks - j.done.size]));
    const tasks: (() => Promise<void>)[] = [];
    const ranged = jobs.filter((j) => j.ranged);
    const plans = planRequests(
      ranged.map((j) => j.file),
      chunkBytes,
      Math.max(chunkBytes, opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES),
      opts.connections,
      (f) => byFile.get(f.path)!.done,
    );
    for (const p of plans) {
      const job = byFile.get(p.file.path)!;
      tasks.push(async () => {
        await fetchRange(job, p.start, p.end, true);
        job.completeChunks(p.chunks);
        remaining.set(job, remaining.get(job)! - p.chunks.length);
        if (remaining.get(job) === 0) await finish(job);
      });
    }
    for (const job of ranged.filter((j) => remaining.get(j) === 0)) tasks.unshift(() => finish(job));
    // Chunks a partial download already has go to the hasher first.
    for (const job of ranged) job.advanceHash();
    for (const job of jobs.filter((j) => !j.ranged)) {
      tasks.push(async () => {
        job.hash = createHash("sha256");
        await fetchRange(job, 0, job.file.size - 1, false, {
          data: (b) => job.hash.update(b),
          restart: () => (job.hash = createHash("sha256")),
        });
        await finish(job);
      });
    }
    await runPool(opts.connections, tasks, abort);
  } catch (err) {
    abort.abort();
    await Promise.all(jobs.map((j) => j.stateWrite.catch(() => undefined)));
    await Promise.all(jobs.map((j) => j.fh?.close().catch(() => undefined)));
    if (err instanceof FetchError) throw err;
    throw new FetchError((err as Error).message);
  } finally {
    await dispatcher.close().catch(() => undefined);
    await hasher.close();
  }
  return { fetched: jobs.map((j) => j.file.path), skipped, bytesDownloaded: downloaded, seconds: (Date.now() - started) / 1000 };
}

/** Runs tasks with at most `width` at once; the first failure aborts the rest. */
async function runPool(width: number, tasks: (() => Promise<void>)[], abort: AbortController): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const task = tasks[next++];
      try {
        await task();
      } catch (err) {
        if (failure === undefined) failure = err;
        abort.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  if (failure !== undefined) throw failure;
}

// ---------------------------------------------------------------------------------------------------------------
// Command line

/** How long presigned URLs made from --s3-access stay valid: longer than any fetch, far shorter than the 7-day cap. */
const PRESIGN_HOURS = 12;
/**
 * Waits until `url` stops answering 403, for a credential made moments ago (the stack creates the read token in
 * the same `pulumi up` as the build). Any other answer ends the wait: the fetch itself reports and retries it.
 */
export async function waitForAccess(url: string, maxWaitMs: number, log: (line: string) => void, pollMs = 5000): Promise<void> {
  const probe = async () => {
    try {
      const res = await request(url, { headers: { range: "bytes=0-0" }, headersTimeout: 30_000, bodyTimeout: 30_000 });
      await res.body.dump();
      return res.statusCode;
    } catch {
      return undefined;
    }
  };
  await waitWhileForbidden(probe, {
    maxWaitMs,
    pollMs,
    onWait: (s) => log(`HTTP 403 from the bucket; a new credential can take a minute to work, waiting (${s} s so far)`),
    giveUp: (s) => new FetchError(`HTTP 403 from the bucket for ${s} s: the read credential is wrong or lacks read access to this bucket`),
  });
}

const USAGE = `usage: warmstart-fetch --manifest FILE (--source BASE_URL | --url-map FILE | --s3-access FILE) --out DIR
                       [--connections N] [--header "K: V"]... [--header-file FILE] [--chunk-mib N] [--retries N]
                       [--progress auto|bar|lines|none]

Downloads every file of the manifest from BASE_URL/<path> into DIR/<path>, verified by sha256.
  --url-map FILE    JSON {"<path>": "<url>"} with a URL per file (e.g. presigned GETs), instead of --source
  --s3-access FILE  JSON {endpoint, bucket, accessKeyId, secretAccessKey}: presign a GET per file (valid
                    ${PRESIGN_HOURS} h) from this read credential, e.g. a BuildKit secret mount
  --access-wait S   with --s3-access: seconds a 403 is waited out first, as a new R2 token can take up to a
                    minute to work (default ${NEW_TOKEN_WAIT_SECONDS})
  --connections N   parallel connections shared by all files (default 16)
  --header "K: V"   extra request header, e.g. the models access header; may repeat
  --header-file F   read headers ("K: V" lines) from F, e.g. a BuildKit secret mount
  --chunk-mib N     largest ranged request in MiB (default 64; requests shrink towards the end of the queue)
  --retries N       retries per request on resets, 5xx, timeouts and short bodies (default 8)
  --progress MODE   bar on a terminal, one line every 10 s otherwise (default auto)
Exit codes: 0 verified, 1 download or checksum failure, 2 bad usage or manifest.`;

/**
 * A "Name: value" header. `where` names its origin (the option, or the file and line); the error states the rule
 * and never repeats the text, which is often a secret (a key pasted without its name, say).
 */
function parseHeader(line: string, where: string): [string, string] {
  const i = line.indexOf(":");
  const name = line.slice(0, Math.max(i, 0)).trim();
  if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new FetchError(`${where} must look like "Name: value", e.g. "X-Warmstart-Models-Key: <key>" (a header name, a colon, the value); its text is not shown, as it may be a secret`, 2);
  }
  return [name.toLowerCase(), line.slice(i + 1).trim()];
}

/** A file named by an option, or a usage error naming it (not its content, which may be a secret). */
function readOptionFile(option: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new FetchError(`${option} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
  }
}

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        manifest: { type: "string" },
        source: { type: "string" },
        out: { type: "string" },
        connections: { type: "string", default: "16" },
        header: { type: "string", multiple: true, default: [] },
        "header-file": { type: "string" },
        "url-map": { type: "string" },
        "s3-access": { type: "string" },
        "access-wait": { type: "string", default: String(NEW_TOKEN_WAIT_SECONDS) },
        "chunk-mib": { type: "string", default: "64" },
        retries: { type: "string", default: "8" },
        progress: { type: "string", default: "auto" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`warmstart-fetch: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    for (const k of ["manifest", "out"] as const) if (!values[k]) throw new FetchError(`--${k} is required`, 2);
    const sources = [values.source, values["url-map"], values["s3-access"]].filter((v) => v !== undefined).length;
    if (sources !== 1) throw new FetchError("give one of --source, --url-map or --s3-access", 2);
    const int = (name: string, v: string, min: number, max: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new FetchError(`--${name} must be an integer ${min}..${max}, got "${v}"`, 2);
      return n;
    };
    const connections = int("connections", values.connections!, 1, 256);
    const maxRequestBytes = int("chunk-mib", values["chunk-mib"]!, 1, 4096) * MIB;
    const retries = int("retries", values.retries!, 0, 100);
    const accessWaitSeconds = int("access-wait", values["access-wait"]!, 0, 3600);
    if (values.source !== undefined && !/^https?:\/\/[^\s/]+/.test(values.source)) throw new FetchError(`--source must be an http(s) URL, got "${values.source}"`, 2);
    const headers: Record<string, string> = {};
    values.header!.forEach((h, i) => {
      const [k, v] = parseHeader(h, `--header #${i + 1}`);
      headers[k] = v;
    });
    if (values["header-file"]) {
      const file = values["header-file"];
      readOptionFile("--header-file", file)
        .split(/\r?\n/)
        .forEach((line, i) => {
          if (line.trim() === "") return;
          const [k, v] = parseHeader(line, `--header-file ${file}: line ${i + 1}`);
          headers[k] = v;
        });
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest(fs.readFileSync(values.manifest!, "utf8"), values.manifest!);
    } catch (err) {
      throw new FetchError(err instanceof ManifestError ? err.message : `${values.manifest}: ${(err as Error).message}`, 2);
    }

    let urls: Record<string, string> | undefined;
    if (values["url-map"]) {
      const text = readOptionFile("--url-map", values["url-map"]);
      try {
        urls = JSON.parse(text) as Record<string, string>;
      } catch {
        // JSON.parse quotes the text around the error, and presigned URLs are secrets: the rule only.
        throw new FetchError(`--url-map ${values["url-map"]}: not valid JSON; expected an object of path to URL, {"<path>": "<url>"}`, 2);
      }
      if (typeof urls !== "object" || urls === null || Array.isArray(urls)) throw new FetchError(`--url-map ${values["url-map"]}: expected a JSON object of path to URL, {"<path>": "<url>"}`, 2);
      const missing = manifest.files.filter((f) => typeof urls![f.path] !== "string").map((f) => f.path);
      if (missing.length) throw new FetchError(`--url-map has no URL for ${missing.join(", ")}`, 2);
    }
    if (values["s3-access"]) {
      let access: S3Access;
      try {
        access = parseS3Access(readOptionFile("--s3-access", values["s3-access"]), `--s3-access ${values["s3-access"]}`);
      } catch (err) {
        throw new FetchError(err instanceof S3AccessError ? err.message : `--s3-access ${values["s3-access"]}: ${(err as Error).message}`, 2);
      }
      urls = presignManifestUrls(
        manifest.files.map((f) => f.path),
        access,
        PRESIGN_HOURS * 3600,
        new Date(),
      );
      if (manifest.files.length > 0) await waitForAccess(urls[manifest.files[0].path], accessWaitSeconds * 1000, (line) => console.error(`fetch: ${line}`));
    }
    const mode = values.progress === "auto" ? (process.stderr.isTTY ? "bar" : "lines") : values.progress;
    if (!["bar", "lines", "none"].includes(mode!)) throw new FetchError(`--progress must be auto, bar, lines or none, got "${values.progress}"`, 2);
    const started = Date.now();
    let bar: SingleBar | undefined;
    let lastLine = 0;
    const onProgress = (done: number, total: number) => {
      if (mode === "bar") {
        if (!bar) {
          bar = new SingleBar({
            format: "{bar} {percentage}% | {doneHuman} / {totalHuman} | {rate} | ETA {eta_formatted}",
            stream: process.stderr,
            hideCursor: true,
          });
          bar.start(total, 0, { doneHuman: "", totalHuman: formatBytes(total), rate: "" });
        }
        const secs = (Date.now() - started) / 1000;
        bar.update(done, { doneHuman: formatBytes(done), rate: `${(done / 1e6 / Math.max(secs, 0.001)).toFixed(0)} MB/s` });
      } else if (mode === "lines" && (Date.now() - lastLine >= 10_000 || done === total)) {
        lastLine = Date.now();
        const secs = (Date.now() - started) / 1000;
        const rate = done / Math.max(secs, 0.001);
        const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
        console.error(`fetch: ${formatBytes(done)} / ${formatBytes(total)} (${total ? ((100 * done) / total).toFixed(0) : 100}%) ${(rate / 1e6).toFixed(0)} MB/s ETA ${eta}s`);
      }
    };
    const result = await fetchWeights({
      manifest,
      source: values.source ?? "",
      urls,
      outDir: values.out!,
      connections,
      headers,
      chunkBytes: Math.min(DEFAULT_CHUNK_BYTES, maxRequestBytes),
      maxRequestBytes,
      retries,
      onProgress: mode === "none" ? undefined : onProgress,
      log: (line) => {
        if (bar) bar.stop();
        console.error(`fetch: ${line}`);
        bar = undefined;
      },
    });
    bar?.stop();
    const rate = result.bytesDownloaded / 1e6 / Math.max(result.seconds, 0.001);
    console.error(
      `fetch: done: ${result.fetched.length} file(s), ${formatBytes(result.bytesDownloaded)} in ${result.seconds.toFixed(1)} s (${rate.toFixed(0)} MB/s); ${result.skipped.length} already verified`,
    );
    return 0;
  } catch (err) {
    const e = err instanceof FetchError ? err : new FetchError((err as Error).message);
    console.error(`warmstart-fetch: ${e.message.split("\n").join("\n  ")}`);
    return e.exitCode;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
