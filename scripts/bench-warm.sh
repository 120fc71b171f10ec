#!/usr/bin/env bash
# npm run bench:warm [-- --rounds 5 --sizes 64,8192,8192,10]: time to warm on CPU, for the end-to-end test's image
# (the model image on pyserver, built the same way, with a 271 MB model by default). Prints figures, asserts nothing
# (docs/benchmarks.md records them):
#   1. the supervisor's overhead: its cold-start totalMs minus pyserver's own load-to-healthy time without the
#      supervisor (same image, same command, started by a harness inside the image that polls /health every 5 ms);
#      rounds of A B B A (A: the image's ENTRYPOINT, B: pyserver alone), the model's page cache dropped before each;
#   2. the prefetch's read speed (the image's own supervisor.js: its prefetch() on the image's /models) against a
#      parallel `cat` of the same files to /dev/null, page cache dropped before each (posix_fadvise DONTNEED, which
#      needs no root; fincore confirms), rounds of prefetch, cat, cat, prefetch.
# Medians are reported. Needs what npm run test:e2e needs, and fincore (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/image-build.sh
. scripts/lib/image-build.sh
image_build_init bench:warm buildah debootstrap nginx curl python3 fincore
# shellcheck source=lib/pyserver-image.sh
. scripts/lib/pyserver-image.sh
ROUNDS=5
SIZES=64,8192,8192,10
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    *) echo "bench:warm: unknown option $1; options: --rounds N (default 5), --sizes IN,HIDDEN...,OUT (default $SIZES)" >&2; exit 2 ;;
  esac
done
SUP_PORT=$((PORT + 1))
MODEL_PORT=$((PORT + 2))
IMAGE=localhost/warmstart-bench-$RUN_TAG:ok

echo "--- the image: pyserver, a model of sizes $SIZES, built as npm run test:e2e builds it"
base_images
build_pyserver_base
make_model "$WORK/gen" "$SIZES"
mkdir -p "$WORK/www/m/$(dirname "$MODEL_PATH")"
mv "$WORK/gen/model.safetensors" "$WORK/www/m/$MODEL_PATH"
start_weights_server "$WORK/www"
npm run --silent build:container
build_model_image m "" "$IMAGE" || { tail -30 "$WORK/build-ok.log"; exit 1; }
new_container "$IMAGE"
c=$CONTAINER
MNT=$(buildah mount "$c")
mapfile -t FILES < <(find "$MNT/models" -type f)
BYTES=$(cat "${FILES[@]}" | wc -c)

# Evicts the model's pages (no root needed), then checks: a page still cached would flatter the next run. Pages a
# process still reads are not evicted, so a few tries.
drop_cache() {
  local resident try
  for try in 1 2 3 4 5; do
    python3 -c 'import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "${FILES[@]}"
    resident=$(fincore -nb -o RES "${FILES[@]}" | awk '{ s += $1 } END { print s + 0 }')
    [ "$resident" -ge $((BYTES / 100)) ] || return 0
    sleep 0.2
  done
  echo "bench:warm: $resident bytes of the model still cached after POSIX_FADV_DONTNEED" >&2
  exit 1
}

# A: the ENTRYPOINT as in npm run test:e2e; its cold-start line to $WORK/a.jsonl.
supervised() {
  drop_cache
  start_pyserver_entrypoint "$c" "$WORK/a.log"
  wait_healthz "$SUP_PORT" 300 "$ENTRYPOINT_PID" || { tail -20 "$WORK/a.log"; echo "bench:warm: the supervisor did not become ready" >&2; exit 1; }
  grep -h '"coldStart"' "$WORK/a.log" >>"$WORK/a.jsonl"
  stop_entrypoint "$ENTRYPOINT_PID"
}
# B: supervisor.env's MODEL_SERVER_CMD, started as the supervisor starts it (/bin/sh -c), until /health answers 200.
CMD=$(grep '^MODEL_SERVER_CMD=' images/pyserver/supervisor.env | cut -d= -f2-)
HARNESS='import os, subprocess, sys, time, urllib.request
cmd, port = sys.argv[1:]
t0 = time.monotonic()
p = subprocess.Popen(["/bin/sh", "-c", cmd], env={**os.environ, "PYSERVER_PORT": port}, stdout=subprocess.DEVNULL, start_new_session=True)
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    if p.poll() is not None:
        sys.exit("pyserver exited")
    time.sleep(0.005)
print(round((time.monotonic() - t0) * 1000))
os.killpg(p.pid, 15)  # the whole group, as the supervisor stops it: dash does not pass SIGTERM on
p.wait()'
alone() {
  drop_cache
  buildah run --isolation chroot --network host "$c" -- python3 -c "$HARNESS" "$CMD" "$MODEL_PORT" >>"$WORK/b.txt"
}
# The image's prefetch() on its /models (host node = the image's node: warmstart-node is this machine's binary).
prefetch_run() {
  drop_cache
  node -e 'const { prefetch } = require(process.argv[1]);
const t0 = process.hrtime.bigint();
prefetch([process.argv[2]], 16 * 1024 ** 3).then((bytes) => console.log(Number(process.hrtime.bigint() - t0) / 1e6, bytes));' \
    "$MNT/opt/warmstart/supervisor.js" "$MNT/models" >>"$WORK/prefetch.txt"
}
cat_run() {
  drop_cache
  local t0 t1
  t0=$(date +%s%N)
  printf '%s\0' "${FILES[@]}" | xargs -0 -P 8 -n 1 cat >/dev/null
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000)) $BYTES" >>"$WORK/cat.txt"
}

echo "--- $ROUNDS rounds of A B B A (A: the ENTRYPOINT, B: pyserver alone), cold page cache each; $(uptime | sed 's/.*load/load/')"
for r in $(seq 1 "$ROUNDS"); do supervised; alone; alone; supervised; echo "round $r done"; done
echo "--- $ROUNDS rounds of prefetch, cat, cat, prefetch, cold page cache each"
for r in $(seq 1 "$ROUNDS"); do prefetch_run; cat_run; cat_run; prefetch_run; done

echo "--- done; $(uptime | sed 's/.*load/load/')"
python3 - "$WORK" "$BYTES" "$SIZES" "$ROUNDS" <<'PY'
import json, statistics as st, sys
work, size, sizes, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
a = [json.loads(l)["coldStart"] for l in open(f"{work}/a.jsonl")]
b = [int(l) for l in open(f"{work}/b.txt")]
med = lambda xs: st.median(xs)
total, ready, warm, pre = (med([x[k] for x in a]) for k in ("totalMs", "serverReadyMs", "warmupMs", "prefetchMs"))
alone = med(b)
# Within each round, A1 B1 B2 A2: the overhead of pairs run side by side.
pairs = [a[2 * i + j]["totalMs"] - b[2 * i + j] for i in range(rounds) for j in (0, 1)]
pf = [tuple(map(float, l.split())) for l in open(f"{work}/prefetch.txt")]
ct = [tuple(map(float, l.split())) for l in open(f"{work}/cat.txt")]
mbs = lambda runs: [bytes_ / ms / 1000 for ms, bytes_ in runs]
print(f"\nmodel: {size / 1e6:.0f} MB ({sizes}); {rounds} rounds; medians (range)")
print("A serverReadyMs, in run order:", [x["serverReadyMs"] for x in a])
print("A totalMs, in run order:      ", [x["totalMs"] for x in a])
print("B, in run order:              ", b)
print("| measure | median | range |\n|---|---:|---:|")
rng = lambda xs: f"{min(xs):.0f}–{max(xs):.0f}"
print(f"| A: supervisor totalMs (ENTRYPOINT to warm) | {total:.0f} ms | {rng([x['totalMs'] for x in a])} ms |")
print(f"| A: of which serverReadyMs / warmupMs / prefetchMs | {ready:.0f} / {warm:.0f} / {pre:.0f} ms | |")
print(f"| B: pyserver alone, start to /health 200 | {alone:.0f} ms | {rng(b)} ms |")
print(f"| supervisor overhead: median A − median B | {total - alone:.0f} ms | |")
print(f"| supervisor overhead, pairs in the same round | {med(pairs):.0f} ms | {rng(pairs)} ms |")
print(f"| prefetch read speed (cold cache) | {med(mbs(pf)):.0f} MB/s | {rng(mbs(pf))} MB/s |")
print(f"| parallel cat to /dev/null (cold cache) | {med(mbs(ct)):.0f} MB/s | {rng(mbs(ct))} MB/s |")
# Side by side in each round: the first prefetch with the first cat, the second cat with the second prefetch.
ratios = [p / c for p, c in zip(mbs(pf), mbs(ct))]
print(f"| prefetch / cat: ratio of the medians | {med(mbs(pf)) / med(mbs(ct)):.2f}x | |")
print(f"| prefetch / cat: pairs in the same round | {med(ratios):.2f}x | {min(ratios):.2f}–{max(ratios):.2f}x |")
PY
