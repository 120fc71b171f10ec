/**
 * Prints the image build's Cloud Build step script, as components/image/cloudBuild.ts writes it and after Cloud Build's
 * substitution pass: what bash runs inside gcr.io/cloud-builders/docker. `npm run test:container` runs it with
 * `docker` mapped to buildah, so the container test builds with the shipped command line.
 *
 * tsx test/support/cloudBuildStep.ts --access header|presigned|public --base-image IMG --image REPO:TAG
 *   [--base-url URL] [--secret]   (--secret: the step gets the access as WARMSTART_MODELS_ACCESS, as secretEnv does)
 */
import { parseArgs } from "node:util";
import { cloudBuildConfig, modelImageBuildArgs, substituted } from "../../components/image/cloudBuild";
import type { ModelsAccess } from "../../components/models/modelsAccess";

const { values } = parseArgs({
  options: { access: { type: "string" }, "base-image": { type: "string" }, image: { type: "string" }, "base-url": { type: "string" }, secret: { type: "boolean" } },
});
const image = values.image ?? "";
const colon = image.lastIndexOf(":");
const config = cloudBuildConfig({
  imageRepo: image.slice(0, colon),
  tag: image.slice(colon + 1),
  buildArgs: modelImageBuildArgs(values["base-image"] ?? "", (values.access ?? "header") as ModelsAccess, values["base-url"]),
  accessSecretVersion: values.secret ? "projects/test/secrets/models-access/versions/latest" : undefined,
  machineType: "E2_HIGHCPU_32",
  diskSizeGb: 100,
  timeoutMinutes: 60,
}) as { steps: { entrypoint: string; args: string[] }[] };
const step = config.steps[0];
if (step.entrypoint !== "bash" || step.args[0] !== "-c") throw new Error("the build step is no longer `bash -c SCRIPT`; update this stand-in");
process.stdout.write(substituted(step.args[1]));
