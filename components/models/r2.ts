/**
 * Cloudflare R2 naming: jurisdictions, S3 endpoints and the token resource key of a bucket. Pure, so the models
 * sync script uses it without loading Pulumi.
 */
export const R2_JURISDICTIONS = ["default", "eu", "us", "fedramp"] as const;

/** Where an R2 bucket's data is kept; a bucket outside `default` has its own S3 endpoint. */
export type R2Jurisdiction = (typeof R2_JURISDICTIONS)[number];

/** R2's S3 API endpoint for an account's buckets in a jurisdiction (`https://<account>.eu.r2...` for EU buckets). */
export function r2S3Endpoint(accountId: string, jurisdiction: R2Jurisdiction = "default"): string {
  return `https://${accountId}.${jurisdiction === "default" ? "" : `${jurisdiction}.`}r2.cloudflarestorage.com`;
}

/** An account token policy's resource key for one bucket. */
export function r2BucketResource(accountId: string, jurisdiction: R2Jurisdiction, bucketName: string): string {
  return `com.cloudflare.edge.r2.bucket.${accountId}_${jurisdiction}_${bucketName}`;
}
