# Sourced (not run) by the scripts that build container/Dockerfile for real with buildah: test-container.sh,
# test-e2e.sh and bench-warm.sh. One copy of what they share: the base images, the weights server, the Cloud Build
# step's own script run with `docker` mapped to buildah, and the image's ENTRYPOINT run in the image.
#
# image_build_init NAME TOOL... checks the tools and root, then sets ROOT (the repository), CACHE, WORK (a temporary
# folder removed on exit), PORT (nginx; PORT+1.. are free for the caller) and KEY (the models access key).

ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
passed=0
failed=0

# Containers, processes and images this run made; only these are removed on exit. Other runs (other worktrees, other
# scripts) share buildah's storage, so every image this run tags has $RUN_TAG in its name: a fixed name was retagged
# or removed under a running build by another run.
OWN_CONTAINERS=()
OWN_PIDS=()
RUN_TAG="run$$-$RANDOM"
image_build_cleanup() {
  nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null || true
  local p c i
  for p in "${OWN_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # A failed build leaves its working containers (not --force-rm: with --no-cache, which buildah requires with it,
  # a build removed its NODE_IMAGE stage's image, i.e. $NODE_IMAGE itself); they are from this run's images.
  for c in "${OWN_CONTAINERS[@]}" $(buildah containers --format '{{.ContainerID}} {{.ImageName}}' 2>/dev/null | awk -v t="$RUN_TAG" 'index($2, t) { print $1 }'); do
    buildah rm "$c" >/dev/null 2>&1 || true
  done
  for i in $(buildah images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -F -- "$RUN_TAG"); do buildah rmi "$i" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}

# A base port with it and the next three free, below the kernel's ephemeral range. In that range, a client that polls
# a port before its server listens (the supervisor polling the model server) can be given that very port as its own
# and connect to itself (TCP self-connect); the server's listen then fails with EADDRINUSE, as a CI run saw.
free_port_base() {
  local low port
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 50); do
    port=$((10000 + RANDOM % (low - 10004)))
    command -v ss >/dev/null || { echo "$port"; return; }
    ss -Htan 2>/dev/null | awk '{print $4}' | grep -qE ":($port|$((port + 1))|$((port + 2))|$((port + 3)))\$" || { echo "$port"; return; }
  done
  echo "$port"
}

image_build_init() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool is missing; apt-get install -y $*" >&2; exit 2; }
  done
  [ "$(id -u)" = 0 ] || { echo "$name: must run as root (buildah chroot isolation)" >&2; exit 2; }
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  CACHE=${WARMSTART_TEST_CACHE:-/var/tmp/warmstart-test}
  WORK=$(mktemp -d)
  chmod 755 "$WORK"
  PORT=$(free_port_base)
  KEY="not-in-any-layer-$RANDOM$RANDOM"
  trap image_build_cleanup EXIT
}

# `buildah from IMAGE`, removed on exit; the container's id in $CONTAINER (not echoed: a subshell would lose the record).
new_container() {
  CONTAINER=$(buildah from "$1")
  OWN_CONTAINERS+=("$CONTAINER")
}

BUD=(buildah bud --isolation chroot --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

# localhost/debian-min:bookworm (a debootstrap'd Debian, cached in $CACHE/rootfs) and $NODE_IMAGE (it with this
# machine's node, same glibc as bookworm, as docker.io/library/node would provide). Leaves $CONTAINER: the latter's
# working container, for a caller that adds to it.
export NODE_IMAGE="localhost/warmstart-node:$RUN_TAG"
base_images() {
  if [ ! -f "$CACHE/rootfs/etc/debian_version" ]; then
    mkdir -p "$CACHE"
    rm -rf "$CACHE/rootfs"
    debootstrap --variant=minbase bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
  fi
  if ! buildah inspect localhost/debian-min:bookworm >/dev/null 2>&1; then
    tar -C "$CACHE/rootfs" -c . | podman import - localhost/debian-min:bookworm >/dev/null
  fi
  new_container localhost/debian-min:bookworm
  buildah copy "$CONTAINER" "$(command -v node)" /usr/local/bin/node >/dev/null
  buildah commit -q "$CONTAINER" "$NODE_IMAGE" >/dev/null
}

# nginx on 127.0.0.1:$PORT serving $1, 403 without `X-Warmstart-Models-Key: $KEY`, 40 MB/s per connection.
# $WORK/header and $WORK/wrong-header are the access secrets a build mounts.
start_weights_server() {
  cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:$PORT; root $1;
    location / { if (\$http_x_warmstart_models_key != "$KEY") { return 403; } limit_rate 40m; } } }
CONF
  nginx -c "$WORK/nginx.conf"
  printf 'X-Warmstart-Models-Key: %s' "$KEY" >"$WORK/header"
  printf 'X-Warmstart-Models-Key: wrong' >"$WORK/wrong-header"
}

# A model image build context in $1: container/ (after npm run build:container) with the manifest $2.
stage_context() {
  mkdir -p "$1"
  cp -R "$ROOT/container/." "$1/"
  rm -f "$1/.node-bin"
  cp "$2" "$1/models.json"
}

# The Cloud Build step's own script (components/image/cloudBuild.ts, after Cloud Build's $$ substitution), run by bash in
# the context as the builder image runs it in /workspace, with the access in WARMSTART_MODELS_ACCESS as secretEnv
# puts it. Its `docker build` goes to buildah with the same flags, but for what this machine forces (no Docker
# daemon, no Docker Hub; shared/recipes/container-build.md): --progress is dropped (buildah has no such flag and
# prints plain logs), --isolation chroot and two --ulimit flags are added, and NODE_IMAGE is a local
# image (Cloud Build pulls the Dockerfile's default from Docker Hub).
docker() {
  [ "$1" = build ] || { echo "docker stand-in: only 'docker build' is expected, got: $*" >&2; return 97; }
  shift
  local args=() a
  for a in "$@"; do case "$a" in --progress=*) ;; *) args+=("$a") ;; esac; done
  # Not "${BUD[@]}": the step's bash is a child process, which gets exported functions but no arrays.
  buildah bud --isolation chroot --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
    --build-arg NODE_IMAGE="$NODE_IMAGE" "${args[@]}"
}
export -f docker
# $1: context, $2: access secret file ("" for public), $3: tag, $4: MODELS_ACCESS, $5: BASE_IMAGE; the weights come
# from MODELS_BASE_URL (default nginx's root).
cloud_build() {
  local script opts=(--access "$4" --base-image "$5" --image "$3")
  [ -z "$2" ] || opts+=(--secret)
  [ "$4" = presigned ] || opts+=(--base-url "${MODELS_BASE_URL:-http://127.0.0.1:$PORT}")
  script=$("$ROOT/node_modules/.bin/tsx" "$ROOT/test/support/cloudBuildStep.ts" "${opts[@]}") || return 1
  (
    cd "$1"
    if [ -n "$2" ]; then WARMSTART_MODELS_ACCESS=$(cat "$2"); export WARMSTART_MODELS_ACCESS; fi
    DOCKER_BUILDKIT=1 bash -c "$script"
  )
}

# Runs the image's ENTRYPOINT in container $1 (host network), output to $2, with the --env arguments that follow;
# its pid in ENTRYPOINT_PID. buildah's chroot isolation has no PID namespace (--pid private is ignored, and unshare
# is not permitted inside), so init.sh is not PID 1 here; test/slow/supervisor.test.ts runs the same ENTRYPOINT as
# PID 1 of a PID namespace and checks the reaping.
run_entrypoint() {
  local c=$1 log=$2 image entrypoint
  shift 2
  image=$(buildah inspect --format '{{.FromImageID}}' "$c")
  read -r -a entrypoint <<<"$(buildah inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' "$image")"
  buildah run --isolation chroot --network host "$@" "$c" -- "${entrypoint[@]}" >"$log" 2>&1 &
  ENTRYPOINT_PID=$!
  OWN_PIDS+=("$ENTRYPOINT_PID")
}

# --env arguments from an env file ($1; KEY=VALUE a line, `docker run --env-file`'s format) into ENV_ARGS, less the
# keys named after it (the caller sets those).
env_file_args() {
  ENV_ARGS=()
  local file=$1 line k
  shift
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    for k in "$@"; do [ "${line%%=*}" != "$k" ] || continue 2; done
    ENV_ARGS+=(--env "$line")
  done <"$file"
}

http_status() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# Waits until http://127.0.0.1:$1/healthz answers 200 (true) or $2 seconds pass, or the process $3 ends (false).
wait_healthz() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt "$deadline" ]; do
    [ "$(http_status "http://127.0.0.1:$1/healthz")" = 200 ] && return 0
    [ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# The pids under $1, depth first.
descendants() { local k; for k in $(ps -eo pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'); do echo "$k"; descendants "$k"; done; }

# SIGTERM to the entrypoint's init.sh (run_entrypoint's $1), as Cloud Run sends it to PID 1, found among this run's
# processes only; then waits. Sets INIT_PID (empty when not found) and ENTRYPOINT_STATUS.
stop_entrypoint() {
  local p
  INIT_PID=$(for p in $(descendants "$1"); do ps -o pid=,args= -p "$p"; done | awk '$2 == "/bin/sh" && $3 == "/opt/warmstart/init.sh" { print $1 }')
  if [ -n "$INIT_PID" ]; then kill -TERM "$INIT_PID"; else kill "$1" 2>/dev/null || true; fi
  ENTRYPOINT_STATUS=0
  wait "$1" 2>/dev/null || ENTRYPOINT_STATUS=$?
}
