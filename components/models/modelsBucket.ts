import { createHash } from "node:crypto";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { S3Access } from "../../container/presign";
import type { ModelsBucketConfig } from "../../config/types";
import { foreignCustomRulesEntryPoint, GATE_RULESET_NAME, gateExpression } from "./modelsGate";
import { r2BucketResource } from "./r2";

export interface ModelsBucketArgs {
  /** Account, bucket, access mode, and the domain and gate when the bucket has a public host (`warmstart:modelsAccess`). */
  readonly bucket: ModelsBucketConfig;
}

/** Abort multipart uploads left incomplete after this long (R2's lifecycle counts seconds, not days). */
export const ABORT_MULTIPART_AFTER_SECONDS = 3 * 24 * 3600;

/** The Cloudflare permission groups that read, and write, objects of the buckets a token names. */
export const R2_READ_PERMISSION = "Workers R2 Storage Bucket Item Read";
export const R2_WRITE_PERMISSION = "Workers R2 Storage Bucket Item Write";

/**
 * An R2 bucket for the weights, private by default, in one of three shapes (`warmstart:modelsAccess`):
 * - `header`: on a custom domain behind a zone WAF rule that blocks every request to the models host without the
 *   access header. The rule exists before the domain is connected (connecting it makes the bucket public at that
 *   host at once).
 * - `presigned`: no public host at all; an account token that may only read this bucket, from which the build
 *   presigns its GETs. An account token, not a user token: it does not die when the user who ran `pulumi up` leaves.
 * - `public`: on the custom domain, open (warned).
 * The r2.dev domain is declared off, and the lifecycle declares the multipart abort rule itself, because an
 * R2BucketLifecycle replaces the bucket's whole rule set.
 */
export class ModelsBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** `https://<domain>`, what the build fetches from; undefined with presigned access. */
  public readonly baseUrl: string | undefined;
  /** The S3 API endpoint for uploads (models sync) and presigned reads. */
  public readonly s3Endpoint: string;
  /**
   * With presigned access: `{endpoint, bucket, accessKeyId, secretAccessKey}` as JSON, a secret, for the build's
   * fetcher (`--s3-access`). R2's S3 key id is the token's id and its secret the sha256 of the token's value.
   */
  public readonly readAccess: pulumi.Output<string> | undefined;
  /** With syncModelsOnDeploy: S3 credentials that may read and write this bucket's objects (a secret). */
  public readonly writeAccess: pulumi.Output<S3Access> | undefined;

  constructor(name: string, args: ModelsBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:models:ModelsBucket", name, {}, opts);
    const parent = { parent: this };
    const b = args.bucket;
    // Every sub-resource names the bucket and its jurisdiction the same way (pulumi-cloudflare#1174).
    const where = { accountId: b.accountId, jurisdiction: b.jurisdiction };

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

    this.bucketName = bucket.name;
    this.s3Endpoint = b.s3Endpoint;
    this.baseUrl = b.domain ? `https://${b.domain.host}` : undefined;
    this.readAccess =
      b.access === "presigned" ? this.bucketToken(name, "read", "read (image build)", [R2_READ_PERMISSION], b, bucket).apply((a) => JSON.stringify(a)) : undefined;
    this.writeAccess = b.syncOnDeploy ? this.bucketToken(name, "write", "write (models sync)", [R2_READ_PERMISSION, R2_WRITE_PERMISSION], b, bucket) : undefined;
    if (b.domain) this.customDomain(name, b, b.domain, bucket);
    this.registerOutputs({ bucketName: this.bucketName, baseUrl: this.baseUrl, s3Endpoint: this.s3Endpoint });
  }

  /** The custom domain, behind the WAF gate unless access is public. */
  private customDomain(name: string, b: ModelsBucketConfig, domain: NonNullable<ModelsBucketConfig["domain"]>, bucket: cloudflare.R2Bucket): void {
    const parent = { parent: this };
    const dependsOn: pulumi.Resource[] = [];
    if (b.gate) {
      const gate = b.gate;
      // A zone has one entry-point ruleset per phase: this stack owns every custom WAF rule of the zone. Refuse,
      // already in preview, to take over an entry point that holds someone else's rules.
      const description = cloudflare.getRulesetsOutput({ zoneId: domain.zoneId }, parent).results.apply((results) => {
        const foreign = foreignCustomRulesEntryPoint(results ?? []);
        if (foreign) {
          throw new Error(
            `zone ${domain.zoneId} already has custom WAF rules (ruleset "${foreign.name}", id ${foreign.id}); the models gate would replace all of them. ` +
              'Move those rules out of the zone\'s custom rules (or into this stack), or set warmstart:modelsAccess to "presigned", which needs no WAF rule.',
          );
        }
        return `Blocks requests to ${domain.host} without the models access header (managed by warmstart)`;
      });
      const ruleset = new cloudflare.Ruleset(
        `${name}-models-gate`,
        {
          zoneId: domain.zoneId,
          kind: "zone",
          phase: "http_request_firewall_custom",
          name: GATE_RULESET_NAME,
          description,
          rules: [
            {
              action: "block",
              description: `warmstart: ${domain.host} needs ${gate.header}`,
              enabled: true,
              expression: pulumi.secret(gate.key.apply((key) => gateExpression(domain.host, gate.header, key))),
            },
          ],
        },
        parent,
      );
      dependsOn.push(ruleset);
    } else {
      void pulumi.log.warn(`warmstart:modelsAccess is "public": anyone who knows https://${domain.host}/<path> can download the weights`, this);
    }
    new cloudflare.R2CustomDomain(
      `${name}-models-domain`,
      { accountId: b.accountId, jurisdiction: b.jurisdiction, bucketName: bucket.name, domain: domain.host, zoneId: domain.zoneId, enabled: true, minTls: "1.2" },
      { ...parent, dependsOn },
    );
  }

  /**
   * An account token limited to this bucket's objects and the given permission groups, as S3 credentials: R2's key
   * id is the token's id and its secret the sha256 of the token's value. Groups are looked up by name because their
   * ids are Cloudflare's, not ours.
   */
  private bucketToken(
    name: string,
    suffix: string,
    purpose: string,
    permissions: readonly string[],
    b: ModelsBucketConfig,
    bucket: cloudflare.R2Bucket,
  ): pulumi.Output<S3Access> {
    const parent = { parent: this };
    const groupIds = permissions.map((permission) =>
      // The plain name: the provider URL-encodes the query itself, and an encoded name, encoded again, matches nothing
      // (its own acceptance tests pass name = "DNS Read"; cloudflare/terraform-provider-cloudflare).
      cloudflare.getAccountApiTokenPermissionGroupsListOutput({ accountId: b.accountId, name: permission }, parent).results.apply((results) => {
        const group = (results ?? []).find((g) => g.name === permission);
        if (!group) throw new Error(`Cloudflare lists no permission group "${permission}" for account ${b.accountId}; is R2 enabled on it?`);
        return group.id;
      }),
    );
    const token = new cloudflare.AccountToken(
      `${name}-models-${suffix}`,
      {
        accountId: b.accountId,
        name: `warmstart ${b.bucketName} ${purpose}`,
        policies: [
          {
            effect: "allow",
            permissionGroups: groupIds.map((id) => ({ id })),
            // pulumi-cloudflare 6.x takes the resources map as a JSON string.
            resources: bucket.name.apply((bucketName) => JSON.stringify({ [r2BucketResource(b.accountId, b.jurisdiction, bucketName)]: "*" })),
          },
        ],
      },
      { ...parent, additionalSecretOutputs: ["value"] },
    );
    return pulumi.secret(
      pulumi.all([token.id, token.value, bucket.name]).apply(([id, value, bucketName]) => ({
        endpoint: b.s3Endpoint,
        bucket: bucketName,
        accessKeyId: id,
        secretAccessKey: createHash("sha256").update(value).digest("hex"),
      })),
    );
  }
}
