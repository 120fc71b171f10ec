// Bundles the container's programs (fetcher, supervisor) with their dependencies into container/dist/, which the
// Dockerfile copies: the image build context is container/ alone, without node_modules.
import { bundleContainer } from "./containerBundle.mjs";

await bundleContainer(process.cwd(), "container/dist");
