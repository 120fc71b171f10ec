/**
 * npm run bench:fetch: see BENCH_FETCH (its --help) for the flags.
 *
 * warmstart-fetch as the image runs it (the bundle, container/dist/fetcher.js, under plain node, sha256 verified)
 * against aria2c -x16 -s16 (which verifies nothing), on the same loopback server, the same files and the same
 * per-connection cap. Runs go in A B B A order per round (fetcher, aria2c, aria2c, fetcher), so a machine that
 * slows down or speeds up during the run weighs on both tools alike; the medians and their ratio are printed, with
 * each pair's ratio. One untimed run of each tool comes first: the server is a fresh Node process, and its first
 * requests (JIT warm-up) slowed whichever tool ran first, always the fetcher in this order. aria2c's output is
 * checked against the manifest after each run, outside the timing.
 *
 * --server bucket (default): scripts/bench/throttledServer.mjs, a token bucket per TCP connection (how a long
 * network path behaves). --server nginx: limit_rate per request, which lets each request send about a second
 * unthrottled and so flatters tools that make many requests (kept to show the difference, not as the measure).
 * --fetcher FILE: another bundle (e.g. an older commit's) instead of building this one. Needs aria2c and GNU time
 * (apt-get install aria2 time; nginx for --server nginx).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { command, numberFlag, runCommand, UsageError, type Values } from "../container/cli";
import { CommandError } from "../container/commandError";

const BENCH_FETCH = command({
  name: "bench:fetch",
  purpose: "Times warmstart-fetch against aria2c on a throttled loopback server, in A B B A rounds (docs/benchmarks.md).",
  usage: "npm run bench:fetch -- [options]",
  about: `Writes ~1.6 GB of random data under /tmp (removed afterwards) and serves it with a per-connection cap. Needs
aria2c and GNU time (apt-get install -y aria2 time; nginx too for --server nginx).`,
  flags: {
    rounds: { type: "string", value: "N", default: "3", help: "rounds of fetcher, aria2c, aria2c, fetcher" },
    "rate-mb": { type: "string", value: "MB", default: "40", help: "the server's cap per connection, MB/s" },
    "big-mib": { type: "string", value: "MiB", default: "1280", help: "size of the big file" },
    "small-mib": { type: "string", value: "MiB", default: "256", help: "size of the small file" },
    connections: { type: "string", value: "N", defaultText: "the fetcher's own, 32", help: "the fetcher's --connections" },
    server: { type: "string", value: "KIND", default: "bucket", help: "bucket (a token bucket per TCP connection) or nginx (limit_rate per request, which flatters many requests)" },
    fetcher: { type: "string", value: "FILE", defaultText: "this checkout's bundle, built first", help: "another fetcher bundle to time, e.g. an older commit's" },
  },
  example: "npm run bench:fetch -- --rounds 5 --connections 16",
  exitCodes: { 0: "measured", 1: "a run failed", 2: "bad usage, or a tool is missing" },
});

const ROOT = path.resolve(__dirname, "..");

function main(values: Values<typeof BENCH_FETCH.flags>): number {
  if (!["bucket", "nginx"].includes(values.server)) throw new UsageError(`--server must be bucket or nginx, got "${values.server}"`);
  const RATE_MB = numberFlag("rate-mb", values["rate-mb"], 0.1, 100_000);
  const ROUNDS = numberFlag("rounds", values.rounds, 1, 100, { integer: true });
  const bigMib = numberFlag("big-mib", values["big-mib"], 1, 1_000_000, { integer: true });
  const smallMib = numberFlag("small-mib", values["small-mib"], 1, 1_000_000, { integer: true });
  if (values.connections !== undefined) numberFlag("connections", values.connections, 1, 256, { integer: true });
  const tools = ["aria2c", "/usr/bin/time", "sha256sum", ...(values.server === "nginx" ? ["nginx"] : [])];
  for (const tool of tools) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new CommandError(`${tool} is missing; apt-get install -y aria2 time${values.server === "nginx" ? " nginx" : ""}`, 2);
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-bench-"));
  fs.chmodSync(work, 0o755);
  const www = path.join(work, "www");
  fs.mkdirSync(path.join(www, "unet"), { recursive: true });
  fs.mkdirSync(path.join(www, "clip"), { recursive: true });
  const files = [
    { path: "unet/big.safetensors", mib: bigMib },
    { path: "clip/encoder.safetensors", mib: smallMib },
  ];
  console.error(`bench: writing ${files.map((f) => `${f.mib} MiB`).join(" + ")} of random data...`);
  for (const f of files) execFileSync("sh", ["-c", `head -c ${f.mib}M /dev/urandom > '${path.join(www, f.path)}'`]);
  const sha256 = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
  const manifest = { files: files.map((f) => ({ path: f.path, size: fs.statSync(path.join(www, f.path)).size, sha256: sha256(path.join(www, f.path)) })) };
  const totalBytes = manifest.files.reduce((s, f) => s + f.size, 0);
  fs.writeFileSync(path.join(work, "models.json"), JSON.stringify(manifest));
  const fetcher = values.fetcher ? path.resolve(values.fetcher) : path.join(ROOT, "container/dist/fetcher.js");
  if (values.fetcher && !fs.existsSync(fetcher)) throw new CommandError(`--fetcher ${values.fetcher}: no such file`, 2);
  if (!values.fetcher) execFileSync("npm", ["run", "--silent", "build:container"], { cwd: ROOT, stdio: "inherit" });

  const port = 18000 + Math.floor(Math.random() * 1000);
  let stopServer: () => void;
  if (values.server === "nginx") {
    fs.writeFileSync(
      path.join(work, "nginx.conf"),
      `worker_processes 2;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:${port}; root ${www}; location / { limit_rate ${RATE_MB}m; } } }
`,
    );
    execFileSync("nginx", ["-c", path.join(work, "nginx.conf")]);
    stopServer = () => spawnSync("nginx", ["-c", path.join(work, "nginx.conf"), "-s", "stop"]);
  } else {
    const server = spawn(process.execPath, [path.join(ROOT, "scripts/bench/throttledServer.mjs"), www, String(port), String(RATE_MB * 1e6)], { stdio: "ignore" });
    stopServer = () => server.kill();
  }
  const base = `http://127.0.0.1:${port}`;

  interface Run {
    tool: "fetcher" | "aria2c";
    seconds: number;
    rssMb: number;
  }

  const out = path.join(work, "out");
  const connections = values.connections ? ["--connections", values.connections] : [];
  const commands = {
    fetcher: [process.execPath, fetcher, "--manifest", path.join(work, "models.json"), "--source", base, "--out", out, ...connections, "--progress", "none"],
    aria2c: ["aria2c", "-q", "-x16", "-s16", "-k16M", "-j2", "--file-allocation=none", "-d", out, "-i", path.join(work, "aria2.txt")],
  };
  fs.writeFileSync(path.join(work, "aria2.txt"), manifest.files.map((f) => `${base}/${f.path}\n  out=${f.path}`).join("\n"));

  /** One timed run into an empty folder; wall seconds and peak RSS (GNU time's, of the largest process). */
  function measure(tool: Run["tool"]): Run {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    // Both tools write to the same disk: what one run left dirty is flushed before the next starts.
    execFileSync("sync");
    const t0 = process.hrtime.bigint();
    const r = spawnSync("/usr/bin/time", ["-f", "%M", ...commands[tool]], { encoding: "utf8" });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new CommandError(`${tool} failed: ${r.stderr.slice(-500)}`);
    if (tool === "aria2c") {
      for (const f of manifest.files) if (sha256(path.join(out, f.path)) !== f.sha256) throw new CommandError(`aria2c wrote a wrong ${f.path}`);
    }
    const rssKb = Number(r.stderr.trim().split("\n").pop());
    return { tool, seconds, rssMb: rssKb / 1024 };
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const mbps = (r: Run) => totalBytes / 1e6 / r.seconds;

  try {
    console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load ${os.loadavg()[0].toFixed(2)}`);
    console.log(
      `server: ${values.server === "nginx" ? "nginx limit_rate (per request)" : "token bucket per TCP connection (256 KiB burst)"}, ${RATE_MB} MB/s per connection; ${(totalBytes / 1e6).toFixed(0)} MB in ${manifest.files.length} files`,
    );
    console.log(`fetcher: ${path.relative(ROOT, fetcher) || fetcher} ${connections.join(" ") || "(default connections)"}; aria2c: ${commands.aria2c.slice(1, 7).join(" ")}\n`);
    const warm = [measure("aria2c"), measure("fetcher")];
    console.log(`warm-up (untimed): ${warm.map((r) => `${r.tool} ${mbps(r).toFixed(0)} MB/s`).join(", ")}`);
    const runs: Run[] = [];
    const pairs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const a1 = measure("fetcher");
      const b1 = measure("aria2c");
      const b2 = measure("aria2c");
      const a2 = measure("fetcher");
      runs.push(a1, b1, b2, a2);
      pairs.push(b1.seconds / a1.seconds, b2.seconds / a2.seconds);
      console.log(`round ${round}: ${[a1, b1, b2, a2].map((r) => `${r.tool} ${mbps(r).toFixed(0)} MB/s`).join(", ")}`);
    }
    const of = (tool: Run["tool"]) => runs.filter((r) => r.tool === tool);
    console.log(`\n${"tool".padEnd(40)} ${"median MB/s".padStart(12)} ${"range MB/s".padStart(12)} ${"peak RSS".padStart(10)}`);
    for (const [tool, label] of [
      ["fetcher", "warmstart-fetch (bundle, sha256 verified)"],
      ["aria2c", "aria2c -x16 -s16 (no verification)"],
    ] as const) {
      const rs = of(tool);
      const speeds = rs.map(mbps);
      console.log(
        `${label.padEnd(40)} ${median(speeds).toFixed(0).padStart(12)} ${`${Math.min(...speeds).toFixed(0)}-${Math.max(...speeds).toFixed(0)}`.padStart(12)} ${`${Math.max(...rs.map((r) => r.rssMb)).toFixed(0)} MB`.padStart(10)}`,
      );
    }
    const ratio = median(of("aria2c").map((r) => r.seconds)) / median(of("fetcher").map((r) => r.seconds));
    console.log(
      `\nwarmstart-fetch vs aria2c: ${ratio.toFixed(2)}x (median times); per pair: median ${median(pairs).toFixed(2)}x, range ${Math.min(...pairs).toFixed(2)}-${Math.max(...pairs).toFixed(2)}x over ${pairs.length} pairs; load ${os.loadavg()[0].toFixed(2)}`,
    );
  } finally {
    stopServer();
    fs.rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

void runCommand(BENCH_FETCH, process.argv.slice(2), main).then((code) => (process.exitCode = code));
