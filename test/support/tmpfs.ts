/**
 * A small tmpfs for tests of a full disk: a real ENOSPC from the kernel, not a mocked one. Mounting needs root (CI
 * and these machines run tests as root); elsewhere `mountTmpfs` says why it could not, and the test fails saying so.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Tmpfs {
  readonly dir: string;
  unmount(): void;
}

export function mountTmpfs(bytes: number): Tmpfs | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    return `cannot mount a tmpfs here (${(r.stderr || r.error?.message || "").trim()})`;
  }
  return {
    dir,
    unmount: () => {
      spawnSync("umount", [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a file into `dir` until the filesystem is full: every later write there fails with ENOSPC. */
export function fillUp(dir: string): void {
  const fd = fs.openSync(path.join(dir, "filler"), "w");
  try {
    for (const size of [1 << 20, 4096]) {
      const block = Buffer.alloc(size);
      for (;;) {
        try {
          fs.writeSync(fd, block);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
