# Sourced after image-build.sh by test-e2e.sh and bench-warm.sh: the model image on pyserver (images/pyserver/), with
# a model made here. Uses ROOT, WORK, PORT, RUN_TAG and the functions of image-build.sh.

PYSERVER_BASE=localhost/warmstart-pyserver:$RUN_TAG
# The example manifest's one file, where pyserver looks by default.
MODEL_PATH=$(python3 -c 'import json, sys; f = json.load(open(sys.argv[1]))["files"]; assert len(f) == 1, "one file expected"; print(f[0]["path"])' "$ROOT/images/pyserver/models.json")

# pyserver's base image from its own Dockerfile (CPU) on the cached Debian; --layers caches the apt-get layer (keyed
# on the Debian image and the RUN line), so only the first run downloads Python and NumPy.
build_pyserver_base() {
  if ! buildah bud --isolation chroot --layers --build-arg DEBIAN_IMAGE=localhost/debian-min:bookworm -t "$PYSERVER_BASE" "$ROOT/images/pyserver" >"$WORK/pyserver.log" 2>&1; then
    tail -30 "$WORK/pyserver.log"
    echo "images/pyserver/Dockerfile did not build (above)" >&2
    return 1
  fi
}

# The model (test/support/mlp.py, layer sizes $2) into $1: model.safetensors, request.json, expected.json.
make_model() { python3 "$ROOT/test/support/mlp.py" "$1" --sizes "$2"; }

# The example manifest with the size and sha256 of the files under $1 (or sha256 $2 instead), written to $3.
pyserver_manifest() {
  python3 - "$1" "$2" "$ROOT/images/pyserver/models.json" >"$3" <<'PY'
import hashlib, json, os, sys
folder, override, example = sys.argv[1:]
m = json.load(open(example))
for f in m["files"]:
    data = open(os.path.join(folder, f["path"]), "rb").read()
    f["size"], f["sha256"] = len(data), override or hashlib.sha256(data).hexdigest()
json.dump(m, sys.stdout)
PY
}

# The model image on pyserver, tagged $3, from the weights nginx serves under /$1 (a folder of $WORK/www), built by the
# Cloud Build step's own script; $2: sha256 for the manifest instead of the file's (""). Build log: $WORK/build-$3.log.
build_model_image() {
  local folder=$1 sha=$2 tag=$3 ctx
  ctx="$WORK/ctx-${tag##*:}"
  pyserver_manifest "$WORK/www/$folder" "$sha" "$WORK/manifest-${tag##*:}.json"
  stage_context "$ctx" "$WORK/manifest-${tag##*:}.json"
  MODELS_BASE_URL="http://127.0.0.1:$PORT/$folder" cloud_build "$ctx" "$WORK/header" "$tag" header "$PYSERVER_BASE" >"$WORK/build-${tag##*:}.log" 2>&1
}

# The image's ENTRYPOINT in container $1, output to $2, with images/pyserver/supervisor.env; only the ports differ
# (the host's network is shared: not 8080 and 8000). Supervisor on $SUP_PORT, pyserver on $MODEL_PORT; more --env after.
start_pyserver_entrypoint() {
  local c=$1 log=$2
  shift 2
  env_file_args "$ROOT/images/pyserver/supervisor.env" MODEL_SERVER_URL
  run_entrypoint "$c" "$log" "${ENV_ARGS[@]}" --env PORT="$SUP_PORT" --env PYSERVER_PORT="$MODEL_PORT" \
    --env MODEL_SERVER_URL="http://127.0.0.1:$MODEL_PORT" "$@"
}
