/**
 * The Cloud Build configuration for the model image. Pure: the ModelImage component writes it to JSON and
 * `scripts/submit-build.sh` submits it with `gcloud builds submit`.
 */
import type { ModelsAccess } from "./config";

const GIB = 1024 ** 3;

/**
 * Disk for the build VM: the weights are downloaded once, copied into a layer, and the layer is compressed for
 * the push, so 2.5× the weights plus room for the base image and Docker's own files.
 */
export function buildDiskSizeGb(weightBytes: number): number {
  const headroomGb = 50;
  return Math.min(4000, Math.max(100, Math.ceil((weightBytes * 2.5) / GIB) + headroomGb));
}

export interface CloudBuildSpec {
  /** `REGION-docker.pkg.dev/PROJECT/REPO/IMAGE`, without tag. */
  readonly imageRepo: string;
  /** Tag pushed with the image; the service uses the digest, the tag is for people. */
  readonly tag: string;
  readonly baseImage: string;
  /** How the fetcher reads the weights; the Dockerfile's MODELS_ACCESS. */
  readonly modelsAccess: ModelsAccess;
  /** `https://<modelsDomain>`; unused with presigned access. */
  readonly modelsBaseUrl: string | undefined;
  /**
   * Secret Manager version holding what the fetcher needs to read the weights (the header line, or the presigned
   * access JSON), `projects/P/secrets/S/versions/latest`; undefined with public access.
   */
  readonly accessSecretVersion: string | undefined;
  readonly machineType: string;
  readonly diskSizeGb: number;
  readonly timeoutMinutes: number;
}

/** Environment name the models access has inside the build step; never a build arg, never in a layer. */
export const ACCESS_ENV = "WARMSTART_MODELS_ACCESS";

export function cloudBuildConfig(spec: CloudBuildSpec): Record<string, unknown> {
  const image = `${spec.imageRepo}:${spec.tag}`;
  const secret = spec.accessSecretVersion !== undefined;
  // The access is written to a file in the step's own /tmp (not /workspace, which is the build context) and handed
  // to BuildKit as a secret mount: it exists only while the fetcher runs. `$$` escapes Cloud Build substitution.
  const script = [
    "set -euo pipefail",
    "umask 077",
    ...(secret ? [`printf '%s' "$$${ACCESS_ENV}" > /tmp/models-access`] : []),
    [
      "docker build --progress=plain",
      ...(secret ? ["--secret id=models-access,src=/tmp/models-access"] : []),
      `--build-arg BASE_IMAGE=${spec.baseImage}`,
      `--build-arg MODELS_ACCESS=${spec.modelsAccess}`,
      ...(spec.modelsBaseUrl ? [`--build-arg MODELS_BASE_URL=${spec.modelsBaseUrl}`] : []),
      `--tag ${image} --load .`,
    ].join(" "),
    ...(secret ? ["rm -f /tmp/models-access"] : []),
  ].join("\n");
  return {
    steps: [
      {
        id: "build",
        name: "gcr.io/cloud-builders/docker",
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
