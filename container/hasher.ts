/**
 * Hashes files off the main thread: the event loop keeps reading sockets while a worker reads completed ranges back
 * from the page cache and feeds each file's sha256 in order. (Hashing on the main thread stalled every connection
 * for the hash's duration: ~0.7 s per GiB.)
 *
 * The worker reads through the caller's file descriptor (descriptors belong to the process, so the worker thread
 * can use them): it never opens a path, so what it hashes is the very file the fetcher wrote, not whatever a link
 * swapped in, and a file costs one descriptor, not two. The caller closes it after {@link Hasher.digest}.
 */
import { Worker } from "node:worker_threads";

const READ_BYTES = 8 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const crypto = require("node:crypto");
const fs = require("node:fs");
const files = new Map();
const buf = Buffer.allocUnsafe(${READ_BYTES});
parentPort.on("message", (m) => {
  const f = files.get(m.id);
  if (!f && m.type !== "begin") {
    if (m.type === "digest") parentPort.postMessage({ id: m.id, error: "no such file being hashed" });
    return;
  }
  try {
    if (m.type === "begin") files.set(m.id, { fd: m.fd, hash: crypto.createHash("sha256"), error: undefined });
    else if (f.error !== undefined) {
      if (m.type === "digest") {
        files.delete(m.id);
        parentPort.postMessage({ id: m.id, error: f.error });
      }
    } else if (m.type === "range") {
      for (let pos = m.start; pos <= m.end; ) {
        const n = fs.readSync(f.fd, buf, 0, Math.min(buf.length, m.end + 1 - pos), pos);
        if (n === 0) throw new Error("the file is shorter than its completed chunks");
        f.hash.update(buf.subarray(0, n));
        pos += n;
      }
    } else if (m.type === "digest") {
      files.delete(m.id);
      parentPort.postMessage({ id: m.id, digest: f.hash.digest("hex") });
    }
  } catch (err) {
    // Kept until the digest is asked for, so that the caller hears of it once, in order.
    if (f) f.error = String((err && err.message) || err);
  }
});
`;

/**
 * Threads: files are dealt out in turn, each file's ranges go to its thread in order. With one, a small file's hash
 * waited behind the big file's backlog (the big file's first request completes last of its round, so its hash
 * frontier jumps by a gigabyte at once) and the run ended ~0.2 s after its last byte; two keep the last file's
 * hash close behind its download.
 */
const THREADS = 2;

export class Hasher {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (d: string) => void; reject: (e: Error) => void; label: string }>();
  private nextId = 0;

  constructor() {
    this.workers = Array.from({ length: THREADS }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.on("message", (m: { id: number; digest?: string; error?: string }) => {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (!w) return;
        if (m.error !== undefined) w.reject(new Error(`${w.label}: reading it back to hash it failed: ${m.error}`));
        else w.resolve(m.digest!);
      });
      worker.on("error", (err) => {
        for (const w of this.waiting.values()) w.reject(new Error(`${w.label}: the hashing thread failed: ${err.message}`));
        this.waiting.clear();
      });
      return worker;
    });
  }

  /** Starts a file's hash; its bytes are read through `fd`. */
  begin(fd: number): number {
    const id = this.nextId++;
    this.worker(id).postMessage({ type: "begin", id, fd });
    return id;
  }

  /** Feeds bytes [start, end] (inclusive) of the file to its hash; call in file order. */
  range(id: number, start: number, end: number): void {
    this.worker(id).postMessage({ type: "range", id, start, end });
  }

  /** The sha256 (hex) of everything fed; `label` names the file in an error. */
  digest(id: number, label: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, label });
      this.worker(id).postMessage({ type: "digest", id });
    });
  }

  private closed: Promise<unknown> | undefined;

  /** Stops the threads (once, however often called). */
  async close(): Promise<void> {
    this.closed ??= Promise.all(this.workers.map((w) => w.terminate()));
    await this.closed;
  }

  private worker(id: number): Worker {
    return this.workers[id % this.workers.length];
  }
}
