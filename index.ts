/**
 * warmstart: a GPU inference model on Cloud Run (NVIDIA L4), warm in the windows you choose and scaled down
 * outside them. Composition only: config in, components wired, outputs out.
 */
import { deployTime } from "./components/clock";
import { loadStackConfig } from "./components/config";
import { GpuService } from "./components/gpuService";
import { WarmSchedule } from "./components/warmSchedule";
import { desiredMinInstances } from "./components/warmWindows";

const rootDir = __dirname;
const config = loadStackConfig(rootDir);
const now = deployTime();

const gpu = new GpuService(config.service.name, {
  service: config.service,
  image: config.image,
  minInstanceCount: desiredMinInstances(config.warm.schedule, now),
  rootDir,
});

const warm = new WarmSchedule(config.service.name, {
  schedule: config.warm.schedule,
  project: config.service.project,
  region: config.service.region,
  serviceName: gpu.serviceName,
  serviceUrl: gpu.url,
  runtimeServiceAccount: gpu.runtimeServiceAccount,
  invokerServiceAccountEmail: gpu.invokerServiceAccount.email,
  now,
});

export const serviceUrl = gpu.url;
export const imageRef = gpu.imageRef;
export const imageDigest = gpu.imageDigest;
export const runtimeServiceAccount = gpu.runtimeServiceAccount.email;
export const invokerServiceAccount = gpu.invokerServiceAccount.email;
export const schedulerServiceAccount = warm.schedulerServiceAccount.email;
export const minInstancesAtDeploy = desiredMinInstances(config.warm.schedule, now);
export const warmJobs = config.warm.schedule.jobs.map((j) => `${j.cron} (${config.warm.schedule.timeZone}) -> ${j.level}`);
