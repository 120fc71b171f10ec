#!/usr/bin/env bash
# npm run test:e2e: the model image end to end on CPU, with a real model server and nothing standing in for it.
#   - pyserver's base image is built from its own Dockerfile (images/pyserver/, CPU) on the cached Debian rootfs;
#   - a small MLP (64-3072-3072-10, 39 MB of float32 safetensors) is made here (test/support/mlp.py), served by nginx
#     behind the access header, and baked into /models by the fetcher in the build the Cloud Build step's own script
#     runs (scripts/lib/image-build.sh);
#   - the image's ENTRYPOINT, with images/pyserver/supervisor.env, brings the server to warm: ready on /healthz, a
#     cold-start line with every phase, and a request through the supervisor answered as test/support/mlp.py computed;
#   - it fails as it should: a wrong sha256 fails the build; a file with the right sha256 that the server cannot load
#     and a warmup the server refuses each end in exit 1, never ready.
# Needs root, buildah, debootstrap, nginx and python3 with numpy (.ci/run installs them). The Debian rootfs is cached
# in $WARMSTART_TEST_CACHE (default /var/tmp/warmstart-test), pyserver's apt layer in buildah's layer cache.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/image-build.sh
. scripts/lib/image-build.sh
image_build_init test:e2e buildah debootstrap nginx curl python3
python3 -c 'import numpy' 2>/dev/null || { echo "test:e2e: the host's python3 has no numpy (it computes the answer key); apt-get install -y python3-numpy" >&2; exit 2; }
SUP_PORT=$((PORT + 1))
MODEL_PORT=$((PORT + 2))
# shellcheck source=lib/pyserver-image.sh
. scripts/lib/pyserver-image.sh
IMAGE=localhost/warmstart-e2e-$RUN_TAG:ok
SIZES=64,3072,3072,10

echo "--- base images: Debian, then pyserver (images/pyserver/Dockerfile) on it"
base_images
build_pyserver_base

echo "--- the model: made here, with its answer key; served by nginx"
make_model "$WORK/gen" "$SIZES"
mkdir -p "$WORK/www/good/$(dirname "$MODEL_PATH")" "$WORK/www/truncated/$(dirname "$MODEL_PATH")"
cp "$WORK/gen/model.safetensors" "$WORK/www/good/$MODEL_PATH"
# Right sha256, wrong content: what a half-finished upload, hashed as it is, would give.
head -c 1000000 "$WORK/gen/model.safetensors" >"$WORK/www/truncated/$MODEL_PATH"
start_weights_server "$WORK/www"
npm run --silent build:container

echo "--- build: the Cloud Build step's own script, BASE_IMAGE=$PYSERVER_BASE"
if build_model_image good "" "$IMAGE"; then
  ok "the image builds on pyserver's base with the Cloud Build step's own script"
else
  bad "the image builds on pyserver's base with the Cloud Build step's own script"
  tail -30 "$WORK/build-ok.log"
  echo "$passed passed, $failed failed"
  exit 1
fi
check "the fetcher verified the model file" "grep -q 'fetch: done: 1 file(s)' '$WORK/build-ok.log'"
new_container "$IMAGE"
c=$CONTAINER
check "the model in /models is the one made here" "[ \"\$(buildah run --isolation chroot $c -- sha256sum /models/$MODEL_PATH | cut -d' ' -f1)\" = \"\$(sha256sum '$WORK/gen/model.safetensors' | cut -d' ' -f1)\" ]"
start() { start_pyserver_entrypoint "$c" "$@"; }

echo "--- warm: the supervisor brings pyserver to ready, and answers through it"
start "$WORK/warm.log"
if wait_healthz "$SUP_PORT" 60 "$ENTRYPOINT_PID"; then ok "the supervisor reports ready on /healthz"; else bad "the supervisor reports ready on /healthz"; tail -20 "$WORK/warm.log"; fi
check "pyserver loaded the model itself (its own log line, the layer sizes)" "grep -q '\"message\": \"model loaded; listening on 127.0.0.1:$MODEL_PORT\".*\"layers\": \\[${SIZES//,/, }\\]' '$WORK/warm.log'"
# Every phase, each a number, adding up; the bytes prefetched are the model's.
cold_start() {
  python3 - "$WORK/warm.log" "$(stat -c %s "$WORK/gen/model.safetensors")" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"coldStart"' in l]
assert len(lines) == 1, f"{len(lines)} cold-start lines"
c = lines[0]["coldStart"]
print("cold start:", json.dumps(c))
for k in ("prefetchMs", "serverReadyMs", "warmupMs", "totalMs", "bytesPrefetched"):
    assert isinstance(c.get(k), int) and c[k] >= 0, f"{k} is {c.get(k)!r}"
assert c["serverReadyMs"] > 0 and c["totalMs"] >= c["serverReadyMs"] + c["warmupMs"], "the phases do not add up"
assert c["bytesPrefetched"] == int(sys.argv[2]), f"prefetched {c['bytesPrefetched']} bytes, the model has {sys.argv[2]}"
PY
}
check "the cold-start line shows every phase, and the whole model prefetched" cold_start
curl -s -H 'content-type: application/json' --data-binary @"$WORK/gen/request.json" "http://127.0.0.1:$SUP_PORT/predict" >"$WORK/answer.json" || true
answer_is_right() {
  python3 - "$WORK/answer.json" "$WORK/gen/expected.json" <<'PY'
import json, sys, numpy
got = numpy.array(json.load(open(sys.argv[1]))["outputs"])
want = numpy.array(json.load(open(sys.argv[2]))["outputs"])
assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
print(f"inference: {got.shape[0]} rows x {got.shape[1]} outputs, largest difference from the answer key {abs(got - want).max():.2e}")
# float32 through two 3072-wide layers: BLAS builds differ in summation order, not by more than this.
assert numpy.allclose(got, want, rtol=1e-4, atol=1e-4), "the answer differs from the one computed here"
PY
}
check "a request through the supervisor gets the right inference answer" answer_is_right
check "a malformed request gets pyserver's 400 through the supervisor" "[ \"\$(http_status -H 'content-type: application/json' --data '{\"inputs\":[[1,2]]}' http://127.0.0.1:$SUP_PORT/predict)\" = 400 ]"
stop_entrypoint "$ENTRYPOINT_PID"
check "on SIGTERM to init.sh the supervisor stops pyserver and exits 0" "[ -n '$INIT_PID' ] && [ $ENTRYPOINT_STATUS = 0 ] && ! curl -s -o /dev/null http://127.0.0.1:$MODEL_PORT/health"

# $1: log, $2: what the test shows; the rest: --env arguments. Passes when the entrypoint exits 1 and was never ready.
never_ready() {
  local log=$1 what=$2
  shift 2
  start "$log" "$@"
  if wait_healthz "$SUP_PORT" 60 "$ENTRYPOINT_PID"; then
    bad "$what: it became ready"
    stop_entrypoint "$ENTRYPOINT_PID"
    return
  fi
  local status=0
  wait "$ENTRYPOINT_PID" 2>/dev/null || status=$?
  check "$what: exit 1, never ready" "[ $status = 1 ]"
}

echo "--- failures it must catch"
never_ready "$WORK/warmup-fails.log" "a warmup pyserver refuses" --env WARMUP_ATTEMPTS=1 --env WARMUP_REQUEST='{"path":"/predict","body":{"inputs":[[1,2,3]]}}'
check "the supervisor logs the failed warmup with pyserver's reason" "grep -q 'warmup failed.*must be a list of rows of 64 numbers' '$WORK/warmup-fails.log'"

if build_model_image good "$(printf '0%.0s' $(seq 64))" "localhost/warmstart-e2e-$RUN_TAG:bad-sha"; then
  bad "a wrong sha256 fails the build"
else
  check "a wrong sha256 fails the build, naming the file" "grep -q '$MODEL_PATH: sha256 mismatch' '$WORK/build-bad-sha.log' && ! buildah inspect localhost/warmstart-e2e-$RUN_TAG:bad-sha >/dev/null 2>&1"
fi

buildah rm "$c" >/dev/null
if build_model_image truncated "" "localhost/warmstart-e2e-$RUN_TAG:truncated"; then
  ok "a file with the right sha256 but not loadable builds (the sha256 is all the fetcher knows)"
  new_container "localhost/warmstart-e2e-$RUN_TAG:truncated"
  c=$CONTAINER
  never_ready "$WORK/unloadable.log" "weights pyserver cannot load"
  check "pyserver says why it cannot load them, and the supervisor that it exited" "grep -q 'cannot load the model: /models/$MODEL_PATH: .*truncated?' '$WORK/unloadable.log' && grep -q 'model server exited (code 1)' '$WORK/unloadable.log'"
else
  bad "a file with the right sha256 but not loadable builds"
  tail -30 "$WORK/build-truncated.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
