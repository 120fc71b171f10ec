// Bundles the container's programs (fetcher, supervisor) with their dependencies into container/dist/, which the
// Dockerfile copies: the image build context is container/ alone, without node_modules.
import { bundleContainer } from "../components/containerBundle";

bundleContainer(process.cwd(), "container/dist").catch((err: unknown) => {
  console.error(`build:container: ${(err as Error).message}`);
  process.exit(1);
});
