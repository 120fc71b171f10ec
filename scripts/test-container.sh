#!/usr/bin/env bash
# npm run test:container: builds container/Dockerfile for real with buildah (no Docker engine needed) against local
# base images, with the weights served by nginx behind the access header, then checks the image:
#   - the weights are in /models and match the manifest's sha256;
#   - the access key is in no layer, no history entry and no config of the image;
#   - the entrypoint (init.sh, then the supervisor) reports ready (with its cold-start line) inside the image, and on
#     SIGTERM to init.sh stops the model server and exits 0;
#   - a wrong key, a missing access secret, or a wrong sha256 in the manifest fails the build;
#   - with MODELS_ACCESS=presigned the same weights come from an S3 server (s3rver) through presigned GETs.
# Needs root, buildah, debootstrap and nginx (.ci/run installs them). The Debian rootfs is cached in
# $WARMSTART_TEST_CACHE (default /var/tmp/warmstart-test) between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

for tool in buildah debootstrap nginx curl; do
  command -v "$tool" >/dev/null || { echo "test:container: $tool is missing; apt-get install -y buildah debootstrap nginx curl" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "test:container: must run as root (buildah chroot isolation)" >&2; exit 2; }

CACHE=${WARMSTART_TEST_CACHE:-/var/tmp/warmstart-test}
WORK=$(mktemp -d)
chmod 755 "$WORK"
PORT=$((20000 + RANDOM % 20000))
SUP_PORT=$((PORT + 1))
KEY="not-in-any-layer-$RANDOM$RANDOM"
passed=0
failed=0
cleanup() {
  nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null || true
  [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null || true
  [ -n "${sup_pid:-}" ] && kill "$sup_pid" 2>/dev/null || true
  # Only this run's container: another run may be building beside this one.
  [ -n "${c:-}" ] && buildah rm "$c" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
BUD=(buildah bud --isolation chroot --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

echo "--- base images"
if [ ! -f "$CACHE/rootfs/etc/debian_version" ]; then
  mkdir -p "$CACHE"
  rm -rf "$CACHE/rootfs"
  debootstrap --variant=minbase bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
fi
if ! buildah inspect localhost/debian-min:bookworm >/dev/null 2>&1; then
  tar -C "$CACHE/rootfs" -c . | podman import - localhost/debian-min:bookworm >/dev/null
fi
# NODE_IMAGE: Debian with this machine's node (same glibc as bookworm), as docker.io/library/node would provide.
c=$(buildah from localhost/debian-min:bookworm)
buildah copy "$c" "$(command -v node)" /usr/local/bin/node >/dev/null
buildah commit -q "$c" localhost/warmstart-node:test >/dev/null
# BASE_IMAGE: the model server stand-in (no GPU here), with the same behaviour the supervisor's unit tests use.
buildah copy "$c" test/support/fakeModelServer.mjs /opt/fake/server.mjs >/dev/null
buildah commit -q "$c" localhost/warmstart-fake-base:test >/dev/null
buildah rm "$c" >/dev/null

echo "--- weights behind nginx (access header required, 40 MB/s per connection)"
mkdir -p "$WORK/www/unet" "$WORK/www/clip" "$WORK/www/loras"
head -c 150M /dev/urandom >"$WORK/www/unet/model.safetensors"
head -c 40M /dev/urandom >"$WORK/www/clip/encoder.safetensors"
head -c 3M /dev/urandom >"$WORK/www/loras/style.safetensors"
manifest() { # $1: sha256 override for the lora ("" for the real one)
  local first=1
  echo '{"files":['
  for f in unet/model.safetensors clip/encoder.safetensors loras/style.safetensors; do
    local sum size
    sum=$(sha256sum "$WORK/www/$f" | cut -d' ' -f1)
    size=$(stat -c %s "$WORK/www/$f")
    if [ "$f" = loras/style.safetensors ] && [ -n "$1" ]; then sum=$1; fi
    [ $first = 1 ] || echo ','
    first=0
    printf '{"path":"%s","size":%s,"sha256":"%s","source":"https://huggingface.co/x/y/resolve/main/%s"}' "$f" "$size" "$sum" "$f"
  done
  echo ']}'
}
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:$PORT; root $WORK/www;
    location / { if (\$http_x_warmstart_models_key != "$KEY") { return 403; } limit_rate 40m; } } }
CONF
nginx -c "$WORK/nginx.conf"

echo "--- build context"
npm run --silent build:container
stage() { # $1: context dir, $2: manifest sha override
  mkdir -p "$1"
  cp -R container/. "$1/"
  rm -f "$1/.node-bin"
  manifest "$2" >"$1/models.json"
}
stage "$WORK/ctx" ""
printf 'X-Warmstart-Models-Key: %s' "$KEY" >"$WORK/header"
printf 'X-Warmstart-Models-Key: wrong' >"$WORK/wrong-header"
build() { # $1: context, $2: access secret file, $3: tag, $4: MODELS_ACCESS (default header), then extra bud args
  local ctx=$1 secret=$2 tag=$3 access=${4:-header}
  shift $(($# < 4 ? $# : 4))
  "${BUD[@]}" "$@" --build-arg BASE_IMAGE=localhost/warmstart-fake-base:test --build-arg NODE_IMAGE=localhost/warmstart-node:test \
    --build-arg MODELS_ACCESS="$access" --build-arg MODELS_BASE_URL="http://127.0.0.1:$PORT" --secret id=models-access,src="$secret" \
    -f "$ctx/Dockerfile" -t "$tag" "$ctx"
}
# The Cloud Build step's own script (components/cloudBuild.ts, after Cloud Build's $$ substitution), run by bash in
# the context as the builder image runs it in /workspace, with the access in WARMSTART_MODELS_ACCESS as secretEnv
# puts it. Its `docker build` goes to buildah with the same flags, but for what this machine forces (no Docker
# daemon, no Docker Hub; shared/recipes/container-build.md): --progress is dropped (buildah has no such flag and
# prints plain logs), --isolation chroot and two --ulimit flags are added, and NODE_IMAGE is a local image (Cloud
# Build pulls the Dockerfile's default from Docker Hub).
docker() {
  [ "$1" = build ] || { echo "docker stand-in: only 'docker build' is expected, got: $*" >&2; return 97; }
  shift
  local args=() a
  for a in "$@"; do case "$a" in --progress=*) ;; *) args+=("$a") ;; esac; done
  buildah bud --isolation chroot --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
    --build-arg NODE_IMAGE=localhost/warmstart-node:test "${args[@]}"
}
export -f docker
cloud_build() { # $1: context, $2: access secret file ("" for public), $3: tag, $4: MODELS_ACCESS
  local script opts=(--access "$4" --base-image localhost/warmstart-fake-base:test --image "$3")
  [ -z "$2" ] || opts+=(--secret)
  [ "$4" = presigned ] || opts+=(--base-url "http://127.0.0.1:$PORT")
  script=$(node_modules/.bin/tsx test/support/cloudBuildStep.ts "${opts[@]}") || return 1
  (
    cd "$1"
    if [ -n "$2" ]; then WARMSTART_MODELS_ACCESS=$(cat "$2"); export WARMSTART_MODELS_ACCESS; fi
    DOCKER_BUILDKIT=1 bash -c "$script"
  )
}

echo "--- build"
if cloud_build "$WORK/ctx" "$WORK/header" localhost/warmstart-test:ok header >"$WORK/build.log" 2>&1; then ok "the image builds with the Cloud Build step's own script"; else
  bad "the image builds with the Cloud Build step's own script"
  tail -30 "$WORK/build.log"
  echo "$passed passed, $failed failed"
  exit 1
fi
check "the fetcher logged its progress and verified every file" "grep -q 'fetch: done: 3 file(s)' '$WORK/build.log'"

c=$(buildah from localhost/warmstart-test:ok)
buildah run --isolation chroot "$c" -- sh -c 'cd /models && sha256sum unet/model.safetensors clip/encoder.safetensors loras/style.safetensors' >"$WORK/in-image.sha"
(cd "$WORK/www" && sha256sum unet/model.safetensors clip/encoder.safetensors loras/style.safetensors) >"$WORK/source.sha"
check "the weights in /models match the manifest" "diff -q '$WORK/in-image.sha' '$WORK/source.sha' >/dev/null"
check "no partial file is left in /models" "[ -z \"\$(buildah run --isolation chroot $c -- sh -c 'find /models -name \"*.partial*\"')\" ]"

buildah push --disable-compression localhost/warmstart-test:ok "dir:$WORK/image" >/dev/null 2>&1
# Positive control: the exported layers are readable as text, so a key in them would be found.
check "the exported layers hold the weights' paths" "grep -rqa 'loras/style.safetensors' '$WORK/image'"
check "the access key is in no layer of the image" "! grep -rqa -- '$KEY' '$WORK/image'"
check "the access key is in no history or config entry" "! buildah inspect localhost/warmstart-test:ok | grep -q -- '$KEY'"
check "init.sh runs the supervisor as the entrypoint" "buildah inspect --format '{{.OCIv1.Config.Entrypoint}}' localhost/warmstart-test:ok | grep -q '/bin/sh /opt/warmstart/init.sh /opt/warmstart/node /opt/warmstart/supervisor.js'"

echo "--- the supervisor inside the image"
# The image's ENTRYPOINT. buildah's chroot isolation has no PID namespace (--pid private is ignored, and unshare is
# not permitted inside), so init.sh is not PID 1 here; test/slow/supervisor.test.ts runs the same ENTRYPOINT as PID 1 of a
# PID namespace and checks the reaping. The model server command has no exec, so the image's /bin/sh (dash) stays
# between the supervisor and the model server, as with any user's command.
read -r -a entrypoint <<<"$(buildah inspect --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' localhost/warmstart-test:ok)"
MODEL_PORT=$((PORT + 2))
buildah run --isolation chroot --network host \
  --env PORT="$SUP_PORT" --env MODEL_SERVER_CMD="env FAKE_PORT=$MODEL_PORT FAKE_HELPER=1 /usr/local/bin/node /opt/fake/server.mjs" \
  --env MODEL_SERVER_URL="http://127.0.0.1:$MODEL_PORT" --env MODEL_HEALTH_PATH=/health \
  --env WARMUP_REQUEST='{"path":"/prompt","body":{"steps":1}}' --env HEALTH_TIMEOUT_SECONDS=180 \
  "$c" -- "${entrypoint[@]}" >"$WORK/supervisor.log" 2>&1 &
sup_pid=$!
# Until ready or the supervisor has exited: a loaded machine may take long to start it, so no short deadline here
# (the supervisor's own HEALTH_TIMEOUT_SECONDS bounds the wait).
while kill -0 "$sup_pid" 2>/dev/null; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SUP_PORT/healthz" || true)" = 200 ] && break
  sleep 0.2
done
check "it reports ready on /healthz" "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$SUP_PORT/healthz)\" = 200 ]"
# On failure, what the supervisor said is the first thing to read.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SUP_PORT/healthz" || true)" = 200 ] || tail -20 "$WORK/supervisor.log"
check "its cold-start line counts the prefetched weights" "grep -q '\"bytesPrefetched\":202375168' '$WORK/supervisor.log'"
# SIGTERM to init.sh, as Cloud Run sends it to PID 1; found among this run's processes only.
descendants() { for k in $(ps -eo pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'); do echo "$k"; descendants "$k"; done; }
init_pid=$(for p in $(descendants "$sup_pid"); do ps -o pid=,args= -p "$p"; done | awk '$2 == "/bin/sh" && $3 == "/opt/warmstart/init.sh" { print $1 }')
if [ -n "$init_pid" ]; then kill -TERM "$init_pid" || true; else kill "$sup_pid" 2>/dev/null || true; fi
sup_status=0
wait "$sup_pid" 2>/dev/null || sup_status=$?
sup_pid=""
check "on SIGTERM to init.sh the supervisor drains and exits 0" "[ -n '$init_pid' ] && [ $sup_status = 0 ] && grep -q 'SIGTERM: draining' '$WORK/supervisor.log'"
check "the model server stopped on SIGTERM (no SIGKILL needed)" "! grep -q 'did not stop on SIGTERM' '$WORK/supervisor.log' && ! curl -s -o /dev/null http://127.0.0.1:$MODEL_PORT/health"
buildah rm "$c" >/dev/null

echo "--- builds that must fail"
if cloud_build "$WORK/ctx" "$WORK/wrong-header" localhost/warmstart-test:wrong-key header >"$WORK/wrong.log" 2>&1; then bad "a wrong access key fails the build"; else
  check "a wrong access key fails the build, saying to check the models access" "grep -q 'HTTP 403 from the models host; check the models access' '$WORK/wrong.log'"
fi
stage "$WORK/ctx-bad" "$(printf '0%.0s' $(seq 64))"
if cloud_build "$WORK/ctx-bad" "$WORK/header" localhost/warmstart-test:bad-sha header >"$WORK/bad.log" 2>&1; then bad "a wrong sha256 fails the build"; else
  check "a wrong sha256 fails the build, naming the file" "grep -q 'loras/style.safetensors: sha256 mismatch' '$WORK/bad.log'"
fi
if "${BUD[@]}" --build-arg BASE_IMAGE=localhost/warmstart-fake-base:test --build-arg NODE_IMAGE=localhost/warmstart-node:test \
  --build-arg MODELS_BASE_URL="http://127.0.0.1:$PORT" -f "$WORK/ctx/Dockerfile" -t localhost/warmstart-test:no-secret "$WORK/ctx" >"$WORK/no-secret.log" 2>&1; then
  bad "a header build without the access secret fails"
else
  check "a header build without the access secret fails, saying what is missing" "grep -q 'MODELS_ACCESS=header needs the models-access secret' '$WORK/no-secret.log'"
fi
check "no image is tagged for the failed builds" "! buildah inspect localhost/warmstart-test:bad-sha >/dev/null 2>&1 && ! buildah inspect localhost/warmstart-test:wrong-key >/dev/null 2>&1"
buildah rmi localhost/warmstart-test:ok >/dev/null 2>&1 || true

echo "--- presigned: the weights from an S3 server, no public host"
S3_PORT=$((PORT + 3))
node test/support/s3Serve.mjs "$S3_PORT" "$WORK/s3data" "$WORK/www" models >"$WORK/s3.log" 2>&1 &
s3_pid=$!
for _ in $(seq 1 300); do grep -q ready "$WORK/s3.log" 2>/dev/null && break; sleep 0.2; done
printf '{"endpoint":"http://127.0.0.1:%s","bucket":"models","accessKeyId":"S3RVER","secretAccessKey":"S3RVER"}' "$S3_PORT" >"$WORK/s3-access.json"
if cloud_build "$WORK/ctx" "$WORK/s3-access.json" localhost/warmstart-test:presigned presigned >"$WORK/presigned.log" 2>&1; then
  ok "the image builds with presigned access"
  c=$(buildah from localhost/warmstart-test:presigned)
  buildah run --isolation chroot "$c" -- sh -c 'cd /models && sha256sum unet/model.safetensors clip/encoder.safetensors loras/style.safetensors' >"$WORK/presigned.sha"
  check "the presigned build's weights match the manifest" "diff -q '$WORK/presigned.sha' '$WORK/source.sha' >/dev/null"
  buildah rm "$c" >/dev/null
  buildah push --disable-compression localhost/warmstart-test:presigned "dir:$WORK/image-presigned" >/dev/null 2>&1
  check "the read credential is in no layer of the presigned image" "! grep -rqa -e secretAccessKey -e S3RVER '$WORK/image-presigned'"
else
  bad "the image builds with presigned access"
  tail -30 "$WORK/presigned.log"
fi
printf '{"endpoint":"http://127.0.0.1:%s","bucket":"models","accessKeyId":"NOT-A-KEY","secretAccessKey":"x"}' "$S3_PORT" >"$WORK/s3-wrong.json"
if build "$WORK/ctx" "$WORK/s3-wrong.json" localhost/warmstart-test:presigned-wrong presigned --build-arg FETCH_ACCESS_WAIT=1 >"$WORK/presigned-wrong.log" 2>&1; then bad "a wrong read credential fails the presigned build"; else
  check "a wrong read credential fails the presigned build, blaming the credential" "grep -q 'the read credential is wrong' '$WORK/presigned-wrong.log'"
fi
buildah rmi localhost/warmstart-test:presigned >/dev/null 2>&1 || true

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
