/**
 * Cloud Run functions' Node.js runtimes and their support dates. Pure.
 *
 * Source: https://docs.cloud.google.com/run/docs/runtimes/function-runtimes (Node.js table, read 2026-11-29) and the
 * lifecycle rules on https://cloud.google.com/functions/docs/runtime-support: a deprecated runtime still deploys;
 * after decommission no function can be created or updated on it, and running ones may be disabled. Google warns
 * 90 days before a deprecation; so does synth.
 */

export interface RuntimeSupport {
  /** Node.js major version the runtime runs (also the bundle's esbuild target). */
  readonly nodeMajor: number;
  /** Last day of support (YYYY-MM-DD); deploys still work after it. */
  readonly deprecation: string;
  /** From this day on, no create or update (YYYY-MM-DD). */
  readonly decommission: string;
}

export const NODE_RUNTIMES = {
  nodejs20: { nodeMajor: 20, deprecation: "2026-04-30", decommission: "2026-10-30" },
  nodejs22: { nodeMajor: 22, deprecation: "2027-04-30", decommission: "2027-10-31" },
  nodejs24: { nodeMajor: 24, deprecation: "2028-04-30", decommission: "2028-10-31" },
} as const satisfies Record<string, RuntimeSupport>;

export type NodeRuntime = keyof typeof NODE_RUNTIMES;

/** The budget guard's runtime: the newest GA Node.js runtime. */
export const GUARD_RUNTIME: NodeRuntime = "nodejs24";

/** How long before a deprecation synth starts warning, as Google's own notices do. */
export const DEPRECATION_NOTICE_DAYS = 90;

export type RuntimeStatus =
  | { readonly kind: "supported" }
  | { readonly kind: "deprecation-soon"; readonly message: string }
  | { readonly kind: "deprecated"; readonly message: string }
  | { readonly kind: "decommissioned"; readonly message: string };

const DAY_MS = 86_400_000;

export function runtimeStatus(runtime: NodeRuntime, now: Date): RuntimeStatus {
  const r: RuntimeSupport = NODE_RUNTIMES[runtime];
  const deprecation = Date.parse(`${r.deprecation}T00:00:00Z`);
  const decommission = Date.parse(`${r.decommission}T00:00:00Z`);
  const t = now.getTime();
  if (t >= decommission) {
    return {
      kind: "decommissioned",
      message: `the budget guard's runtime ${runtime} was decommissioned on ${r.decommission}: Cloud Run functions refuses to create or update a function on it. Move GUARD_RUNTIME in components/budget/functionRuntimes.ts to a supported runtime (https://docs.cloud.google.com/run/docs/runtimes/function-runtimes)`,
    };
  }
  if (t >= deprecation) {
    return { kind: "deprecated", message: `the budget guard's runtime ${runtime} is deprecated since ${r.deprecation} and will be decommissioned on ${r.decommission}, after which the guard can no longer be deployed; move GUARD_RUNTIME to a newer runtime` };
  }
  const days = Math.ceil((deprecation - t) / DAY_MS);
  if (days <= DEPRECATION_NOTICE_DAYS) {
    return { kind: "deprecation-soon", message: `the budget guard's runtime ${runtime} is deprecated in ${days} day(s), on ${r.deprecation} (decommissioned ${r.decommission}); move GUARD_RUNTIME to a newer runtime` };
  }
  return { kind: "supported" };
}
