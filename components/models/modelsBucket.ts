import { createHash } from "node:crypto";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { S3Access } from "../../container/presign";
import { foreignCustomRulesEntryPoint, GATE_RULESET_NAME, gateExpression } from "./modelsGate";
import type { ModelsAccess } from "./modelsAccess";
import { r2BucketResource, r2S3Endpoint, type R2Jurisdiction } from "./r2";

export interface ModelsBucketArgs {
  /**
   * The Cloudflare account the bucket and its tokens belong to (`warmstart:cloudflareAccountId`).
   * @example "0123456789abcdef0123456789abcdef"
   */
  readonly accountId: string;
  /** The bucket's name (`warmstart:modelsBucket`; the config's default is `<serviceName>-models`). */
  readonly bucketName: string;
  /** Where R2 keeps the bucket's data (`warmstart:modelsJurisdiction`); fixed once the bucket exists. */
  readonly jurisdiction: R2Jurisdiction;
  /**
   * R2's location hint for a new bucket (`warmstart:modelsLocationHint`).
   * @default Cloudflare chooses
   * @example "enam"
   */
  readonly locationHint?: string;
  /**
   * How the image build reads the weights (`warmstart:modelsAccess`): `presigned` gets a read token, `header` and
   * `public` the custom domain.
   */
  readonly access: ModelsAccess;
  /**
   * The custom domain the build fetches from, and its Cloudflare zone (`warmstart:modelsDomain`, `cloudflareZoneId`).
   * @default no public host (what presigned access wants)
   * @example { host: "models.example.com", zoneId: "fedcba9876543210fedcba9876543210" }
   */
  readonly domain?: { readonly host: string; readonly zoneId: string };
  /**
   * What the zone's WAF rule wants on every request to the domain: the header and its key (`header` access).
   * @default no rule: the domain is open to anyone (`public` access, warned)
   * @example { header: "X-Warmstart-Models-Key", key: pulumi.secret("...") }
   */
  readonly gate?: { readonly header: string; readonly key: pulumi.Output<string> };
  /**
   * Make a token that may also write the bucket's objects (`writeAccess`), for the models sync during `pulumi up`
   * (`warmstart:syncModelsOnDeploy`).
   */
  readonly writeToken: boolean;
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
   * With presigned access: S3 credentials that may read this bucket's objects (a secret), from which the build's
   * fetcher presigns its GETs (`--s3-access`, as JSON). R2's S3 key id is the token's id and its secret the sha256 of
   * the token's value.
   */
  public readonly readAccess: pulumi.Output<S3Access> | undefined;
  /** With `writeToken`: S3 credentials that may read and write this bucket's objects (a secret). */
  public readonly writeAccess: pulumi.Output<S3Access> | undefined;

  constructor(name: string, args: ModelsBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:models:ModelsBucket", name, {}, opts);
    const parent = { parent: this };
    // Every sub-resource names the bucket and its jurisdiction the same way (pulumi-cloudflare#1174).
    const where = { accountId: args.accountId, jurisdiction: args.jurisdiction };

    const bucket = new cloudflare.R2Bucket(`${name}-models`, { ...where, name: args.bucketName, location: args.locationHint }, parent);
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
    this.s3Endpoint = r2S3Endpoint(args.accountId, args.jurisdiction);
    this.baseUrl = args.domain ? `https://${args.domain.host}` : undefined;
    this.readAccess = args.access === "presigned" ? this.bucketToken(name, "read", "read (image build)", [R2_READ_PERMISSION], args, bucket) : undefined;
    this.writeAccess = args.writeToken ? this.bucketToken(name, "write", "write (models sync)", [R2_READ_PERMISSION, R2_WRITE_PERMISSION], args, bucket) : undefined;
    if (args.domain) this.customDomain(name, args, args.domain, bucket);
    this.registerOutputs({ bucketName: this.bucketName, baseUrl: this.baseUrl, s3Endpoint: this.s3Endpoint });
  }

  /** The custom domain, behind the WAF gate unless access is public. */
  private customDomain(name: string, args: ModelsBucketArgs, domain: NonNullable<ModelsBucketArgs["domain"]>, bucket: cloudflare.R2Bucket): void {
    const parent = { parent: this };
    const dependsOn: pulumi.Resource[] = [];
    if (args.gate) {
      const gate = args.gate;
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
      { accountId: args.accountId, jurisdiction: args.jurisdiction, bucketName: bucket.name, domain: domain.host, zoneId: domain.zoneId, enabled: true, minTls: "1.2" },
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
    args: ModelsBucketArgs,
    bucket: cloudflare.R2Bucket,
  ): pulumi.Output<S3Access> {
    const parent = { parent: this };
    const groupIds = permissions.map((permission) =>
      // The plain name: the provider URL-encodes the query itself, and an encoded name, encoded again, matches nothing
      // (its own acceptance tests pass name = "DNS Read"; cloudflare/terraform-provider-cloudflare).
      cloudflare.getAccountApiTokenPermissionGroupsListOutput({ accountId: args.accountId, name: permission }, parent).results.apply((results) => {
        const group = (results ?? []).find((g) => g.name === permission);
        if (!group) throw new Error(`Cloudflare lists no permission group "${permission}" for account ${args.accountId}; is R2 enabled on it?`);
        return group.id;
      }),
    );
    const token = new cloudflare.AccountToken(
      `${name}-models-${suffix}`,
      {
        accountId: args.accountId,
        name: `warmstart ${args.bucketName} ${purpose}`,
        policies: [
          {
            effect: "allow",
            permissionGroups: groupIds.map((id) => ({ id })),
            // pulumi-cloudflare 6.x takes the resources map as a JSON string.
            resources: bucket.name.apply((bucketName) => JSON.stringify({ [r2BucketResource(args.accountId, args.jurisdiction, bucketName)]: "*" })),
          },
        ],
      },
      { ...parent, additionalSecretOutputs: ["value"] },
    );
    return pulumi.secret(
      pulumi.all([token.id, token.value, bucket.name]).apply(([id, value, bucketName]) => ({
        endpoint: this.s3Endpoint,
        bucket: bucketName,
        accessKeyId: id,
        secretAccessKey: createHash("sha256").update(value).digest("hex"),
      })),
    );
  }
}
