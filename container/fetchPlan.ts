/**
 * How the fetcher splits the manifest's files into ranged requests, and what it remembers to resume. Pure.
 */
import type { ManifestFile } from "./manifest";

export const MIB = 1024 * 1024;
/** The unit of resume and hashing bookkeeping: a file is a sequence of chunks of this size. */
export const DEFAULT_CHUNK_BYTES = 8 * MIB;
/** The longest one ranged request may be: long enough to run for seconds at a per-connection cap. */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * MIB;

/** A manifest entry the fetcher can act on: size and sha256 are known. */
export interface SyncedFile extends ManifestFile {
  readonly size: number;
  readonly sha256: string;
}

export interface Chunk {
  readonly file: SyncedFile;
  readonly index: number;
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive (HTTP Range semantics). */
  readonly end: number;
}

export function chunkCount(size: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

export function chunkOf(file: SyncedFile, index: number, chunkBytes: number): Chunk {
  const start = index * chunkBytes;
  return { file, index, start, end: Math.min(file.size, start + chunkBytes) - 1 };
}

/** One ranged request: a run of consecutive chunks of one file. */
export interface RequestPlan {
  readonly file: SyncedFile;
  /** Chunk indices covered, in order. */
  readonly chunks: readonly number[];
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive (HTTP Range semantics). */
  readonly end: number;
}

/**
 * The requests handed to the connection pool, in order: largest file first, so the file that dominates never starts
 * last; within a file, in order, so hashing follows the download. Request sizes follow guided self-scheduling: each
 * takes the bytes still queued after it divided by twice the connections, between one chunk and `maxRequestBytes`.
 * Big requests early keep the per-request overhead low; small ones at the end keep every connection busy until the
 * last byte instead of leaving one slow straggler.
 */
export function planRequests(
  files: readonly SyncedFile[],
  chunkBytes: number,
  maxRequestBytes: number,
  connections: number,
  done: (file: SyncedFile) => ReadonlySet<number>,
): RequestPlan[] {
  const ordered = [...files].sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  // Runs of consecutive chunks still needed, per file.
  const runs: { file: SyncedFile; chunks: number[] }[] = [];
  let remaining = 0;
  for (const file of ordered) {
    const skip = done(file);
    let run: number[] = [];
    for (let i = 0; i < chunkCount(file.size, chunkBytes); i++) {
      if (skip.has(i)) {
        if (run.length) runs.push({ file, chunks: run });
        run = [];
        continue;
      }
      run.push(i);
      const c = chunkOf(file, i, chunkBytes);
      remaining += c.end - c.start + 1;
    }
    if (run.length) runs.push({ file, chunks: run });
  }
  const plans: RequestPlan[] = [];
  for (const run of runs) {
    for (let k = 0; k < run.chunks.length; ) {
      const target = Math.min(maxRequestBytes, Math.max(chunkBytes, remaining / (2 * connections)));
      const take = Math.max(1, Math.min(run.chunks.length - k, Math.floor(target / chunkBytes)));
      const chunks = run.chunks.slice(k, k + take);
      const first = chunkOf(run.file, chunks[0], chunkBytes);
      const last = chunkOf(run.file, chunks[chunks.length - 1], chunkBytes);
      plans.push({ file: run.file, chunks, start: first.start, end: last.end });
      remaining -= last.end - first.start + 1;
      k += take;
    }
  }
  return plans;
}

/** What `<file>.partial.json` records next to a partial download. */
export interface PartialState {
  readonly size: number;
  readonly sha256: string;
  readonly chunkBytes: number;
  readonly done: readonly number[];
}

/** The completed chunks of a partial download, or none when it was for another file version or chunk size. */
export function resumableChunks(state: unknown, file: SyncedFile, chunkBytes: number): Set<number> {
  const s = state as Partial<PartialState> | undefined;
  if (!s || s.size !== file.size || s.sha256 !== file.sha256 || s.chunkBytes !== chunkBytes || !Array.isArray(s.done)) return new Set();
  const count = chunkCount(file.size, chunkBytes);
  return new Set(s.done.filter((i) => Number.isInteger(i) && i >= 0 && i < count));
}

/** Parses `Content-Range: bytes a-b/total`. */
export function parseContentRange(header: string | undefined): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? "");
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? undefined : Number(m[3]) };
}

/** Backoff before retry `attempt` (1-based): doubling from `firstMs`, capped, with jitter so connections do not retry in step. */
export function backoffMs(attempt: number, firstMs = 250, random = Math.random): number {
  const base = Math.min(15_000, firstMs * 2 ** (attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}
