/**
 * warmstart-fetch: downloads the manifest's weight files fast and verified.
 *
 * One connection to R2 (or any CDN) is capped, and one file usually dominates, so every file is split into ranged
 * GETs served by one shared pool of connections, largest file first. Bodies go to disk at their offsets straight
 * from each socket's read buffer (memory stays bounded whatever the sizes), the sha256 is computed in a worker as
 * the file's prefix completes, and a file appears at its final path only once verified.
 *
 * Nothing already on disk is trusted: a file at a final path counts as done only once its sha256 matches the
 * manifest (it is read and hashed again on every run), a partial download resumes from the chunks its state
 * records (hashed again too), and a symbolic link anywhere under the output folder is refused, never followed.
 * (A record of each verified file's size, mtime and hash would spare a re-run that read, ~1.5 GB/s a core; but the
 * image build always starts from an empty folder, so only a local re-run would gain, and the record would be one
 * more file on disk to trust, and one more in /models, which the supervisor prefetches.)
 *
 * Exit codes: 0 all files verified; 1 a download, checksum or disk failure (a full disk, a failed write, a link
 * under the output folder); 2 bad usage or manifest.
 */
import * as fs from "node:fs";
import { SingleBar } from "cli-progress";
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
import { command, numberFlag, readFlagFile, runCommand, UsageError, type Values } from "./cli";
import { CommandError } from "./commandError";
import { Hasher } from "./hasher";
import { HttpConnection, HttpError, isHeaderName, isHeaderValue, type BodySink, type ResponseHead } from "./httpGet";
import { ManifestError, parseManifest, unsyncedFiles, type Manifest } from "./manifest";
import { OutDir, PositionalWriter } from "./outDir";
import { parseS3Access, presignManifestUrls, S3AccessError, type S3Access } from "./presign";

/** A failure the fetch cannot recover from (not retried); `exitCode` says which kind. */
export class FetchError extends CommandError {}

/** A failure worth another attempt (5xx, a Content-Range that does not match). */
class RetryableError extends Error {}

/** Another request of the same file took over as its single stream: this one has nothing left to do. */
class Superseded extends Error {}

/** The run failed elsewhere: requests in flight stop. */
class Aborted extends Error {}

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
  /** Called with (bytes done, bytes total) as chunks land. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly log?: (line: string) => void;
  /** Longest wait for a connection, a response head or the next body bytes, ms. */
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

/**
 * How often, at most, a file's resume state is rewritten while a request's chunks land (and once more when the
 * request ends): after every chunk it would be thousands of rewrites of a growing list for a 30 GB file. A kill
 * loses at most this much of recorded progress (the next run fetches those bytes again).
 */
const STATE_EVERY_MS = 250;

/** What every file being fetched shares. */
interface Context {
  readonly out: OutDir;
  readonly hasher: Hasher;
  readonly chunkBytes: number;
  /** A chunk of `bytes` is on disk. */
  readonly landed: (bytes: number) => void;
}

/** One file being downloaded: its partial file, its completed chunks, and how far its hash has got. */
class FileJob {
  readonly finalPath: string;
  readonly partialPath: string;
  readonly statePath: string;
  readonly chunks: number;
  /** Completed chunks, on disk. */
  readonly done: Set<number>;
  /** Bytes the partial file still has to take on disk (for the free-space check). */
  readonly bytesToAllocate: number;
  /** The partial file from an earlier run is kept (its recorded chunks are resumed). */
  private readonly keep: boolean;
  /** Open from the first request to the verification only: descriptors stay bounded by the connections. */
  fd: number | undefined;
  private hashId = -1;
  private hashedChunks = 0;
  /** Ranged requests, or one stream once the server answers a ranged request with the whole file. */
  mode: "ranged" | "stream" = "ranged";
  /** Connections with a request for this file in flight (a switch to one stream ends the others). */
  readonly inFlight = new Set<HttpConnection>();
  finishing = false;
  private stateSavedAt = 0;
  private stateDirty = false;

  constructor(
    readonly file: SyncedFile,
    private readonly ctx: Context,
  ) {
    const { out, chunkBytes } = ctx;
    this.finalPath = out.path(file.path);
    this.partialPath = `${this.finalPath}.partial`;
    this.statePath = `${this.partialPath}.json`;
    this.chunks = chunkCount(file.size, chunkBytes);
    const partial = out.entry(this.partialPath);
    const text = out.readText(this.statePath);
    let state: unknown;
    try {
      state = text === undefined ? undefined : JSON.parse(text);
    } catch {
      state = undefined;
    }
    this.done = partial?.size === file.size ? resumableChunks(state, file, chunkBytes) : new Set();
    this.keep = this.done.size > 0;
    this.bytesToAllocate = Math.max(0, file.size - (partial ? partial.blocks * 512 : 0));
  }

  get doneBytes(): number {
    let n = 0;
    for (const i of this.done) n += this.chunkLength(i);
    return n;
  }

  chunkLength(i: number): number {
    const c = chunkOf(this.file, i, this.ctx.chunkBytes);
    return c.end - c.start + 1;
  }

  /** Opens the partial file (creating it at full length), and hashes the chunks an earlier run completed. */
  open(): void {
    if (this.fd !== undefined) return;
    const { out, hasher } = this.ctx;
    this.fd = out.openPartial(this.partialPath, this.keep);
    if (!this.keep) out.truncate(this.fd, this.file.size, this.partialPath);
    this.hashId = hasher.begin(this.fd);
    this.advanceHash();
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** Takes body bytes `buf[start, end)`, which belong at `cursor.pos`: writes them, skipping chunks already here. */
  receive(writer: PositionalWriter, cursor: { pos: number }, buf: Buffer, start: number, end: number): void {
    const chunkBytes = this.ctx.chunkBytes;
    while (start < end) {
      const i = Math.floor(cursor.pos / chunkBytes);
      const chunkEnd = Math.min(this.file.size, (i + 1) * chunkBytes);
      const take = Math.min(end - start, chunkEnd - cursor.pos);
      const have = this.done.has(i);
      if (!have) writer.write(this.fd!, this.partialPath, buf, start, start + take, cursor.pos);
      start += take;
      cursor.pos += take;
      if (cursor.pos === chunkEnd && !have) {
        // On disk before the hasher reads it back.
        writer.flush();
        this.completeChunk(i);
      }
    }
  }

  private completeChunk(i: number): void {
    this.done.add(i);
    this.ctx.landed(this.chunkLength(i));
    this.advanceHash();
    if (this.done.size < this.chunks) this.saveState(false);
  }

  /** Records the completed chunks, at most every STATE_EVERY_MS unless `now`. */
  saveState(now: boolean): void {
    if (!now && Date.now() - this.stateSavedAt < STATE_EVERY_MS) {
      this.stateDirty = true;
      return;
    }
    const state: PartialState = { size: this.file.size, sha256: this.file.sha256, chunkBytes: this.ctx.chunkBytes, done: [...this.done].sort((a, b) => a - b) };
    this.ctx.out.writeAtomic(this.statePath, JSON.stringify(state));
    this.stateSavedAt = Date.now();
    this.stateDirty = false;
  }

  /** Records what landed since the last record, if anything did and the file is not complete. */
  flushState(): void {
    if (this.stateDirty && this.done.size < this.chunks) this.saveState(true);
  }

  /** After a failure: {@link flushState}, if it can be done. */
  flushStateQuietly(): void {
    if (this.fd === undefined) return;
    try {
      this.flushState();
    } catch {
      // The run has failed already and says why; this was only to spare the next run some bytes.
    }
  }

  /** Hands the hasher every chunk from its frontier on that is complete, in order. */
  private advanceHash(): void {
    if (this.fd === undefined) return;
    const first = this.hashedChunks;
    while (this.done.has(this.hashedChunks)) this.hashedChunks++;
    if (this.hashedChunks > first) {
      const c = this.ctx.chunkBytes;
      this.ctx.hasher.range(this.hashId, chunkOf(this.file, first, c).start, chunkOf(this.file, this.hashedChunks - 1, c).end);
    }
  }

  digest(): Promise<string> {
    return this.ctx.hasher.digest(this.hashId, this.partialPath);
  }

  /** The first byte of the first chunk not yet here. */
  firstMissingByte(): number {
    let i = 0;
    while (this.done.has(i)) i++;
    return Math.min(i * this.ctx.chunkBytes, this.file.size - 1);
  }

  /** The server answered a ranged request with the whole file: from now on the file comes as that one stream. */
  switchToStream(owner: HttpConnection, log: (line: string) => void): void {
    this.mode = "stream";
    log(
      this.done.size === 0
        ? `${this.file.path}: the server ignores Range; fetching it as one stream`
        : `${this.file.path}: the server stopped honouring Range; fetching the file as one stream (the ${this.done.size} chunks already here are kept)`,
    );
    for (const other of this.inFlight) if (other !== owner) other.abort(new Superseded());
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
  const urls = new Map(files.map((f) => [f.path, fileUrl(opts.urls?.[f.path] ?? `${base}/${f.path.split("/").map(encodeURIComponent).join("/")}`, f.path)]));

  let total = 0;
  let landed = 0;
  let downloaded = 0;
  const out = new OutDir(opts.outDir, () => total - landed);
  const hasher = new Hasher();
  const ctx: Context = {
    out,
    hasher,
    chunkBytes,
    landed: (bytes) => {
      landed += bytes;
      opts.onProgress?.(landed, total);
    },
  };
  const skipped: string[] = [];
  const jobs: FileJob[] = [];
  const slots = Array.from({ length: opts.connections }, () => ({ conn: new HttpConnection(timeoutMs), writer: new PositionalWriter(out) }));
  let aborted = false;
  const sleeping = new Set<() => void>();
  /** A backoff that ends early when the run fails. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleeping.add(wake);
    });
  const abortAll = () => {
    aborted = true;
    for (const s of slots) s.conn.abort(new Aborted("the run failed"));
    for (const wake of [...sleeping]) wake();
  };

  try {
    for (const file of files) {
      out.ensureParent(file.path);
      const finalPath = out.path(file.path);
      const here = out.entry(finalPath);
      if (here) {
        if (here.size === file.size && (await verifyInPlace(out, hasher, finalPath, file))) {
          skipped.push(file.path);
          continue;
        }
        log(`${file.path}: the file here does not match the manifest's ${here.size === file.size ? "sha256" : "size"}; fetching it again`);
        out.remove(finalPath);
      }
      jobs.push(new FileJob(file, ctx));
    }
    total = jobs.reduce((n, j) => n + j.file.size, 0);
    landed = jobs.reduce((n, j) => n + j.doneBytes, 0);
    const needed = jobs.reduce((n, j) => n + j.bytesToAllocate, 0);
    const free = jobs.length > 0 ? out.freeBytes() : 0;
    if (needed > free) {
      throw new FetchError(`${out.root}: not enough free space: ${needed} bytes to write (${formatBytes(needed)}), ${free} free; free some space or point --out at a bigger disk`);
    }
    if (landed > 0) opts.onProgress?.(landed, total);
    for (const job of jobs) if (job.done.size > 0) log(`${job.file.path}: resuming, ${job.done.size}/${job.chunks} chunks already here`);

    /**
     * One GET of bytes [start, end] of a file into its partial file, retried from where it stopped. A 200 answer
     * (the whole file) makes it the file's single stream, whatever it asked for.
     */
    const fetchRange = async (slot: (typeof slots)[number], job: FileJob, start: number, end: number): Promise<void> => {
      const cursor = { pos: start, end };
      let stream = false;
      for (let attempt = 0; ; attempt++) {
        if (!stream && job.mode === "stream") return;
        const from = stream ? job.firstMissingByte() : cursor.pos;
        const onHead = (head: ResponseHead): BodySink => {
          const path = job.file.path;
          if (head.status === 206) {
            const cr = parseContentRange(head.headers["content-range"]);
            if (!cr || cr.start !== from || cr.end !== cursor.end) throw new RetryableError(`${path}: asked for bytes ${from}-${cursor.end}, got Content-Range ${head.headers["content-range"]}`);
            if (cr.total !== undefined && cr.total !== job.file.size) {
              throw new FetchError(`${path}: the manifest says ${job.file.size} bytes, the models host has ${cr.total}; upload the right file or fix the manifest`);
            }
            if (head.contentLength !== cr.end - cr.start + 1) throw new RetryableError(`${path}: Content-Length ${head.contentLength} does not match Content-Range ${head.headers["content-range"]}`);
            cursor.pos = from;
          } else if (head.status === 200) {
            if (head.contentLength === undefined) throw new FetchError(`${path}: the models host sent the whole file without a Content-Length (chunked); serve it with Range support or a Content-Length`);
            if (head.contentLength !== job.file.size) {
              throw new FetchError(`${path}: the manifest says ${job.file.size} bytes, the models host sends ${head.contentLength}; upload the right file or fix the manifest`);
            }
            if (!stream) {
              if (job.mode === "stream") throw new Superseded();
              job.switchToStream(slot.conn, log);
              stream = true;
              cursor.end = job.file.size - 1;
            }
            cursor.pos = 0;
          } else {
            if (isRetryableStatus(head.status) || (head.status === 403 && attempt < 3)) throw new RetryableError(describeStatus(head.status, path));
            throw new FetchError(describeStatus(head.status, path));
          }
          return (buf, a, b) => {
            downloaded += b - a;
            job.receive(slot.writer, cursor, buf, a, b);
          };
        };
        job.inFlight.add(slot.conn);
        try {
          await slot.conn.get(urls.get(job.file.path)!, { ...opts.headers, range: `bytes=${from}-${cursor.end}` }, onHead);
          if (cursor.pos !== cursor.end + 1) throw new RetryableError(`${job.file.path}: body ended at byte ${cursor.pos} of ${cursor.end + 1}`);
          job.flushState();
          return;
        } catch (err) {
          if (err instanceof Superseded) return slot.writer.discard();
          if (aborted) throw err;
          // What arrived before the failure is good: on disk, the retry goes on from there.
          slot.writer.flush();
          // Only the connection and the server's answers are worth another try; a disk error, or anything not
          // foreseen, ends the run.
          if (!(err instanceof HttpError || err instanceof RetryableError)) throw err;
          // Most reasons name the file already; it is said once.
          const message = (err as Error).message;
          const reason = message.startsWith(`${job.file.path}: `) ? message.slice(job.file.path.length + 2) : message;
          if (attempt >= retries) throw new FetchError(`${job.file.path}: gave up after ${retries + 1} attempts: ${reason}`);
          log(`${job.file.path}: ${reason}; retrying (${attempt + 1}/${retries})`);
          await sleep(backoffMs(attempt + 1, opts.backoffFirstMs));
          if (aborted) throw new Aborted("the run failed");
        } finally {
          job.inFlight.delete(slot.conn);
        }
      }
    };

    /** Once every chunk is here: the hash decides whether the file goes to its final path. */
    const finishIfDone = async (job: FileJob) => {
      if (job.done.size < job.chunks || job.finishing) return;
      job.finishing = true;
      job.open();
      const digest = await job.digest();
      job.close();
      if (digest !== job.file.sha256) {
        out.remove(job.partialPath);
        out.remove(job.statePath);
        throw new FetchError(`${job.file.path}: sha256 mismatch: expected ${job.file.sha256}, got ${digest}; the file was removed`);
      }
      out.rename(job.partialPath, job.finalPath);
      out.remove(job.statePath);
      log(`${job.file.path}: verified (${job.file.size} bytes)`);
    };

    // The queue: files complete from an earlier run first (to verify), then every request, largest file first.
    const byFile = new Map(jobs.map((j) => [j.file.path, j]));
    const tasks: ((slot: number) => Promise<void>)[] = jobs.filter((j) => j.done.size === j.chunks).map((j) => () => finishIfDone(j));
    const plans = planRequests(
      jobs.map((j) => j.file),
      chunkBytes,
      Math.max(chunkBytes, opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES),
      opts.connections,
      (f) => byFile.get(f.path)!.done,
    );
    for (const p of plans) {
      const job = byFile.get(p.file.path)!;
      tasks.push(async (slot) => {
        if (job.mode === "stream") return;
        job.open();
        await fetchRange(slots[slot], job, p.start, p.end);
        await finishIfDone(job);
      });
    }
    await runPool(opts.connections, tasks, abortAll);
  } catch (err) {
    abortAll();
    for (const s of slots) s.writer.discard();
    for (const job of jobs) job.flushStateQuietly();
    // The hashing thread may still be reading through the descriptors: it stops before they are closed.
    await hasher.close();
    for (const job of jobs) job.close();
    if (err instanceof FetchError) throw err;
    throw new FetchError((err as Error).message);
  } finally {
    for (const s of slots) s.conn.close();
    await hasher.close();
  }
  return { fetched: jobs.map((j) => j.file.path), skipped, bytesDownloaded: downloaded, seconds: (Date.now() - started) / 1000 };
}

/** The URL a file is fetched from; the error does not show it (a presigned URL is a secret). */
function fileUrl(text: string, file: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "http:" && url?.protocol !== "https:") throw new FetchError(`${file}: its URL is not an http(s) URL`, 2);
  return url;
}

/** Whether the file already at a final path is the manifest's: its sha256, read through a descriptor, decides. */
async function verifyInPlace(out: OutDir, hasher: Hasher, abs: string, file: SyncedFile): Promise<boolean> {
  const fd = out.openRead(abs);
  try {
    const id = hasher.begin(fd);
    hasher.range(id, 0, file.size - 1);
    return (await hasher.digest(id, abs)) === file.sha256;
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs tasks with at most `width` at once, each told its slot; the first failure calls `onFailure` and stops the rest. */
async function runPool(width: number, tasks: ((slot: number) => Promise<void>)[], onFailure: () => void): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (slot: number) => {
    while (failure === undefined && next < tasks.length) {
      const task = tasks[next++];
      try {
        await task(slot);
      } catch (err) {
        if (failure === undefined) {
          failure = err;
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, (_, i) => worker(i)));
  if (failure !== undefined) throw failure;
}

// ---------------------------------------------------------------------------------------------------------------
// Command line

/**
 * Connections shared by all files. A CDN caps each connection, so throughput grows with them until the CPU or the
 * disk is the limit: on the benchmark (40 MB/s per connection, 2 cores; docs/benchmarks.md) 16 held the fetcher at
 * its own ceiling of 640 MB/s, 32 took it past 900 MB/s, 64 added little. aria2c -x16 -s16 opens 16 per file, 32
 * on that two-file benchmark. 32 sockets and at most 33 open files sit well inside the image build's nofile=1024.
 */
const DEFAULT_CONNECTIONS = 32;
/** How long presigned URLs made from --s3-access stay valid: longer than any fetch, far shorter than the 7-day cap. */
const PRESIGN_HOURS = 12;
/**
 * Waits until `url` stops answering 403, for a credential made moments ago (the stack creates the read token in
 * the same `pulumi up` as the build). Any other answer ends the wait: the fetch itself reports and retries it.
 */
export async function waitForAccess(url: string, maxWaitMs: number, log: (line: string) => void, pollMs = 5000): Promise<void> {
  const probe = async () => {
    const conn = new HttpConnection(30_000);
    let status: number | undefined;
    try {
      // The status is all it needs: refusing the body closes the connection.
      await conn.get(new URL(url), { range: "bytes=0-0" }, (head) => {
        status = head.status;
        throw new Superseded();
      });
    } catch {
      // undefined: no answer; the fetch itself reports that.
    } finally {
      conn.close();
    }
    return status;
  };
  await waitWhileForbidden(probe, {
    maxWaitMs,
    pollMs,
    onWait: (s) => log(`HTTP 403 from the bucket; a new credential can take a minute to work, waiting (${s} s so far)`),
    giveUp: (s) => new FetchError(`HTTP 403 from the bucket for ${s} s: the read credential is wrong or lacks read access to this bucket`),
  });
}

export const FETCH = command({
  name: "warmstart-fetch",
  purpose: "Downloads the manifest's weight files over many ranged connections and verifies each by sha256.",
  usage: "npm run fetch-weights -- --manifest FILE (--source BASE_URL | --url-map FILE | --s3-access FILE) --out DIR [options]",
  about: `Fetches BASE_URL/<path> (or each file's own URL) into DIR/<path>; a file appears there only once verified, and a
re-run resumes. The image build runs the bundle as \`node fetcher.js\` with the same flags (container/Dockerfile).`,
  flags: {
    manifest: { type: "string", value: "FILE", required: true, help: "the manifest: files with path, size and sha256 (container/models.json)" },
    source: { type: "string", value: "BASE_URL", defaultText: "none", help: "http(s) URL the manifest's paths are relative to; one of --source, --url-map and --s3-access is required" },
    "url-map": { type: "string", value: "FILE", defaultText: "none", help: 'JSON {"<path>": "<url>"}: a URL per file (e.g. presigned GETs), instead of --source' },
    "s3-access": { type: "string", value: "FILE", defaultText: "none", help: `JSON {endpoint, bucket, accessKeyId, secretAccessKey}: presign a GET per file (valid ${PRESIGN_HOURS} h) from this read credential, e.g. a BuildKit secret mount` },
    out: { type: "string", value: "DIR", required: true, help: "folder the files go to; a symbolic link under it is refused" },
    connections: { type: "string", value: "N", default: String(DEFAULT_CONNECTIONS), help: "parallel connections shared by all files, 1..256" },
    header: { type: "string", value: '"K: V"', multiple: true, defaultText: "none", help: "extra request header, e.g. the models access header; may repeat" },
    "header-file": { type: "string", value: "FILE", defaultText: "none", help: 'read headers ("K: V" lines) from FILE, e.g. a BuildKit secret mount' },
    "access-wait": { type: "string", value: "S", default: String(NEW_TOKEN_WAIT_SECONDS), help: "with --s3-access: seconds a 403 is waited out first, as a new R2 token can take up to a minute to work" },
    "chunk-mib": { type: "string", value: "N", default: "64", help: "largest ranged request in MiB; requests shrink towards the end of the queue" },
    retries: { type: "string", value: "N", default: "8", help: "retries per request on resets, 5xx, timeouts and short bodies" },
    progress: { type: "string", value: "MODE", default: "auto", help: "auto (a bar on a terminal, else lines), bar, lines (one every 10 s) or none" },
  },
  example: 'npm run fetch-weights -- --manifest container/models.json --source https://models.example.com --header "X-Warmstart-Models-Key: $KEY" --out /tmp/models',
  exitCodes: {
    0: "every file verified",
    1: "a download, checksum or disk failure (a full disk, a failed write, a symbolic link under DIR)",
    2: "bad usage or manifest",
  },
});

/**
 * A "Name: value" header. `where` names its origin (the option, or the file and line); the error states the rule
 * and never repeats the text, which is often a secret (a key pasted without its name, say).
 */
function parseHeader(line: string, where: string): [string, string] {
  const i = line.indexOf(":");
  const name = line.slice(0, Math.max(i, 0)).trim();
  const value = line.slice(i + 1).trim();
  if (i <= 0 || !isHeaderName(name) || !isHeaderValue(value)) {
    throw new FetchError(`${where} must look like "Name: value", e.g. "X-Warmstart-Models-Key: <key>" (a header name, a colon, the value; no control characters); its text is not shown, as it may be a secret`, 2);
  }
  return [name.toLowerCase(), value];
}

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

export async function main(argv: string[]): Promise<number> {
  return runCommand(FETCH, argv, fetchCommand, { userErrors: "all" });
}

async function fetchCommand(values: Values<typeof FETCH.flags>): Promise<number> {
  const sources = [values.source, values["url-map"], values["s3-access"]].filter((v) => v !== undefined).length;
  if (sources !== 1) throw new UsageError("give one of --source, --url-map or --s3-access");
  const connections = numberFlag("connections", values.connections, 1, 256, { integer: true });
  const maxRequestBytes = numberFlag("chunk-mib", values["chunk-mib"], 1, 4096, { integer: true }) * MIB;
  const retries = numberFlag("retries", values.retries, 0, 100, { integer: true });
  const accessWaitSeconds = numberFlag("access-wait", values["access-wait"], 0, 3600, { integer: true });
  if (values.source !== undefined && !/^https?:\/\/[^\s/]+/.test(values.source)) throw new UsageError(`--source must be an http(s) URL, got "${values.source}"`);
  const headers: Record<string, string> = {};
  values.header.forEach((h, i) => {
    const [k, v] = parseHeader(h, `--header #${i + 1}`);
    headers[k] = v;
  });
  if (values["header-file"]) {
    const file = values["header-file"];
    readFlagFile("--header-file", file)
      .split(/\r?\n/)
      .forEach((line, i) => {
        if (line.trim() === "") return;
        const [k, v] = parseHeader(line, `--header-file ${file}: line ${i + 1}`);
        headers[k] = v;
      });
  }
  let manifest: Manifest;
  const manifestText = readFlagFile("--manifest", values.manifest);
  try {
    manifest = parseManifest(manifestText, values.manifest);
  } catch (err) {
    throw new FetchError(err instanceof ManifestError ? err.message : `${values.manifest}: ${(err as Error).message}`, 2);
  }

  let urls: Record<string, string> | undefined;
  if (values["url-map"]) {
    const text = readFlagFile("--url-map", values["url-map"]);
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
      access = parseS3Access(readFlagFile("--s3-access", values["s3-access"]), `--s3-access ${values["s3-access"]}`);
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
  if (!["bar", "lines", "none"].includes(mode)) throw new UsageError(`--progress must be auto, bar, lines or none, got "${values.progress}"`);
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
    outDir: values.out,
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
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
