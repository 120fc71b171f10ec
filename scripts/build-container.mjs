// Bundles the container's programs (fetcher, supervisor) with their dependencies into container/dist/, which the
// Dockerfile copies: the image build context is container/ alone, without node_modules.
import { build } from "esbuild";

await build({
  entryPoints: { fetcher: "container/fetcher.ts", supervisor: "container/supervisor.ts" },
  outdir: "container/dist",
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  legalComments: "none",
  logLevel: "warning",
});
