import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundleContainer } from "../../components/image/containerBundle";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFaultServer, type FaultServer } from "../support/faultServer";

const ROOT = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-scale-"));
const BUNDLE = path.join(tmp, "fetcher.js");
// 2,000 small files of different sizes: more than the image build's open-file limit (1024) could hold two each.
const FILES: Record<string, Buffer> = Object.fromEntries(
  Array.from({ length: 2000 }, (_, i) => [`loras/set${i % 7}/file-${i}.safetensors`, Buffer.alloc(1 + ((i * 7919) % 20_000), i % 251)]),
);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let server: FaultServer;

beforeAll(async () => {
  await bundleContainer(ROOT, path.dirname(BUNDLE), { fetcher: "container/fetcher.ts" }); // the image's recipe
  server = await startFaultServer(FILES);
  fs.writeFileSync(path.join(tmp, "models.json"), JSON.stringify({ files: Object.entries(FILES).map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) })) }));
});
afterAll(() => server.close());

/** The bundled fetcher as the image build runs it, under `prlimit --nofile=1024` (the build's `--ulimit nofile=1024`). */
const fetchUnderLimit = (out: string, connections: number) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const args = ["--nofile=1024:1024", process.execPath, BUNDLE, "--manifest", path.join(tmp, "models.json"), "--source", server.url, "--out", out, "--connections", String(connections), "--progress", "none"];
    const child = spawn("prlimit", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (status) => resolve({ status, stderr }));
  });

test.each([16, 256])("2,000 files under nofile=1024 with %i connections: every file verified, no EMFILE", async (connections) => {
  const out = path.join(tmp, `out-${connections}`);
  server.log.length = 0;
  const r = await fetchUnderLimit(out, connections);
  expect(r.stderr).not.toMatch(/EMFILE/);
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  for (const [p, b] of Object.entries(FILES)) expect(fs.readFileSync(path.join(out, p)).equals(b), p).toBe(true);
  // One request per file: no probe first.
  expect(server.log).toHaveLength(2000);
});

test("a re-run over 2,000 verified files under nofile=1024 hashes them again and asks for nothing", async () => {
  const out = path.join(tmp, "out-16");
  server.log.length = 0;
  const r = await fetchUnderLimit(out, 16);
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  expect(r.stderr).toMatch(/done: 0 file\(s\), .*; 2000 already verified/);
  expect(server.log).toEqual([]);
});
