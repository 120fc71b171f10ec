/**
 * The typed configuration the stack composes its components from: what parse.ts returns, sliced per concern.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "../container/manifest";
import type { Prices } from "../components/budget/costModel";
import type { R2Jurisdiction } from "../components/models/r2";
import type { ModelServerConfig } from "../components/service/modelServer";
import type { Objectives } from "../components/observability/objectives";
import type { CompiledSchedule } from "../components/schedule/warmWindows";
import type { BudgetThreshold } from "../components/budget/budget";
import type { ImageBuildMode, ModelsFetch, ReferenceImage } from "../components/image/modelImage";
import type { ModelsAccess } from "../components/models/modelsAccess";

export interface ServiceConfig {
  readonly name: string;
  readonly project: string;
  readonly region: string;
  readonly cpu: number;
  /** Cloud Run memory limit, e.g. "32Gi". */
  readonly memory: string;
  readonly memoryGiB: number;
  readonly concurrency: number;
  readonly requestTimeoutSeconds: number;
  readonly maxInstances: number;
  readonly maxColdStartSeconds: number;
  readonly gpuZonalRedundancy: boolean;
  readonly invokers: readonly string[];
  readonly public: boolean;
  /** Origins (scheme://host[:port]) whose pages may call POST /warmup from a browser: the supervisor's WARMUP_ORIGINS. */
  readonly warmupOrigins: readonly string[];
  readonly deletionProtection: boolean;
  /** The model server the supervisor runs: its command, address, health path, warmup and environment. */
  readonly modelServer: ModelServerConfig;
}

export interface ImageConfig {
  readonly mode: ImageBuildMode;
  /** The repository's reference image the stack builds as the base (`warmstart:baseImage: ./images/...`); else undefined. */
  readonly baseReference: ReferenceImage | undefined;
  /** The image by digest the service runs instead of a built one: the only image with mode none, else a rollback pin. */
  readonly image: string | undefined;
  readonly baseImage: string;
  readonly manifestPath: string;
  readonly manifest: Manifest;
  /** Set when the weights exceed the L4's memory and the server must offload part of them: shown as a warning. */
  readonly offloadWarning: string | undefined;
  readonly retention: number;
  readonly buildMachineType: string;
  readonly buildTimeoutMinutes: number;
  /** Where and how the build reads the weights; undefined when the config names no source (a prebuilt image). */
  readonly models: ModelsFetch | undefined;
}

export interface WarmConfig {
  readonly windowsText: string;
  readonly schedule: CompiledSchedule;
  readonly warmMinInstances: number;
  readonly idleMinInstances: number;
  readonly leadMinutes: number;
}

export interface BudgetConfig {
  /** Undefined: no budget, alerts or guard. */
  readonly billingAccount: string | undefined;
  readonly monthlyBudget: number;
  readonly alertEmails: readonly string[];
  readonly thresholds: readonly BudgetThreshold[];
  readonly guard: boolean;
  readonly guardRatio: number;
  readonly guardMaxInstances: number;
  /** USD a day; 0: no daily spend limit. */
  readonly dailySpendLimit: number;
}

export interface CostConfig {
  readonly prices: Prices;
  readonly offWindowInstanceHoursPerDay: number;
  /** 0: the stack makes no request-log bucket. */
  readonly requestLogRetentionDays: number;
}

export interface ModelsBucketConfig {
  readonly accountId: string;
  readonly bucketName: string;
  readonly jurisdiction: R2Jurisdiction;
  readonly locationHint: string | undefined;
  /** `https://<account>[.<jurisdiction>].r2.cloudflarestorage.com`. */
  readonly s3Endpoint: string;
  readonly access: ModelsAccess;
  /** The custom domain and its zone; undefined with presigned access, which needs no public host. */
  readonly domain: { readonly host: string; readonly zoneId: string } | undefined;
  /** What the zone's WAF rule requires (`header` access only). */
  readonly gate: { readonly header: string; readonly key: pulumi.Output<string> } | undefined;
  /** Make a write token and sync the manifest's sources into the bucket during `pulumi up`. */
  readonly syncOnDeploy: boolean;
  /** For that sync: a Hugging Face token for gated or private sources. */
  readonly huggingFaceToken: pulumi.Output<string> | undefined;
}

export interface CiConfig {
  /** Undefined: no CI access resources. */
  readonly githubRepository: string | undefined;
  readonly stateBucket: string;
  readonly secretsKmsKey: string | undefined;
}

export interface StackConfig {
  /** What the config allows but a user should hear about (an example's made-up value still in place). */
  readonly warnings: readonly string[];
  /** Undefined: the weights host is not managed by this stack. */
  readonly modelsBucket: ModelsBucketConfig | undefined;
  /** Alert threshold for a cold start's total, seconds. */
  readonly coldStartAlertSeconds: number;
  /** Cold starts a day and request latency the service aims for (`warmstart:coldStartsPerDayObjective`, `latencyObjectiveSeconds`). */
  readonly objectives: Objectives;
  readonly ci: CiConfig;
  readonly service: ServiceConfig;
  readonly image: ImageConfig;
  readonly warm: WarmConfig;
  readonly budget: BudgetConfig;
  readonly cost: CostConfig;
}
