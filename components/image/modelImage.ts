import { createHash } from "node:crypto";
import * as path from "node:path";
import * as command from "@pulumi/command";
import * as dockerBuild from "@pulumi/docker-build";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { manifestBytes, parseManifest, unsyncedFiles } from "../../container/manifest";
import type { S3Access } from "../../container/presign";
import { artifactRegistryRepository, buildDiskSizeGb, cloudBuildConfig, modelImageBuildArgs } from "./cloudBuild";
import type { Manifest } from "../../container/manifest";
import { containerBundles } from "./containerBundle";
import { folderContentHash, imageContentHash } from "./contentHash";
import { accountId } from "../names";

/** How the image is made (`warmstart:imageBuild`): Cloud Build, Docker on this machine, or not at all. */
export type ImageBuildMode = "cloudbuild" | "local" | "none";

/**
 * One of this repository's reference images to build: its folder (the build context), the Dockerfile in it, and the
 * image's name.
 */
export interface ReferenceImage {
  /** Relative to the project root, e.g. `images/pyserver`. */
  readonly folder: string;
  /** File name inside the folder, e.g. `Dockerfile.cuda`. */
  readonly dockerfile: string;
  /** The image's name in the stack's repository, e.g. `base-pyserver-cuda`. */
  readonly imageName: string;
}

/**
 * Where the image build reads the weights, by `warmstart:modelsAccess`. With `presigned` the read credential is not
 * config: the stack's ModelsBucket makes it, and the build receives it from there.
 */
export type ModelsFetch =
  /** `https://<modelsDomain>`, sending `header: key` through the zone's WAF gate. */
  | { readonly access: "header"; readonly baseUrl: string; readonly header: string; readonly key: pulumi.Output<string> }
  | { readonly access: "public"; readonly baseUrl: string }
  /** The bucket through its S3 endpoint, by presigned GETs. */
  | { readonly access: "presigned"; readonly s3Endpoint: string; readonly bucket: string };

/** What goes into the model image and how it is made: the part of ModelImage's args that config decides. */
export interface ModelImageSpec {
  /** How the image is made (`warmstart:imageBuild`): Cloud Build, Docker on this machine, or not here at all. */
  readonly mode: ImageBuildMode;
  /**
   * The model server image the weights are added to (`warmstart:baseImage`): an image reference, or
   * `./images/<name>` for one of the repository's reference images (then `baseReference` says what to build).
   * @example "docker.io/example/comfyui:1"
   */
  readonly baseImage: string;
  /**
   * One of this repository's reference images (`warmstart:baseImage: ./images/<name>`), built first into the stack's
   * repository; the model image is built FROM it.
   * @default none: `baseImage` is pulled as it is
   */
  readonly baseReference?: ReferenceImage;
  /**
   * An image by digest the service runs instead of a built one (`warmstart:image`): the only image with mode `none`,
   * else a rollback pin (the build is kept and not re-run).
   * @default the image built here
   * @example "us-central1-docker.pkg.dev/acme-prod/imagegen-images/model-server@sha256:<64 hex digits>"
   */
  readonly pinned?: string;
  /**
   * The models manifest's path, relative to the project root (`warmstart:modelsManifest`).
   * @example "container/models.json"
   */
  readonly manifestPath: string;
  /** The manifest's entries, as read when the program started. */
  readonly manifest: Manifest;
  /**
   * Cloud Build's machine for the build (`warmstart:buildMachineType`).
   * @example "E2_HIGHCPU_32"
   */
  readonly buildMachineType: string;
  /** Longest the build may run, in minutes (`warmstart:buildTimeoutMinutes`). */
  readonly buildTimeoutMinutes: number;
  /**
   * Where and how the build reads the weights (`warmstart:modelsAccess`, `modelsDomain`, ...).
   * @default none: nothing is fetched (a prebuilt image, mode `none`)
   */
  readonly models?: ModelsFetch;
}

export interface ModelImageArgs extends ModelImageSpec {
  /** The Google Cloud project (`gcp:project`): the build runs in it. */
  readonly project: string;
  /** Where Cloud Build runs and the staging bucket lives: the service's region (`gcp:region`). */
  readonly region: string;
  /** The Docker repository builds push to (kept whatever the build mode; GpuService makes it). */
  readonly repository: gcp.artifactregistry.Repository;
  /** The image build runs as it (StackIdentities). */
  readonly buildServiceAccount: gcp.serviceaccount.Account;
  /** Project root (where Pulumi runs); the build context is `container/` under it. */
  readonly rootDir: string;
  /**
   * Resources the build must wait for (e.g. the bucket it fetches weights from).
   * @default nothing: the build starts as soon as its own resources exist
   */
  readonly buildDependsOn?: readonly pulumi.Resource[];
  /**
   * With presigned access: the bucket's read credentials, made by the ModelsBucket component (a secret).
   * @default none: presigned access then fails, every other access needs none
   */
  readonly modelsReadAccess?: pulumi.Output<S3Access>;
  /**
   * With syncModelsOnDeploy: the manifest as the sync in this `pulumi up` left it (JSON). The build uses it instead
   * of the file, and rebuilds when it changes.
   * @default none: the build uses the manifest file, which must already record every file's size and sha256
   */
  readonly syncedManifest?: pulumi.Output<string>;
}

/**
 * The build context, relative to the project root where Pulumi runs commands. Relative on purpose: an absolute path
 * would differ between a laptop and CI and make every `pulumi up` on the other machine rebuild the image.
 */
const CONTEXT_DIR = "container";

/** Bundles the fetcher and supervisor into container/dist/, which the Dockerfile copies. */
const BUNDLE_COMMAND = "npm run --silent build:container";

/** The image name inside the repository. */
const IMAGE_NAME = "model-server";

/** What a remote build needs besides its config: where its source is staged, the models access, and the grants. */
interface BuildInfrastructure {
  readonly staging: gcp.storage.Bucket;
  readonly secret: gcp.secretmanager.Secret | undefined;
  readonly secretVersion: gcp.secretmanager.SecretVersion | undefined;
  readonly grants: pulumi.Resource[];
}

/**
 * The container image with the weights baked in, referenced by digest.
 *
 * - `cloudbuild`: `gcloud builds submit` on `container/` (the image is ~30 GB: too big for a laptop or a GitHub
 *   runner). The models access (the header line, or the bucket's read credential for presigning) lives in Secret
 *   Manager and reaches the build step as a secret env var, then BuildKit as a secret mount; it is never a build
 *   arg and never in a layer.
 * - `local`: docker-build on this machine, for small images and development. (@pulumi/docker v4 cannot pass build
 *   secrets; @pulumi/docker-build can, which is why it is used.)
 * - `none`: no build.
 * `warmstart:image` (by digest) is what the service deploys when set: the only image with `none`, a rollback pin with
 * a build (the build stays as it is and does not run again).
 *
 * What a build needs (the staging bucket, the models access secret, the build account's grants) is kept whenever the
 * stack has a weights source, whatever the build mode: switching to a prebuilt image and back deletes nothing.
 * The build re-runs only when {@link contentHash} changes: the files of `container/`, the manifest, the base image.
 */
export class ModelImage extends pulumi.ComponentResource {
  /** `REGISTRY/REPO/IMAGE@sha256:...`: what the service deploys. */
  public readonly imageRef: pulumi.Output<string>;
  public readonly digest: pulumi.Output<string>;
  /** Content hash of the image's inputs; undefined when nothing is built here. */
  public readonly contentHash: string | undefined;

  constructor(name: string, args: ModelImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:image:ModelImage", name, {}, opts);
    const repository = args.repository;
    const repoUrl = pulumi.interpolate`${repository.location}-docker.pkg.dev/${repository.project}/${repository.repositoryId}/${IMAGE_NAME}`;
    const models = args.models;
    const access = models && modelsAccessSecret(models, args.modelsReadAccess);
    const infra = models ? this.buildInfrastructure(name, args, access) : undefined;

    let built: pulumi.Output<string> | undefined;
    this.contentHash = undefined;
    if (args.mode !== "none") {
      // Config validation guarantees the models source whenever the image is built here.
      const build = this.build(name, args, models!, access, infra!, repoUrl);
      built = build.digest;
      this.contentHash = build.contentHash;
    }
    if (args.pinned) {
      // Config validation guarantees a digest reference here.
      this.imageRef = pulumi.output(args.pinned);
      this.digest = pulumi.output(args.pinned.split("@")[1]);
    } else {
      this.digest = built!;
      this.imageRef = pulumi.interpolate`${repoUrl}@${this.digest}`;
    }
    this.registerOutputs({ imageRef: this.imageRef, digest: this.digest, contentHash: this.contentHash });
  }

  private buildInfrastructure(name: string, args: ModelImageArgs, access: pulumi.Output<string> | undefined): BuildInfrastructure {
    const parent = { parent: this };
    const repository = args.repository;
    const secret = access
      ? new gcp.secretmanager.Secret(`${name}-models-access`, { secretId: `${name}-models-access`, project: args.project, replication: { auto: {} } }, parent)
      : undefined;
    const secretVersion = secret && new gcp.secretmanager.SecretVersion(`${name}-models-access`, { secret: secret.id, secretData: access! }, parent);

    // The build runs as its own account: it may push to this repository, read this one secret (if any), read its
    // source and pull its base image; its log writing is granted with the account (StackIdentities).
    const builderMember = pulumi.interpolate`serviceAccount:${args.buildServiceAccount.email}`;
    const grants: pulumi.Resource[] = [
      new gcp.artifactregistry.RepositoryIamMember(
        `${name}-builder-push`,
        { project: repository.project, location: repository.location, repository: repository.name, role: "roles/artifactregistry.writer", member: builderMember },
        parent,
      ),
    ];
    const staging = new gcp.storage.Bucket(
      `${name}-build-source`,
      {
        name: `${args.project}-${name}-src`.slice(0, 63),
        project: args.project,
        location: args.region,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        forceDestroy: true,
        // Uploaded build contexts are only needed while the build runs.
        lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 7 } }],
      },
      parent,
    );
    grants.push(new gcp.storage.BucketIAMMember(`${name}-builder-source`, { bucket: staging.name, role: "roles/storage.objectViewer", member: builderMember }, parent));
    // A user-specified build account has no read on other repositories, so FROM a private base image would fail
    // with 403 (https://cloud.google.com/artifact-registry/docs/integrate-functions: grant the Reader role to pull).
    const base = artifactRegistryRepository(args.baseImage);
    if (base && base.project === args.project) {
      grants.push(
        new gcp.artifactregistry.RepositoryIamMember(
          `${name}-builder-base`,
          { project: base.project, location: base.location, repository: base.repository, role: "roles/artifactregistry.reader", member: builderMember },
          parent,
        ),
      );
    } else if (base) {
      void pulumi.log.warn(
        `warmstart:baseImage is in project ${base.project}, not ${args.project}: the image build's account needs read there. Grant it once: gcloud artifacts repositories add-iam-policy-binding ${base.repository} --project=${base.project} --location=${base.location} --role=roles/artifactregistry.reader --member=serviceAccount:${accountId(name, "build")}@${args.project}.iam.gserviceaccount.com`,
        this,
      );
    }
    if (secret) {
      grants.push(new gcp.secretmanager.SecretIamMember(`${name}-builder-secret`, { secretId: secret.id, role: "roles/secretmanager.secretAccessor", member: builderMember }, parent));
    }
    return { staging, secret, secretVersion, grants };
  }

  /** Builds the image (Cloud Build, or Docker on this machine) and returns the pushed digest. */
  private build(
    name: string,
    args: ModelImageArgs,
    models: ModelsFetch,
    access: pulumi.Output<string> | undefined,
    infra: BuildInfrastructure,
    repoUrl: pulumi.Output<string>,
  ): { digest: pulumi.Output<string>; contentHash: string } {
    const parent = { parent: this };
    const synced = args.syncedManifest;
    // A sync in this `pulumi up` fills in every entry that has a source; the others must be complete already.
    const unsynced = unsyncedFiles(args.manifest).filter((f) => !(synced && f.source));
    if (unsynced.length > 0) {
      const names = unsynced.map((f) => f.path).join(", ");
      const advice = `run \`npm run models:sync -- --manifest ${args.manifestPath}\`, which uploads them and records size and sha256 (or, with the stack's own bucket, let pulumi up do it: warmstart:syncModelsOnDeploy)`;
      // A preview may show the plan; an update would start a 30 GB build that the fetcher refuses, so stop first.
      if (!pulumi.runtime.isDryRun()) throw new Error(`${args.manifestPath}: ${unsynced.length} file(s) have no size/sha256 yet (${names}); ${advice}`);
      void pulumi.log.warn(`${args.manifestPath}: ${unsynced.length} file(s) have no size/sha256 yet (${names}); the image build will refuse them: ${advice}.`, this);
    }

    // A reference base image built here is named by its folder's hash: the model image rebuilds when it changes.
    const base = args.baseReference ? this.referenceBaseImage(name, args.baseReference, args, infra, repoUrl) : undefined;
    const contentHash = imageContentHash({
      contextDir: path.join(args.rootDir, CONTEXT_DIR),
      manifestPath: path.resolve(args.rootDir, args.manifestPath),
      manifestFromSync: synced !== undefined,
      baseImage: base ? `${args.baseReference!.folder}/${args.baseReference!.dockerfile}@${base.folderHash}` : args.baseImage,
      // The bundles themselves, not their sources or the lock file: only a change that reaches the image rebuilds
      // it. Where the weights are fetched from, and with what credential, is left out on purpose: the manifest's
      // sha256s pin their bytes, so moving the bucket, changing the access mode or rotating a key must not rebuild.
      bundles: containerBundles(args.rootDir),
    });
    // What re-runs the build: the content hash, and with a sync the synced manifest (sizes and sha256 included).
    const buildHash: pulumi.Output<string> = synced
      ? synced.apply((m) => `sha256:${createHash("sha256").update(`${contentHash}\0${m}`).digest("hex")}`)
      : pulumi.output(contentHash);
    const tag = buildHash.apply((h) => h.slice("sha256:".length, "sha256:".length + 16));
    const weightBytes = synced ? synced.apply((m) => manifestBytes(parseManifest(m, "synced manifest"))) : pulumi.output(manifestBytes(args.manifest));
    const baseUrl = models.access === "presigned" ? undefined : models.baseUrl;

    if (args.mode === "local") {
      // docker-build reads the context as it is, so dist/ is bundled first.
      const bundle = new command.local.Command(`${name}-bundle`, { create: BUNDLE_COMMAND, triggers: [buildHash] }, parent);
      const image = new dockerBuild.Image(
        `${name}-local`,
        {
          context: { location: CONTEXT_DIR },
          dockerfile: { location: `${CONTEXT_DIR}/Dockerfile` },
          buildArgs: {
            BASE_IMAGE: args.baseImage,
            MODELS_ACCESS: models.access,
            ...(baseUrl ? { MODELS_BASE_URL: baseUrl } : {}),
            MANIFEST: path.relative(CONTEXT_DIR, args.manifestPath).split(path.sep).join("/"),
          },
          secrets: access ? { "models-access": access } : {},
          platforms: ["linux/amd64"],
          tags: [pulumi.interpolate`${repoUrl}:${tag}`],
          push: true,
          // Rebuild only when what goes into the image changed, not on every `pulumi up`.
          buildOnPreview: false,
        },
        { ...parent, dependsOn: [bundle, ...(args.buildDependsOn ?? [])] },
      );
      return { digest: image.digest, contentHash };
    }

    const baseImage = base ? base.ref : pulumi.output(args.baseImage);
    const buildConfig = pulumi.all([repoUrl, infra.secret?.id, tag, weightBytes, baseImage]).apply(([imageRepo, secretId, tag, weightBytes, baseImage]) =>
      JSON.stringify(
        cloudBuildConfig({
          imageRepo,
          tag,
          buildArgs: modelImageBuildArgs(baseImage, models.access, baseUrl),
          // `latest`, not the version number: rotating the key must not rebuild a 30 GB image.
          accessSecretVersion: secretId === undefined ? undefined : `${secretId}/versions/latest`,
          machineType: args.buildMachineType,
          diskSizeGb: buildDiskSizeGb(weightBytes),
          timeoutMinutes: args.buildTimeoutMinutes,
        }),
      ),
    );
    const build = new command.local.Command(
      `${name}-cloudbuild`,
      {
        create: `${BUNDLE_COMMAND} 1>&2 && bash scripts/submit-build.sh`,
        environment: {
          BUILD_CONFIG: buildConfig,
          CONTEXT_DIR,
          MANIFEST: args.manifestPath,
          // With a sync: exactly what was synced, whatever the checkout's file holds.
          ...(synced ? { MANIFEST_JSON: synced } : {}),
          PROJECT: args.project,
          REGION: args.region,
          BUILD_SERVICE_ACCOUNT: args.buildServiceAccount.email,
          SOURCE_STAGING_DIR: pulumi.interpolate`gs://${infra.staging.name}/source`,
        },
        triggers: [buildHash],
      },
      { ...parent, dependsOn: [...(infra.secretVersion ? [infra.secretVersion] : []), ...infra.grants, ...(args.buildDependsOn ?? []), ...(base ? [base.build] : [])] },
    );
    return { digest: build.stdout.apply((s) => s.trim()), contentHash };
  }

  /**
   * One of this repository's reference base images (`images/<name>/`), built by Cloud Build into the stack's
   * repository as `base-<name>`, re-run only when its folder changes; the model image is then built FROM it.
   */
  private referenceBaseImage(
    name: string,
    reference: ReferenceImage,
    args: ModelImageArgs,
    infra: BuildInfrastructure,
    modelRepoUrl: pulumi.Output<string>,
  ): { ref: pulumi.Output<string>; folderHash: string; build: command.local.Command } {
    const { folder, dockerfile, imageName } = reference;
    const folderHash = folderContentHash(path.join(args.rootDir, folder));
    const repoUrl = modelRepoUrl.apply((u) => `${u.slice(0, u.lastIndexOf("/"))}/${imageName}`);
    const tag = folderHash.slice("sha256:".length, "sha256:".length + 16);
    const config = repoUrl.apply((imageRepo) =>
      JSON.stringify(
        cloudBuildConfig({
          imageRepo,
          tag,
          buildArgs: {},
          dockerfile,
          accessSecretVersion: undefined,
          machineType: args.buildMachineType,
          // A CUDA runtime with PyTorch is some 20 GB unpacked; Cloud Build's default disk is 100 GB.
          diskSizeGb: 200,
          timeoutMinutes: args.buildTimeoutMinutes,
        }),
      ),
    );
    const build = new command.local.Command(
      `${name}-base-cloudbuild`,
      {
        create: "bash scripts/submit-build.sh",
        environment: {
          BUILD_CONFIG: config,
          CONTEXT_DIR: folder,
          PROJECT: args.project,
          REGION: args.region,
          BUILD_SERVICE_ACCOUNT: args.buildServiceAccount.email,
          SOURCE_STAGING_DIR: pulumi.interpolate`gs://${infra.staging.name}/source`,
        },
        triggers: [folderHash],
      },
      { parent: this, dependsOn: [...infra.grants, ...(args.buildDependsOn ?? [])] },
    );
    return { ref: pulumi.interpolate`${repoUrl}@${build.stdout.apply((s) => s.trim())}`, folderHash, build };
  }
}

/** The secret file the fetcher reads in the build: the header line, or the presigned access JSON; none if public. */
function modelsAccessSecret(models: ModelsFetch, readAccess: pulumi.Output<S3Access> | undefined): pulumi.Output<string> | undefined {
  switch (models.access) {
    case "header":
      return pulumi.secret(pulumi.interpolate`${models.header}: ${models.key}`);
    case "public":
      return undefined;
    case "presigned":
      if (!readAccess) throw new Error("presigned models access needs the ModelsBucket's read access (warmstart:cloudflareAccountId)");
      return pulumi.secret(readAccess.apply((a) => JSON.stringify(a)));
  }
}
