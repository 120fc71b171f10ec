import { describe, expect, test } from "vitest";
import { backoffMs, MIB, parseContentRange, planRequests, resumableChunks, type SyncedFile } from "../../container/fetchPlan";

const file = (path: string, size: number): SyncedFile => ({ path, size, sha256: "a".repeat(64), source: undefined });
const none = () => new Set<number>();

describe("request plan", () => {
  const big = file("unet/big.safetensors", 23 * 1024 * MIB);
  const small = file("vae/ae.safetensors", 320 * MIB);

  test("starts with the largest file whatever the manifest order", () => {
    expect(planRequests([small, big], 8 * MIB, 64 * MIB, 16, none)[0].file.path).toBe("unet/big.safetensors");
  });

  test("covers every byte of every file exactly once, never crossing files", () => {
    const plans = planRequests([small, big], 8 * MIB, 64 * MIB, 16, none);
    for (const f of [big, small]) {
      const spans = plans.filter((p) => p.file === f).map((p) => [p.start, p.end]);
      expect(spans[0][0]).toBe(0);
      for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBe(spans[i - 1][1] + 1);
      expect(spans[spans.length - 1][1]).toBe(f.size - 1);
    }
  });

  test("uses the largest requests early and one chunk at the end, so no connection idles at the tail", () => {
    const plans = planRequests([big, small], 8 * MIB, 64 * MIB, 16, none);
    const sizes = plans.map((p) => p.end - p.start + 1);
    expect(sizes[0]).toBe(64 * MIB);
    expect(sizes.slice(-16).every((s) => s <= 8 * MIB)).toBe(true);
    for (let i = 1; i < plans.length; i++) if (plans[i].file === plans[i - 1].file) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1]);
  });

  test("files of the same size go in path order; a file of exactly two chunks is two chunks, an empty one a single request", () => {
    const a = file("a.bin", 2 * MIB);
    const b = file("b.bin", 2 * MIB);
    const plans = planRequests([b, a], MIB, MIB, 4, none);
    expect(plans.map((p) => [p.file.path, p.chunks])).toEqual([
      ["a.bin", [0]],
      ["a.bin", [1]],
      ["b.bin", [0]],
      ["b.bin", [1]],
    ]);
    expect(planRequests([file("empty", 0)], MIB, MIB, 4, none).map((p) => p.chunks)).toEqual([[0]]);
  });

  test("skips the chunks a partial download already has", () => {
    const f = file("a", 10 * MIB);
    const plans = planRequests([f], MIB, 64 * MIB, 1, () => new Set([0, 1, 5]));
    expect(plans.flatMap((p) => p.chunks)).toEqual([2, 3, 4, 6, 7, 8, 9]);
    expect(plans.every((p) => p.chunks.every((c, i) => i === 0 || c === p.chunks[i - 1] + 1))).toBe(true);
  });
});

describe("resume state", () => {
  const f = file("a", 10 * MIB);
  test("is used only for the same file version and chunk size", () => {
    const state = { size: f.size, sha256: f.sha256, chunkBytes: MIB, done: [0, 3, 99, -1] };
    expect([...resumableChunks(state, f, MIB)]).toEqual([0, 3]);
    expect(resumableChunks({ ...state, sha256: "b".repeat(64) }, f, MIB).size).toBe(0);
    expect(resumableChunks({ ...state, chunkBytes: 2 * MIB }, f, MIB).size).toBe(0);
    expect(resumableChunks("garbage", f, MIB).size).toBe(0);
  });

  test("a file whose size changed, or a state without a chunk list, starts over; only whole chunk numbers of the file count", () => {
    const state = { size: f.size, sha256: f.sha256, chunkBytes: MIB, done: [0, 9, 10, 1.5] };
    expect([...resumableChunks(state, f, MIB)]).toEqual([0, 9]);
    expect(resumableChunks({ ...state, size: f.size + 1 }, f, MIB).size).toBe(0);
    expect(resumableChunks({ ...state, done: "0,9" }, f, MIB).size).toBe(0);
    expect(resumableChunks(undefined, f, MIB).size).toBe(0);
  });
});

test("Content-Range is parsed, and anything else rejected", () => {
  expect(parseContentRange("bytes 0-99/1000")).toEqual({ start: 0, end: 99, total: 1000 });
  expect(parseContentRange("bytes 5-9/*")).toEqual({ start: 5, end: 9, total: undefined });
  expect(parseContentRange("items 0-1/2")).toBeUndefined();
  expect(parseContentRange(undefined)).toBeUndefined();
  expect(parseContentRange(" bytes 0-99/1000\r")).toEqual({ start: 0, end: 99, total: 1000 });
  for (const bad of ["xbytes 0-99/1000", "bytes 0-99/1000x", "bytes 0-99", "bytes -99/1000"]) expect(parseContentRange(bad), bad).toBeUndefined();
});

test("backoff doubles, is capped at 15 s and jittered", () => {
  expect(backoffMs(1, 250, () => 0)).toBe(125);
  expect(backoffMs(3, 250, () => 1)).toBe(1000);
  expect(backoffMs(20, 250, () => 1)).toBe(15000);
});
