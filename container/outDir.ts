/**
 * The fetcher's output folder, trusted no further than it has been checked. Every path under it is looked at with
 * lstat and opened with O_NOFOLLOW, so a symbolic link is refused, naming it, never followed: a link at a
 * `.partial` path would otherwise have the download overwrite whatever it points at, outside the folder, and a
 * link at a final path would pass off its target as a verified file. The folder itself may be a link: the user
 * named it.
 *
 * What this does not stop: someone racing the fetcher, swapping a checked folder for a link between the check and
 * the open (Node has no openat). What it guards against is what an earlier run, a cache or a mistake left behind.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CommandError } from "./commandError";

/** Refused, or failed, on disk: another attempt would not help. Exit code 1. */
export class DiskError extends CommandError {}

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_TRUNC } = fs.constants;
// Windows has no O_NOFOLLOW; the lstat checks still refuse links there.
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

export class OutDir {
  readonly root: string;
  /** Folders under the root already made or checked, relative to it ("" is the root). */
  private readonly checked = new Set<string>();

  /** `stillToWrite`: the bytes the download has left to write, for the message when the disk is full. */
  constructor(
    root: string,
    private readonly stillToWrite: () => number,
  ) {
    this.root = path.resolve(root);
  }

  /** `rel` (a validated manifest path: relative, no "..") under the root. */
  path(rel: string): string {
    return path.join(this.root, rel);
  }

  /** Makes the root and every folder on the way to `rel`, refusing one that is a link or not a folder. */
  ensureParent(rel: string): void {
    if (!this.checked.has("")) {
      try {
        fs.mkdirSync(this.root, { recursive: true });
      } catch (err) {
        throw this.error(err, this.root, "create the folder");
      }
      this.checked.add("");
    }
    let dir = "";
    for (const part of rel.split("/").slice(0, -1)) {
      dir = dir ? `${dir}/${part}` : part;
      if (this.checked.has(dir)) continue;
      const abs = this.path(dir);
      let st = this.lstat(abs);
      if (!st) {
        try {
          fs.mkdirSync(abs);
        } catch (err) {
          if (code(err) !== "EEXIST") throw this.error(err, abs, "create the folder");
        }
        st = this.lstat(abs)!;
      }
      if (st.isSymbolicLink()) throw linkRefused(abs);
      if (!st.isDirectory()) throw new DiskError(`${abs}: is not a folder; the manifest needs a folder there, remove what is in the way`);
      this.checked.add(dir);
    }
  }

  /** A regular file's stats, or undefined when nothing is at `abs`; a link or anything else is refused. */
  entry(abs: string): fs.Stats | undefined {
    const st = this.lstat(abs);
    if (st?.isSymbolicLink()) throw linkRefused(abs);
    if (st && !st.isFile()) throw new DiskError(`${abs}: is not a regular file; remove what is in the way`);
    return st;
  }

  /** Opens a file to read it (to verify one already there). */
  openRead(abs: string): number {
    return this.open(abs, O_RDONLY | O_NOFOLLOW, "open it");
  }

  /** Opens a partial download: as it is to resume it (`keep`), else created or emptied. */
  openPartial(abs: string, keep: boolean): number {
    return this.open(abs, keep ? O_RDWR | O_NOFOLLOW : O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, "open it");
  }

  /** A small file's text (the resume state), or undefined when there is none. */
  readText(abs: string): string | undefined {
    if (!this.entry(abs)) return undefined;
    const fd = this.open(abs, O_RDONLY | O_NOFOLLOW, "read it");
    try {
      return fs.readFileSync(fd, "utf8");
    } catch (err) {
      throw this.error(err, abs, "read it");
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Replaces `abs` with `text` through a temporary file, so a kill mid-write leaves the previous version. */
  writeAtomic(abs: string, text: string): void {
    const tmp = `${abs}.tmp`;
    const fd = this.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, "write it");
    try {
      const data = Buffer.from(text);
      this.writeAt(fd, data, 0, data.length, 0, tmp);
    } finally {
      fs.closeSync(fd);
    }
    this.rename(tmp, abs);
  }

  /** Writes `buf[start, end)` at `pos` of `fd` (the file `abs`). */
  writeAt(fd: number, buf: Buffer, start: number, end: number, pos: number, abs: string): void {
    try {
      while (start < end) {
        const n = fs.writeSync(fd, buf, start, end - start, pos);
        start += n;
        pos += n;
      }
    } catch (err) {
      throw this.error(err, abs, "write it");
    }
  }

  /** Sets the file's length (a new partial download: its bytes land at their offsets, in any order). */
  truncate(fd: number, size: number, abs: string): void {
    try {
      fs.ftruncateSync(fd, size);
    } catch (err) {
      throw this.error(err, abs, "size it");
    }
  }

  rename(from: string, to: string): void {
    try {
      fs.renameSync(from, to);
    } catch (err) {
      throw this.error(err, to, `move ${path.basename(from)} there`);
    }
  }

  /** Removes the file at `abs` if there is one (a link there is removed, not followed). */
  remove(abs: string): void {
    try {
      fs.unlinkSync(abs);
    } catch (err) {
      if (code(err) !== "ENOENT") throw this.error(err, abs, "remove it");
    }
  }

  /** Bytes free to an unprivileged writer on the root's filesystem; Infinity where the filesystem cannot say. */
  freeBytes(): number {
    try {
      const s = fs.statfsSync(this.root);
      return s.bavail * s.bsize;
    } catch {
      // The check before the download is a courtesy; a full disk is still caught at the write that fails.
      return Infinity;
    }
  }

  private lstat(abs: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(abs);
    } catch (err) {
      if (code(err) === "ENOENT") return undefined;
      throw this.error(err, abs, "look at it");
    }
  }

  private open(abs: string, flags: number, doing: string): number {
    let fd: number;
    try {
      fd = fs.openSync(abs, flags, 0o644);
    } catch (err) {
      throw this.error(err, abs, doing);
    }
    // A folder opens fine for reading; only a regular file will do.
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw new DiskError(`${abs}: is not a regular file; remove what is in the way`);
    }
    return fd;
  }

  /** What went wrong at `abs`, said so that the user can act: a full disk names the folder and the bytes needed. */
  private error(err: unknown, abs: string, doing: string): DiskError {
    const c = code(err);
    if (c === "ENOSPC" || c === "EDQUOT") {
      return new DiskError(`${this.root}: no space left on the device: ${this.stillToWrite()} bytes still to write (writing ${path.relative(this.root, abs)}); free some space or point --out at a bigger disk`);
    }
    if (c === "ELOOP") return linkRefused(abs);
    // Node's message repeats the path; the reason is what precedes it.
    const reason = ((err as Error).message ?? String(err)).split(", ")[0];
    return new DiskError(`${abs}: cannot ${doing}: ${reason}`);
  }
}

function linkRefused(abs: string): DiskError {
  return new DiskError(`${abs}: is a symbolic link; the fetcher follows no links under the output folder (one could point anywhere), remove it`);
}

const BATCH_BYTES = 1024 * 1024;
/** Pieces this large go to disk as they are; smaller ones (TLS hands over 16 KiB at a time) are batched. */
const DIRECT_BYTES = 64 * 1024;

/**
 * Writes a response body at its file offsets, one writer per connection. Large reads go to disk straight from the
 * socket's buffer; small ones are copied into a batch first, so a TLS connection does not cost a syscall per 16 KiB.
 * Writes are synchronous: the data is in the page cache, where the hasher reads it back, before the chunk it
 * completes is reported. (A disk slow enough to block them is the bottleneck either way.)
 */
export class PositionalWriter {
  private readonly batch = Buffer.allocUnsafe(BATCH_BYTES);
  private fill = 0;
  /** Where the batch goes. */
  private fd = -1;
  private at = 0;
  private file = "";

  constructor(private readonly out: OutDir) {}

  /** Writes `buf[start, end)` at `pos` of `fd` (the file `abs`), now or at the next flush. */
  write(fd: number, abs: string, buf: Buffer, start: number, end: number, pos: number): void {
    const n = end - start;
    if (this.fill > 0 && (fd !== this.fd || pos !== this.at + this.fill || this.fill + n > BATCH_BYTES)) this.flush();
    if (this.fill === 0 && n >= DIRECT_BYTES) return this.out.writeAt(fd, buf, start, end, pos, abs);
    if (this.fill === 0) {
      this.fd = fd;
      this.at = pos;
      this.file = abs;
    }
    buf.copy(this.batch, this.fill, start, end);
    this.fill += n;
  }

  /** Puts what is batched on disk. */
  flush(): void {
    if (this.fill === 0) return;
    const n = this.fill;
    this.fill = 0;
    this.out.writeAt(this.fd, this.batch, 0, n, this.at, this.file);
  }

  /** Forgets what is batched (the run is ending; its file may be closed already). */
  discard(): void {
    this.fill = 0;
  }
}
