import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { ModelsBucketConfig } from "./config";
import { gateExpression } from "./modelsGate";

export interface ModelsBucketArgs {
  /** Account, zone, bucket, host and gate (`warmstart:cloudflareAccountId`, `modelsDomain`, `modelsAccess`, ...). */
  readonly bucket: ModelsBucketConfig;
  /** The header and key the gate requires (the same values the image build sends). */
  readonly accessHeader: string;
  readonly accessKey: pulumi.Output<string> | undefined;
}

/** Abort multipart uploads left incomplete after this long (R2's lifecycle counts seconds, not days). */
export const ABORT_MULTIPART_AFTER_SECONDS = 3 * 24 * 3600;

/**
 * An R2 bucket for the weights on a custom domain, private by default: a zone WAF rule blocks every request to the
 * models host without the access header, and exists before the domain is connected (connecting it makes the bucket
 * public at that host at once). The r2.dev domain is declared off, and the lifecycle declares the multipart abort
 * rule itself, because an R2BucketLifecycle replaces the bucket's whole rule set.
 */
export class ModelsBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** `https://<domain>`, what the build fetches from. */
  public readonly baseUrl: string;
  /** The S3 API endpoint for uploads (models sync). */
  public readonly s3Endpoint: string;

  constructor(name: string, args: ModelsBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:models:ModelsBucket", name, {}, opts);
    const parent = { parent: this };
    const b = args.bucket;
    // Every sub-resource names the bucket and its jurisdiction the same way (pulumi-cloudflare#1174).
    const where = { accountId: b.accountId, jurisdiction: "default" };

    const bucket = new cloudflare.R2Bucket(`${name}-models`, { ...where, name: b.bucketName, location: b.locationHint }, parent);
    new cloudflare.R2ManagedDomain(`${name}-models-r2dev`, { ...where, bucketName: bucket.name, enabled: false }, parent);
    new cloudflare.R2BucketLifecycle(
      `${name}-models-lifecycle`,
      {
        ...where,
        bucketName: bucket.name,
        rules: [
          {
            id: "abort-incomplete-multipart-uploads",
            enabled: true,
            conditions: { prefix: "" },
            abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: ABORT_MULTIPART_AFTER_SECONDS } },
          },
        ],
      },
      parent,
    );

    const dependsOn: pulumi.Resource[] = [];
    if (b.access === "header") {
      // A zone has one entry-point ruleset per phase: this stack owns every custom WAF rule of the zone.
      const gate = new cloudflare.Ruleset(
        `${name}-models-gate`,
        {
          zoneId: b.zoneId,
          kind: "zone",
          phase: "http_request_firewall_custom",
          name: "warmstart models gate",
          description: `Blocks requests to ${b.domain} without the models access header (managed by warmstart)`,
          rules: [
            {
              action: "block",
              description: `warmstart: ${b.domain} needs ${args.accessHeader}`,
              enabled: true,
              expression: pulumi.secret(args.accessKey!.apply((key) => gateExpression(b.domain, args.accessHeader, key))),
            },
          ],
        },
        parent,
      );
      dependsOn.push(gate);
    } else {
      void pulumi.log.warn(`warmstart:modelsAccess is "public": anyone who knows https://${b.domain}/<path> can download the weights`, this);
    }
    new cloudflare.R2CustomDomain(
      `${name}-models-domain`,
      { ...where, bucketName: bucket.name, domain: b.domain, zoneId: b.zoneId, enabled: true, minTls: "1.2" },
      { ...parent, dependsOn },
    );

    this.bucketName = bucket.name;
    this.baseUrl = `https://${b.domain}`;
    this.s3Endpoint = `https://${b.accountId}.r2.cloudflarestorage.com`;
    this.registerOutputs({ bucketName: this.bucketName, baseUrl: this.baseUrl, s3Endpoint: this.s3Endpoint });
  }
}
