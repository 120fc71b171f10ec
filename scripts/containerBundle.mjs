// How the container's programs (fetcher, supervisor) are bundled: one recipe for the image (build-container.mjs,
// whose output container/dist/ the Dockerfile copies) and for the tests, which bundle into a folder of their own
// so that what they run is what the image runs.
import { build } from "esbuild";

export const CONTAINER_ENTRY_POINTS = { fetcher: "container/fetcher.ts", supervisor: "container/supervisor.ts" };

/** Bundles `entryPoints` (name → source, relative to `rootDir`) into `outdir` as `<name>.js`. */
export async function bundleContainer(rootDir, outdir, entryPoints = CONTAINER_ENTRY_POINTS) {
  await build({
    absWorkingDir: rootDir,
    entryPoints,
    outdir,
    bundle: true,
    platform: "node",
    // The image's Node (the Dockerfile's NODE_IMAGE).
    target: "node24",
    format: "cjs",
    legalComments: "none",
    logLevel: "warning",
  });
}
