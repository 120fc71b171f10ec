/**
 * How the image build may read the weights (`warmstart:modelsAccess`):
 * - `header`: from the bucket's custom domain, sending the access header the zone's WAF rule wants;
 * - `presigned`: no public host, presigned S3 GETs from a read token the stack's ModelsBucket makes;
 * - `public`: from the custom domain, open to anyone.
 * Pure.
 */
export const MODELS_ACCESS = ["header", "presigned", "public"] as const;

export type ModelsAccess = (typeof MODELS_ACCESS)[number];
