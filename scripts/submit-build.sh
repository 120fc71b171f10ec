#!/usr/bin/env bash
# Submits an image build to Cloud Build and prints the pushed image's digest (sha256:...) on stdout, alone.
# Run by the ModelImage component (@pulumi/command); the build log goes to stderr so Pulumi shows it.
# Env: BUILD_CONFIG (JSON), CONTEXT_DIR, PROJECT, REGION, BUILD_SERVICE_ACCOUNT, SOURCE_STAGING_DIR (gs://...).
# The model image also sets MANIFEST (the manifest file) or MANIFEST_JSON (the manifest a models sync just produced):
# its CONTEXT_DIR must hold dist/ (npm run build:container), and the manifest is staged into it as models.json.
# A reference base image (images/<name>/) sets neither: its folder is the whole context.
set -euo pipefail
for v in BUILD_CONFIG CONTEXT_DIR PROJECT REGION BUILD_SERVICE_ACCOUNT SOURCE_STAGING_DIR; do
  if [ -z "${!v:-}" ]; then echo "submit-build: $v is not set" >&2; exit 2; fi
done
command -v gcloud >/dev/null || { echo "submit-build: gcloud not found; install the Google Cloud CLI (docs/operations.md, \"First deploy\")" >&2; exit 2; }
model=0
[ -z "${MANIFEST:-}${MANIFEST_JSON:-}" ] || model=1
if [ "$model" = 1 ]; then
  [ -f "$CONTEXT_DIR/dist/fetcher.js" ] || { echo "submit-build: $CONTEXT_DIR/dist/ is missing; run npm run build:container" >&2; exit 2; }
  [ -n "${MANIFEST_JSON:-}" ] || [ -f "$MANIFEST" ] || { echo "submit-build: manifest $MANIFEST not found" >&2; exit 2; }
fi
config=$(mktemp --suffix=.json)
stage=$(mktemp -d)
trap 'rm -rf "$config" "$stage"' EXIT
printf '%s' "$BUILD_CONFIG" > "$config"
cp -R "$CONTEXT_DIR/." "$stage/"
rm -f "$stage/.node-bin"
if [ -n "${MANIFEST_JSON:-}" ]; then printf '%s\n' "$MANIFEST_JSON" >"$stage/models.json"; elif [ "$model" = 1 ]; then cp "$MANIFEST" "$stage/models.json"; fi
# --async returns the build id at once; streaming its log separately keeps stdout clean for the digest.
id=$(gcloud builds submit "$stage" --async --config="$config" --project="$PROJECT" --region="$REGION" \
  --service-account="projects/$PROJECT/serviceAccounts/$BUILD_SERVICE_ACCOUNT" \
  --gcs-source-staging-dir="$SOURCE_STAGING_DIR" --format='value(id)')
echo "submit-build: Cloud Build $id in $REGION" >&2
# With CLOUD_LOGGING_ONLY (required with a build service account), GA gcloud's --stream only waits for the build to
# end (gcloud lib/googlecloudsdk/api_lib/cloudbuild/logs.py streams Cloud Logging in beta only); the whole log is
# then printed from Cloud Logging.
gcloud builds log "$id" --stream --project="$PROJECT" --region="$REGION" >/dev/null 2>&1 || true
gcloud builds log "$id" --project="$PROJECT" --region="$REGION" >&2 || true
read -r status digest < <(gcloud builds describe "$id" --project="$PROJECT" --region="$REGION" \
  --format='value(status,results.images[0].digest)')
if [ "$status" != "SUCCESS" ]; then
  echo "submit-build: build $id ended $status; see: gcloud builds log $id --region=$REGION" >&2
  exit 1
fi
case "${digest:-}" in
  sha256:*) printf '%s' "$digest" ;;
  *) echo "submit-build: build $id succeeded but reported no image digest" >&2; exit 1 ;;
esac
