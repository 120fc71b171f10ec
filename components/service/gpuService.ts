import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { S3Access } from "../../container/presign";
import { ModelImage, type ModelImageSpec } from "../image/modelImage";
import { containerEnv, type ModelServerConfig } from "./modelServer";
import { invokerBindingNames, sharedOldNames } from "./invokerBindings";
import { startupProbeTiming } from "./startupProbe";

export interface GpuServiceArgs {
  /** The Google Cloud project (`gcp:project`): the service, its repository and the image build are made in it. */
  readonly project: string;
  /**
   * A region with L4 GPUs on Cloud Run (`gcp:region`); the image repository is made there too.
   * @example "us-central1"
   */
  readonly region: string;
  /** vCPUs per instance, 4, 6 or 8 (`warmstart:cpu`): Cloud Run wants at least 4 with a GPU. */
  readonly cpu: number;
  /**
   * Memory per instance, in Cloud Run's notation (`warmstart:memory`).
   * @example "32Gi"
   */
  readonly memory: string;
  /** Requests one instance serves at once (`warmstart:concurrency`). */
  readonly concurrency: number;
  /** Longest a request may run, in seconds (`warmstart:requestTimeoutSeconds`). */
  readonly requestTimeoutSeconds: number;
  /** Most instances (GPUs) at once (`warmstart:maxInstances`). */
  readonly maxInstances: number;
  /** How long the startup probe waits for the model to load and warm, in seconds (`warmstart:maxColdStartSeconds`). */
  readonly maxColdStartSeconds: number;
  /** Reserve GPU capacity in another zone for failover (`warmstart:gpuZonalRedundancy`). */
  readonly gpuZonalRedundancy: boolean;
  /**
   * IAM members that may invoke the service (`warmstart:invokers`); the warmup account always may.
   * @example ["serviceAccount:app@acme-prod.iam.gserviceaccount.com"]
   */
  readonly invokers: readonly string[];
  /** Let anyone on the internet invoke the service (`warmstart:public`): run.invoker for allUsers, warned. */
  readonly public: boolean;
  /**
   * Origins whose pages may POST /warmup from a browser (`warmstart:warmupOrigins`): the supervisor's WARMUP_ORIGINS.
   * @example ["https://app.example.com"]
   */
  readonly warmupOrigins: readonly string[];
  /** Refuse to delete the Cloud Run service (`warmstart:deletionProtection`). */
  readonly deletionProtection: boolean;
  /**
   * The model server the supervisor runs: its command, address, health path, warmup and environment
   * (`warmstart:modelServerCommand`, `modelServerUrl`, ...).
   */
  readonly modelServer: ModelServerConfig;
  /** What goes into the image and how it is made (`warmstart:imageBuild`, `baseImage`, `modelsManifest`, ...). */
  readonly image: ModelImageSpec;
  /** Images the repository keeps (`warmstart:imageRetention`); older ones are deleted. */
  readonly imageRetention: number;
  /**
   * Shown as a warning on the service: the weights outgrow the L4's memory and the server must offload part of them.
   * @default none
   */
  readonly offloadWarning?: string;
  /**
   * Service-level min instances the service is created with: what the warm schedule wants at deploy time. Later
   * deploys leave the field to the schedule and the reconcile step (DeployReconcile).
   * @example 1
   */
  readonly minInstanceCount: number;
  /** Project root (where Pulumi runs). */
  readonly rootDir: string;
  /**
   * What the image build must wait for, e.g. the models bucket, so it does not fetch before the domain is connected.
   * @default nothing
   */
  readonly imageBuildDependsOn?: readonly pulumi.Resource[];
  /**
   * With presigned models access: the bucket's read credentials for the build (ModelsBucket's `readAccess`, a secret).
   * @default none: presigned access then fails, every other access needs none
   */
  readonly modelsReadAccess?: pulumi.Output<S3Access>;
  /**
   * With syncModelsOnDeploy: the manifest the sync produced, which the build uses (JSON).
   * @default none: the build uses the manifest file
   */
  readonly syncedManifest?: pulumi.Output<string>;
  /** The service runs as it (StackIdentities). */
  readonly runtimeServiceAccount: gcp.serviceaccount.Account;
  /** Warmup calls come as it: it may invoke the service (StackIdentities). */
  readonly invokerServiceAccount: gcp.serviceaccount.Account;
  /** The image build runs as it (StackIdentities). */
  readonly imageBuildServiceAccount: gcp.serviceaccount.Account;
}

/** The port the warm-start supervisor listens on (Cloud Run sets PORT to it). */
export const CONTAINER_PORT = 8080;
export const HEALTH_PATH = "/healthz";

/**
 * A Cloud Run service on one NVIDIA L4, running the model image by digest, reachable only by the invokers named
 * in config, with a startup probe that passes only once the model is loaded and warm. The service is called `name`,
 * its image repository `<name>-images`.
 */
export class GpuService extends pulumi.ComponentResource {
  public readonly serviceName: pulumi.Output<string>;
  /** projects/P/locations/R/services/S: the Cloud Run Admin API's name for it. */
  public readonly resourceName: pulumi.Output<string>;
  public readonly location: pulumi.Output<string>;
  public readonly project: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  /** Runtime identity of the container; it holds no project-wide role. */
  public readonly runtimeServiceAccount: gcp.serviceaccount.Account;
  /** May only invoke this service; used by warmup calls. */
  public readonly invokerServiceAccount: gcp.serviceaccount.Account;
  /** projects/P/locations/R/repositories/ID of the image repository, which outlives the stack (retainOnDelete). */
  public readonly imageRepository: pulumi.Output<string>;
  public readonly imageRef: pulumi.Output<string>;
  public readonly imageDigest: pulumi.Output<string>;
  public readonly service: gcp.cloudrunv2.Service;

  constructor(name: string, args: GpuServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:service:GpuService", name, {}, opts);
    const parent = { parent: this };

    if (args.offloadWarning) void pulumi.log.warn(args.offloadWarning, this);
    if (args.public) void pulumi.log.warn(`warmstart:public is true: anyone on the internet can call ${name} and spend GPU time`, this);
    else if (args.invokers.length === 0) {
      void pulumi.log.warn(
        `no one can call ${name} but its warmups: set warmstart:invokers, e.g. pulumi config set --path 'warmstart:invokers[0]' serviceAccount:app@${args.project}.iam.gserviceaccount.com (docs/operations.md, "First request")`,
        this,
      );
    }

    this.runtimeServiceAccount = args.runtimeServiceAccount;
    this.invokerServiceAccount = args.invokerServiceAccount;

    // Kept whatever warmstart:imageBuild says, and kept in the cloud if the stack is deleted: it holds the images a
    // rollback deploys (docs/operations.md, "Roll back an image").
    const repository = new gcp.artifactregistry.Repository(
      `${name}-images`,
      {
        repositoryId: `${name}-images`,
        project: args.project,
        location: args.region,
        format: "DOCKER",
        description: "warmstart model images (weights baked in)",
        cleanupPolicyDryRun: false,
        // Images are ~30 GB each: keep the last few for rollback and delete the rest.
        cleanupPolicies: [
          { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: args.imageRetention } },
          { id: "delete-older", action: "DELETE", condition: { tagState: "ANY" } },
        ],
      },
      { ...parent, retainOnDelete: true },
    );
    this.imageRepository = pulumi.interpolate`projects/${args.project}/locations/${args.region}/repositories/${repository.repositoryId}`;
    const image = new ModelImage(
      `${name}-image`,
      {
        ...args.image,
        project: args.project,
        region: args.region,
        repository,
        buildServiceAccount: args.imageBuildServiceAccount,
        rootDir: args.rootDir,
        buildDependsOn: args.imageBuildDependsOn,
        modelsReadAccess: args.modelsReadAccess,
        syncedManifest: args.syncedManifest,
      },
      parent,
    );
    this.imageRef = image.imageRef;
    this.imageDigest = image.digest;

    // The runtime account reads the model server's secrets, each one alone.
    const secretGrants = Object.values(args.modelServer.secrets).map(
      (secret) =>
        new gcp.secretmanager.SecretIamMember(
          `${name}-runtime-reads-${secret}`,
          { project: args.project, secretId: secret, role: "roles/secretmanager.secretAccessor", member: pulumi.interpolate`serviceAccount:${this.runtimeServiceAccount.email}` },
          parent,
        ),
    );
    const probe = startupProbeTiming(args.maxColdStartSeconds);
    this.service = new gcp.cloudrunv2.Service(
      `${name}-service`,
      {
        name,
        project: args.project,
        location: args.region,
        ingress: "INGRESS_TRAFFIC_ALL",
        // The provider defaults this to true; it is explicit so the config key is the one place to change it.
        deletionProtection: args.deletionProtection,
        // Owned by the warm schedule. Declared in full: the API returns a zeroed block, and providers have shown a
        // perpetual diff on min_instance_count = 0 when it was left implicit (terraform-provider-google#25457).
        scaling: { minInstanceCount: args.minInstanceCount, scalingMode: "AUTOMATIC" },
        labels: { "managed-by": "warmstart" },
        template: {
          serviceAccount: this.runtimeServiceAccount.email,
          // The API default is 80 requests per instance, which would pile image jobs onto one GPU.
          maxInstanceRequestConcurrency: args.concurrency,
          timeout: `${args.requestTimeoutSeconds}s`,
          gpuZonalRedundancyDisabled: !args.gpuZonalRedundancy,
          nodeSelector: { accelerator: "nvidia-l4" },
          scaling: { minInstanceCount: 0, maxInstanceCount: args.maxInstances },
          containers: [
            {
              image: this.imageRef,
              ports: { containerPort: CONTAINER_PORT },
              // The model server's settings: on the service, so changing one is a new revision, not a new image.
              envs: containerEnv(args.modelServer, args.warmupOrigins).map((e) =>
                "value" in e ? { name: e.name, value: e.value } : { name: e.name, valueSource: { secretKeyRef: { secret: e.secret, version: "latest" } } },
              ),
              resources: {
                limits: { cpu: String(args.cpu), memory: args.memory, "nvidia.com/gpu": "1" },
                // GPU services require CPU always allocated.
                cpuIdle: false,
                startupCpuBoost: true,
              },
              startupProbe: { httpGet: { path: HEALTH_PATH, port: CONTAINER_PORT }, ...probe },
              livenessProbe: {
                httpGet: { path: HEALTH_PATH, port: CONTAINER_PORT },
                periodSeconds: 30,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
            },
          ],
        },
      },
      // Min instances belong to the warm schedule (and the budget guard) after the service exists; every deploy ends
      // with the reconcile step, which sets the level for that moment. Compared here, a deploy would write back the
      // level of when it started, and `pulumi up --refresh` would lift the guard's hold.
      // After the repository: a pinned or prebuilt image may live in it.
      { ...parent, dependsOn: [repository, ...secretGrants], ignoreChanges: ["scaling.minInstanceCount", "scaling.maxInstanceCount"] },
    );
    this.serviceName = this.service.name;
    this.resourceName = pulumi.interpolate`projects/${args.project}/locations/${args.region}/services/${this.service.name}`;
    this.location = this.service.location;
    this.project = this.service.project;
    this.url = this.service.uri;

    const invoke = (resourceName: string, member: pulumi.Input<string>, alias?: string) =>
      new gcp.cloudrunv2.ServiceIamMember(
        resourceName,
        { project: args.project, location: args.region, name: this.service.name, role: "roles/run.invoker", member },
        { ...parent, aliases: alias ? [{ name: alias }] : undefined },
      );
    invoke(`${name}-invoker-warmup`, pulumi.interpolate`serviceAccount:${this.invokerServiceAccount.email}`);
    const bindings = invokerBindingNames(name, args.invokers);
    for (const b of bindings) invoke(b.name, b.member, b.alias);
    for (const { oldName, members } of sharedOldNames(bindings)) {
      void pulumi.log.warn(
        `warmstart:invokers ${members.join(", ")} had one resource name (${oldName}) before; ${members[0]} takes over that binding. ` +
          `If this stack was deployed with ${members.slice(1).join(" or ")} instead, the preview replaces ${oldName} with a new member: list that member first, or its run.invoker grant is removed at the end of the update (pulumi up --refresh restores it)`,
        this,
      );
    }
    if (args.public) invoke(`${name}-invoker-public`, "allUsers");

    this.registerOutputs({
      serviceName: this.serviceName,
      resourceName: this.resourceName,
      url: this.url,
      imageRef: this.imageRef,
      runtimeServiceAccount: this.runtimeServiceAccount.email,
      invokerServiceAccount: this.invokerServiceAccount.email,
    });
  }
}
