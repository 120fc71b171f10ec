/**
 * npm run bench:fetch [-- --rate-mb 40 --big-mib 2048 --small-mib 256]
 *
 * The same files, the same per-connection cap, fetched by warmstart-fetch (16 connections, sha256 verified),
 * aria2c -x16 -s16 and curl (one stream per file), in one run; prints MB/s and peak RSS for each, and the ratio to
 * aria2c. Two servers: nginx with limit_rate (what the issue names; it lets each request send about a second
 * unthrottled, which flatters ranged fetchers) and a loopback server that caps each TCP connection with a token
 * bucket (how a long network path behaves). Needs nginx, aria2c, curl and GNU time (apt-get install nginx aria2 curl time).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { "rate-mb": { type: "string", default: "40" }, "big-mib": { type: "string", default: "2048" }, "small-mib": { type: "string", default: "256" } } });
const RATE_MB = Number(values["rate-mb"]);
const ROOT = path.resolve(__dirname, "..");
for (const tool of ["nginx", "aria2c", "curl", "/usr/bin/time"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(`bench:fetch: ${tool} is missing; apt-get install -y nginx aria2 curl time`);
    process.exit(2);
  }
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-bench-"));
fs.chmodSync(work, 0o755);
const www = path.join(work, "www");
fs.mkdirSync(path.join(www, "unet"), { recursive: true });
fs.mkdirSync(path.join(www, "clip"), { recursive: true });
const files = [
  { path: "unet/big.safetensors", mib: Number(values["big-mib"]) },
  { path: "clip/encoder.safetensors", mib: Number(values["small-mib"]) },
];
console.error(`bench: writing ${files.map((f) => `${f.mib} MiB`).join(" + ")} of random data...`);
for (const f of files) execFileSync("sh", ["-c", `head -c ${f.mib}M /dev/urandom > '${path.join(www, f.path)}'`]);
const sha256 = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
const manifest = { files: files.map((f) => ({ path: f.path, size: fs.statSync(path.join(www, f.path)).size, sha256: sha256(path.join(www, f.path)) })) };
const totalBytes = manifest.files.reduce((s, f) => s + f.size, 0);
fs.writeFileSync(path.join(work, "models.json"), JSON.stringify(manifest));
execFileSync("npm", ["run", "--silent", "build:container"], { cwd: ROOT, stdio: "inherit" });

const nginxPort = 18000 + Math.floor(Math.random() * 1000);
const bucketPort = nginxPort + 1;
fs.writeFileSync(
  path.join(work, "nginx.conf"),
  `worker_processes 2;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:${nginxPort}; root ${www}; location / { limit_rate ${RATE_MB}m; } } }
`,
);
execFileSync("nginx", ["-c", path.join(work, "nginx.conf")]);
const bucket = spawn(process.execPath, [path.join(ROOT, "scripts/bench/throttledServer.mjs"), www, String(bucketPort), String(RATE_MB * 1e6)], { stdio: "ignore" });

interface Result {
  tool: string;
  seconds: number;
  rssMb: number;
}

/** Runs a command under GNU time; returns wall seconds and peak RSS (of the largest process). */
function measure(tool: string, cmd: string[], out: string): Result {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  execFileSync("sh", ["-c", "sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true"]);
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", ...cmd], { encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr.slice(-500)}`);
  const rssKb = Number(r.stderr.trim().split("\n").pop());
  return { tool, seconds, rssMb: rssKb / 1024 };
}

function runAll(label: string, base: string): Result[] {
  const out = path.join(work, "out");
  const results: Result[] = [];
  results.push(
    measure(
      "warmstart-fetch (16 conn, sha256 verified)",
      [process.execPath, path.join(ROOT, "container/dist/fetcher.js"), "--manifest", path.join(work, "models.json"), "--source", base, "--out", out, "--connections", "16", "--progress", "none"],
      out,
    ),
  );
  const list = manifest.files.map((f) => `${base}/${f.path}\n  out=${f.path}`).join("\n");
  fs.writeFileSync(path.join(work, "aria2.txt"), list);
  results.push(
    measure("aria2c -x16 -s16 -k16M (no verification)", ["aria2c", "-q", "-x16", "-s16", "-k16M", "-j2", "--file-allocation=none", "-d", out, "-i", path.join(work, "aria2.txt")], out),
  );
  results.push(
    measure(
      "curl, one stream per file",
      ["sh", "-c", manifest.files.map((f) => `curl -sf --create-dirs -o '${out}/${f.path}' '${base}/${f.path}'`).join(" && ")],
      out,
    ),
  );
  const aria = results[1];
  console.log(`\n${label}: ${(totalBytes / 1e6).toFixed(0)} MB in ${manifest.files.length} files, ${RATE_MB} MB/s per connection`);
  console.log(`${"tool".padEnd(44)} ${"MB/s".padStart(8)} ${"peak RSS".padStart(10)} ${"vs aria2c".padStart(10)}`);
  for (const r of results) {
    const mbps = totalBytes / 1e6 / r.seconds;
    console.log(`${r.tool.padEnd(44)} ${mbps.toFixed(0).padStart(8)} ${`${r.rssMb.toFixed(0)} MB`.padStart(10)} ${(aria.seconds / r.seconds).toFixed(2).padStart(9)}x`);
  }
  return results;
}

try {
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  runAll("nginx limit_rate (per request)", `http://127.0.0.1:${nginxPort}`);
  runAll("token bucket per TCP connection (256 KiB burst)", `http://127.0.0.1:${bucketPort}`);
} finally {
  bucket.kill();
  spawnSync("nginx", ["-c", path.join(work, "nginx.conf"), "-s", "stop"]);
  fs.rmSync(work, { recursive: true, force: true });
}
