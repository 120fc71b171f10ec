/**
 * Regions where Cloud Run offers NVIDIA L4 GPUs for services.
 *
 * Source: cloud.google.com/run/docs/configuring/services/gpu ("Supported regions") and
 * .../gpu-zonal-redundancy, read 2026-11-23. Regions marked `invitationOnly` need a request to the Google
 * account team before quota can be granted. Update this list, and only this list, when Google adds regions.
 */
export interface GpuRegion {
  readonly region: string;
  readonly invitationOnly: boolean;
}

export const L4_REGIONS: readonly GpuRegion[] = [
  { region: "us-central1", invitationOnly: false },
  { region: "us-east4", invitationOnly: false },
  { region: "europe-west1", invitationOnly: false },
  { region: "europe-west4", invitationOnly: false },
  { region: "asia-southeast1", invitationOnly: false },
  { region: "asia-south1", invitationOnly: true },
];

export function findL4Region(region: string): GpuRegion | undefined {
  return L4_REGIONS.find((r) => r.region === region);
}

/** The L4's memory: weights above this must be partly offloaded to host memory by the model server. */
export const L4_GPU_MEMORY_BYTES = 24 * 1024 ** 3;

export type WeightsFit =
  | { readonly kind: "fits" }
  /** The weights exceed GPU memory: the model server must offload part of them (e.g. the text encoder) to host memory. */
  | { readonly kind: "offload"; readonly message: string }
  | { readonly kind: "too-big"; readonly message: string };

const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/** Whether weights of this size can be served from one L4 plus the instance's memory. */
export function weightsFit(weightBytes: number, instanceMemoryGiB: number, manifestName: string): WeightsFit {
  const hostBytes = instanceMemoryGiB * 1024 ** 3;
  if (weightBytes > L4_GPU_MEMORY_BYTES + hostBytes) {
    return {
      kind: "too-big",
      message: `${manifestName}: the weights total ${gb(weightBytes)}, more than the L4's ${gb(L4_GPU_MEMORY_BYTES)} plus the instance's ${instanceMemoryGiB} GiB can hold; use smaller (e.g. fp8) files or fewer models`,
    };
  }
  if (weightBytes > L4_GPU_MEMORY_BYTES) {
    return {
      kind: "offload",
      message: `${manifestName}: the weights total ${gb(weightBytes)}, more than the L4's ${gb(L4_GPU_MEMORY_BYTES)}; the model server will have to offload part of them (e.g. the text encoder) to host memory, which slows requests`,
    };
  }
  return { kind: "fits" };
}
