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
# shellcheck source=lib/image-build.sh
. scripts/lib/image-build.sh
image_build_init test:container buildah debootstrap nginx curl
SUP_PORT=$((PORT + 1))

echo "--- base images"
base_images
# BASE_IMAGE: the model server stand-in (no GPU here), with the same behaviour the supervisor's unit tests use.
buildah copy "$CONTAINER" test/support/fakeModelServer.mjs /opt/fake/server.mjs >/dev/null
FAKE_BASE=localhost/warmstart-fake-base:$RUN_TAG
buildah commit -q "$CONTAINER" "$FAKE_BASE" >/dev/null

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
start_weights_server "$WORK/www"

echo "--- build context"
npm run --silent build:container
stage() { # $1: context dir, $2: manifest sha override
  manifest "$2" >"$WORK/manifest.json"
  stage_context "$1" "$WORK/manifest.json"
}
stage "$WORK/ctx" ""
build() { # $1: context, $2: access secret file, $3: tag, $4: MODELS_ACCESS (default header), then extra bud args
  local ctx=$1 secret=$2 tag=$3 access=${4:-header}
  shift $(($# < 4 ? $# : 4))
  "${BUD[@]}" "$@" --build-arg BASE_IMAGE=$FAKE_BASE --build-arg NODE_IMAGE=$NODE_IMAGE \
    --build-arg MODELS_ACCESS="$access" --build-arg MODELS_BASE_URL="http://127.0.0.1:$PORT" --secret id=models-access,src="$secret" \
    -f "$ctx/Dockerfile" -t "$tag" "$ctx"
}
# The Cloud Build step's own script, with `docker` mapped to buildah (scripts/lib/image-build.sh says how and why).
cloud_build_fake() { cloud_build "$@" "$FAKE_BASE"; }

echo "--- build"
if cloud_build_fake "$WORK/ctx" "$WORK/header" localhost/warmstart-test-$RUN_TAG:ok header >"$WORK/build.log" 2>&1; then ok "the image builds with the Cloud Build step's own script"; else
  bad "the image builds with the Cloud Build step's own script"
  tail -30 "$WORK/build.log"
  echo "$passed passed, $failed failed"
  exit 1
fi
check "the fetcher logged its progress and verified every file" "grep -q 'fetch: done: 3 file(s)' '$WORK/build.log'"

new_container localhost/warmstart-test-$RUN_TAG:ok
c=$CONTAINER
buildah run --isolation chroot "$c" -- sh -c 'cd /models && sha256sum unet/model.safetensors clip/encoder.safetensors loras/style.safetensors' >"$WORK/in-image.sha"
(cd "$WORK/www" && sha256sum unet/model.safetensors clip/encoder.safetensors loras/style.safetensors) >"$WORK/source.sha"
check "the weights in /models match the manifest" "diff -q '$WORK/in-image.sha' '$WORK/source.sha' >/dev/null"
check "no partial file is left in /models" "[ -z \"\$(buildah run --isolation chroot $c -- sh -c 'find /models -name \"*.partial*\"')\" ]"

buildah push --disable-compression localhost/warmstart-test-$RUN_TAG:ok "dir:$WORK/image" >/dev/null 2>&1
# Positive control: the exported layers are readable as text, so a key in them would be found.
check "the exported layers hold the weights' paths" "grep -rqa 'loras/style.safetensors' '$WORK/image'"
check "the access key is in no layer of the image" "! grep -rqa -- '$KEY' '$WORK/image'"
check "the access key is in no history or config entry" "! buildah inspect localhost/warmstart-test-$RUN_TAG:ok | grep -q -- '$KEY'"
check "init.sh runs the supervisor as the entrypoint" "buildah inspect --format '{{.OCIv1.Config.Entrypoint}}' localhost/warmstart-test-$RUN_TAG:ok | grep -q '/bin/sh /opt/warmstart/init.sh /opt/warmstart/node /opt/warmstart/supervisor.js'"

echo "--- the supervisor inside the image"
# The image's ENTRYPOINT (see run_entrypoint). The model server command has no exec, so the image's /bin/sh (dash)
# stays between the supervisor and the model server, as with any user's command.
MODEL_PORT=$((PORT + 2))
run_entrypoint "$c" "$WORK/supervisor.log" \
  --env PORT="$SUP_PORT" --env MODEL_SERVER_CMD="env FAKE_PORT=$MODEL_PORT FAKE_HELPER=1 /usr/local/bin/node /opt/fake/server.mjs" \
  --env MODEL_SERVER_URL="http://127.0.0.1:$MODEL_PORT" --env MODEL_HEALTH_PATH=/health \
  --env WARMUP_REQUEST='{"path":"/prompt","body":{"steps":1}}' --env HEALTH_TIMEOUT_SECONDS=180
# Until ready or the supervisor has exited: a loaded machine may take long to start it, so the deadline is the
# supervisor's own HEALTH_TIMEOUT_SECONDS (and a margin), not a short one here.
wait_healthz "$SUP_PORT" 240 "$ENTRYPOINT_PID" || true
check "it reports ready on /healthz" "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$SUP_PORT/healthz)\" = 200 ]"
# On failure, what the supervisor said is the first thing to read.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SUP_PORT/healthz" || true)" = 200 ] || tail -20 "$WORK/supervisor.log"
check "its cold-start line counts the prefetched weights" "grep -q '\"bytesPrefetched\":202375168' '$WORK/supervisor.log'"
stop_entrypoint "$ENTRYPOINT_PID"
check "on SIGTERM to init.sh the supervisor drains and exits 0" "[ -n '$INIT_PID' ] && [ $ENTRYPOINT_STATUS = 0 ] && grep -q 'SIGTERM: draining' '$WORK/supervisor.log'"
check "the model server stopped on SIGTERM (no SIGKILL needed)" "! grep -q 'did not stop on SIGTERM' '$WORK/supervisor.log' && ! curl -s -o /dev/null http://127.0.0.1:$MODEL_PORT/health"
buildah rm "$c" >/dev/null

echo "--- builds that must fail"
if cloud_build_fake "$WORK/ctx" "$WORK/wrong-header" localhost/warmstart-test-$RUN_TAG:wrong-key header >"$WORK/wrong.log" 2>&1; then bad "a wrong access key fails the build"; else
  check "a wrong access key fails the build, saying to check the models access" "grep -q 'HTTP 403 from the models host; check the models access' '$WORK/wrong.log'"
fi
stage "$WORK/ctx-bad" "$(printf '0%.0s' $(seq 64))"
if cloud_build_fake "$WORK/ctx-bad" "$WORK/header" localhost/warmstart-test-$RUN_TAG:bad-sha header >"$WORK/bad.log" 2>&1; then bad "a wrong sha256 fails the build"; else
  check "a wrong sha256 fails the build, naming the file" "grep -q 'loras/style.safetensors: sha256 mismatch' '$WORK/bad.log'"
fi
if "${BUD[@]}" --build-arg BASE_IMAGE=$FAKE_BASE --build-arg NODE_IMAGE=$NODE_IMAGE \
  --build-arg MODELS_BASE_URL="http://127.0.0.1:$PORT" -f "$WORK/ctx/Dockerfile" -t localhost/warmstart-test-$RUN_TAG:no-secret "$WORK/ctx" >"$WORK/no-secret.log" 2>&1; then
  bad "a header build without the access secret fails"
else
  check "a header build without the access secret fails, saying what is missing" "grep -q 'MODELS_ACCESS=header needs the models-access secret' '$WORK/no-secret.log'"
fi
check "no image is tagged for the failed builds" "! buildah inspect localhost/warmstart-test-$RUN_TAG:bad-sha >/dev/null 2>&1 && ! buildah inspect localhost/warmstart-test-$RUN_TAG:wrong-key >/dev/null 2>&1"
buildah rmi localhost/warmstart-test-$RUN_TAG:ok >/dev/null 2>&1 || true

echo "--- presigned: the weights from an S3 server, no public host"
S3_PORT=$((PORT + 3))
node test/support/s3Serve.mjs "$S3_PORT" "$WORK/s3data" "$WORK/www" models >"$WORK/s3.log" 2>&1 &
s3_pid=$!
OWN_PIDS+=("$s3_pid")
for _ in $(seq 1 300); do grep -q ready "$WORK/s3.log" 2>/dev/null && break; sleep 0.2; done
printf '{"endpoint":"http://127.0.0.1:%s","bucket":"models","accessKeyId":"S3RVER","secretAccessKey":"S3RVER"}' "$S3_PORT" >"$WORK/s3-access.json"
if cloud_build_fake "$WORK/ctx" "$WORK/s3-access.json" localhost/warmstart-test-$RUN_TAG:presigned presigned >"$WORK/presigned.log" 2>&1; then
  ok "the image builds with presigned access"
  new_container localhost/warmstart-test-$RUN_TAG:presigned
  c=$CONTAINER
  buildah run --isolation chroot "$c" -- sh -c 'cd /models && sha256sum unet/model.safetensors clip/encoder.safetensors loras/style.safetensors' >"$WORK/presigned.sha"
  check "the presigned build's weights match the manifest" "diff -q '$WORK/presigned.sha' '$WORK/source.sha' >/dev/null"
  buildah rm "$c" >/dev/null
  buildah push --disable-compression localhost/warmstart-test-$RUN_TAG:presigned "dir:$WORK/image-presigned" >/dev/null 2>&1
  check "the read credential is in no layer of the presigned image" "! grep -rqa -e secretAccessKey -e S3RVER '$WORK/image-presigned'"
else
  bad "the image builds with presigned access"
  tail -30 "$WORK/presigned.log"
fi
printf '{"endpoint":"http://127.0.0.1:%s","bucket":"models","accessKeyId":"NOT-A-KEY","secretAccessKey":"x"}' "$S3_PORT" >"$WORK/s3-wrong.json"
if build "$WORK/ctx" "$WORK/s3-wrong.json" localhost/warmstart-test-$RUN_TAG:presigned-wrong presigned --build-arg FETCH_ACCESS_WAIT=1 >"$WORK/presigned-wrong.log" 2>&1; then bad "a wrong read credential fails the presigned build"; else
  check "a wrong read credential fails the presigned build, blaming the credential" "grep -q 'the read credential is wrong' '$WORK/presigned-wrong.log'"
fi
buildah rmi localhost/warmstart-test-$RUN_TAG:presigned >/dev/null 2>&1 || true

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
