/**
 * How the container's programs (fetcher, supervisor) are bundled: one recipe for the image (`npm run build:container`
 * writes container/dist/, which the Dockerfile copies), for the tests (which bundle into a folder of their own, so
 * that what they run is what the image runs), and for the image's content hash (which hashes the bundles themselves,
 * so a change to a bundled source or package rebuilds and nothing else does).
 */
import { build, buildSync, type BuildOptions } from "esbuild";

export const CONTAINER_ENTRY_POINTS: Readonly<Record<string, string>> = { fetcher: "container/fetcher.ts", supervisor: "container/supervisor.ts" };

const options = (rootDir: string, entryPoints: Record<string, string>): BuildOptions => ({
  absWorkingDir: rootDir,
  entryPoints,
  bundle: true,
  platform: "node",
  // The image's Node (the Dockerfile's NODE_IMAGE).
  target: "node24",
  format: "cjs",
  legalComments: "none",
  logLevel: "warning",
});

/** Bundles `entryPoints` (name → source, relative to `rootDir`) into `outdir` as `<name>.js`. */
export async function bundleContainer(rootDir: string, outdir: string, entryPoints: Record<string, string> = { ...CONTAINER_ENTRY_POINTS }): Promise<void> {
  await build({ ...options(rootDir, entryPoints), outdir });
}

/** The bundles as the image gets them, in memory: `dist/<name>.js` → text. */
export function containerBundles(rootDir: string): Record<string, string> {
  const out = buildSync({ ...options(rootDir, { ...CONTAINER_ENTRY_POINTS }), outdir: "dist", write: false, logLevel: "silent" });
  return Object.fromEntries(out.outputFiles.map((f) => [`dist/${f.path.split("/").pop()}`, f.text]));
}
