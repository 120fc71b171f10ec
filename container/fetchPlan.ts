/**
 * How the fetcher splits the manifest's files into ranged requests, and what it remembers to resume. Pure.
 */
import type { ManifestFile } from "./manifest";

export const MIB = 1024 * 1024;
/** Large enough that a request runs for seconds at a per-connection cap, small enough to spread one file over many connections. */
export const DEFAULT_CHUNK_BYTES = 64 * MIB;

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

/**
 * The order chunks are handed to the connection pool: largest file first, so the file that dominates never starts
 * last and leaves connections idle at the end; within a file, in order, so hashing can follow the download.
 */
export function planChunks(files: readonly SyncedFile[], chunkBytes: number, done: (file: SyncedFile) => ReadonlySet<number>): Chunk[] {
  const ordered = [...files].sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  const chunks: Chunk[] = [];
  for (const file of ordered) {
    const skip = done(file);
    for (let i = 0; i < chunkCount(file.size, chunkBytes); i++) if (!skip.has(i)) chunks.push(chunkOf(file, i, chunkBytes));
  }
  return chunks;
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
