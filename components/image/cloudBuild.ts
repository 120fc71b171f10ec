/**
 * The Cloud Build configuration for the model image. Pure: the ModelImage component writes it to JSON and
 * `scripts/submit-build.sh` submits it with `gcloud builds submit`.
 */
import type { ModelsAccess } from "../models/modelsAccess";

const GIB = 1024 ** 3;

/**
 * Disk for the build VM: the weights are downloaded once, copied into a layer, and the layer is compressed for
 * the push, so 2.5× the weights plus room for the base image and Docker's own files.
 */
export function buildDiskSizeGb(weightBytes: number): number {
  const headroomGb = 50;
  return Math.min(4000, Math.max(100, Math.ceil((weightBytes * 2.5) / GIB) + headroomGb));
}

/** Where an Artifact Registry Docker image lives: `LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/...`. */
export interface RegistryRepository {
  readonly location: string;
  readonly project: string;
  readonly repository: string;
}

/** The Artifact Registry repository of an image reference; undefined for other registries (Docker Hub, gcr.io, ...). */
export function artifactRegistryRepository(image: string): RegistryRepository | undefined {
  const m = /^([a-z0-9-]+)-docker\.pkg\.dev\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/([a-z0-9][a-z0-9._-]*)\//.exec(image);
  return m ? { location: m[1], project: m[2], repository: m[3] } : undefined;
}

export interface CloudBuildSpec {
  /** `REGION-docker.pkg.dev/PROJECT/REPO/IMAGE`, without tag. */
  readonly imageRepo: string;
  /** Tag pushed with the image; the service uses the digest, the tag is for people. */
  readonly tag: string;
  /**
   * Build args, in order: BASE_IMAGE, MODELS_ACCESS and MODELS_BASE_URL for the model image (see modelImageBuildArgs);
   * none for a reference base image, whose Dockerfile names its own base.
   */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** The Dockerfile in the context, when not `Dockerfile` (a reference image's variant, e.g. `Dockerfile.cuda`). */
  readonly dockerfile?: string;
  /**
   * Secret Manager version holding what the fetcher needs to read the weights (the header line, or the presigned
   * access JSON), `projects/P/secrets/S/versions/latest`; undefined with public access and for a base image.
   */
  readonly accessSecretVersion: string | undefined;
  readonly machineType: string;
  readonly diskSizeGb: number;
  readonly timeoutMinutes: number;
}

/** The model image's build args: what the Dockerfile's weights stage needs, never a secret. */
export function modelImageBuildArgs(baseImage: string, modelsAccess: ModelsAccess, modelsBaseUrl: string | undefined): Record<string, string> {
  return { BASE_IMAGE: baseImage, MODELS_ACCESS: modelsAccess, ...(modelsBaseUrl ? { MODELS_BASE_URL: modelsBaseUrl } : {}) };
}

/** Environment name the models access has inside the build step; never a build arg, never in a layer. */
export const ACCESS_ENV = "WARMSTART_MODELS_ACCESS";

/**
 * The build step's image, pinned. `gcr.io/cloud-builders/docker:20.10.24` is what `:latest` points to
 * (GoogleCloudPlatform/cloud-builders, docker/cloudbuild.yaml): Docker CLI 20.10, which builds with BuildKit itself
 * when DOCKER_BUILDKIT=1, so `docker build` takes --secret and --progress (docker/cli v20.10.24,
 * cli/command/image/build.go) but not buildx's --load, and leaves the image in the host daemon's store, where the
 * build's `images:` pushes it from. Not 24.0.9: that CLI hands `docker build` to the buildx plugin, which this image
 * does not install, and fails with "BuildKit is enabled but the buildx component is missing or broken".
 */
export const BUILDER_IMAGE = "gcr.io/cloud-builders/docker:20.10.24";

/**
 * The step's script after Cloud Build's substitution pass, i.e. what bash really runs: `$$` becomes `$`
 * (https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values). A lone `$` before a name would
 * be substituted by Cloud Build (or refused as unknown), so the script must not have one.
 */
export function substituted(script: string): string {
  const lone = /\$[{A-Za-z_]/.exec(script.replace(/\$\$/g, ""));
  if (lone) throw new Error(`the build step script has an unescaped "${lone[0]}": Cloud Build would substitute it; write $$`);
  return script.replace(/\$\$/g, "$");
}

export function cloudBuildConfig(spec: CloudBuildSpec): Record<string, unknown> {
  const image = `${spec.imageRepo}:${spec.tag}`;
  const secret = spec.accessSecretVersion !== undefined;
  // The access is written to a file in the step's own /tmp (not /workspace, which is the build context) and handed
  // to BuildKit as a secret mount: it exists only while the fetcher runs. `$$` escapes Cloud Build substitution.
  // `npm run test:container` runs this very script with `docker` mapped to buildah (scripts/lib/image-build.sh says
  // what the mapping changes and why).
  const script = [
    "set -euo pipefail",
    "umask 077",
    ...(secret ? ["trap 'rm -f /tmp/models-access' EXIT", `printf '%s' "$$${ACCESS_ENV}" > /tmp/models-access`] : []),
    [
      "docker build --progress=plain",
      ...(secret ? ["--secret id=models-access,src=/tmp/models-access"] : []),
      ...(spec.dockerfile && spec.dockerfile !== "Dockerfile" ? [`--file ${spec.dockerfile}`] : []),
      ...Object.entries(spec.buildArgs).map(([k, v]) => `--build-arg ${k}=${v}`),
      `--tag ${image} .`,
    ].join(" "),
  ].join("\n");
  return {
    steps: [
      {
        id: "build",
        name: BUILDER_IMAGE,
        entrypoint: "bash",
        args: ["-c", script],
        env: ["DOCKER_BUILDKIT=1"],
        ...(secret ? { secretEnv: [ACCESS_ENV] } : {}),
      },
    ],
    images: [image],
    ...(secret ? { availableSecrets: { secretManager: [{ versionName: spec.accessSecretVersion, env: ACCESS_ENV }] } } : {}),
    options: {
      machineType: spec.machineType,
      diskSizeGb: spec.diskSizeGb,
      // A build that runs as its own service account must log to Cloud Logging only (no default logs bucket).
      logging: "CLOUD_LOGGING_ONLY",
    },
    timeout: `${spec.timeoutMinutes * 60}s`,
  };
}
