// Bundles the container's programs (fetcher, supervisor) with their dependencies into container/dist/, which the
// Dockerfile copies: the image build context is container/ alone, without node_modules.
import { bundleContainer } from "../components/image/containerBundle";
import { command, runCommand } from "../container/cli";

const BUILD_CONTAINER = command({
  name: "build:container",
  purpose: "Bundles the container's programs (fetcher, supervisor) into container/dist/, which the Dockerfile copies.",
  usage: "npm run build:container (from the repository root; pulumi up runs it before an image build)",
  flags: {},
  example: "npm run build:container && ls container/dist",
  exitCodes: { 0: "bundled", 1: "the bundle failed (esbuild says why)", 2: "usage error" },
});

async function main(): Promise<number> {
  await bundleContainer(process.cwd(), "container/dist");
  return 0;
}

// pulumi up runs it: esbuild's errors are the message, a stack would add nothing.
void runCommand(BUILD_CONTAINER, process.argv.slice(2), main, { userErrors: "all" }).then((code) => (process.exitCode = code));
