/**
 * functions/enforce.ts against a stand-in for the Google APIs that records every call: hold and release read each
 * job before changing it, say which jobs they changed, and take a 400 from a job someone else moved meanwhile as done.
 */
import { expect, test } from "vitest";
import { applyScheduleLevel, hold, release, type GuardTargets } from "../../functions/enforce";
import { ApiError, type GoogleApis } from "../../functions/googleApis";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";

const SERVICE = "projects/p/locations/us-central1/services/imagegen";
const schedule = scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 2, idleMinInstances: 0, leadMinutes: 5 }));
const targets = (maxInstances: number): GuardTargets => ({ service: SERVICE, jobs: ["j1", "j2", "j3"], maxInstances, schedule });
/** A Tuesday at 12:00 UTC: the schedule wants 2. */
const NOON = new Date("2026-12-01T12:00:00Z");

function fakeApis(states: Record<string, string>, onChange: (job: string, verb: string) => void = () => undefined) {
  const calls: string[] = [];
  const api = {
    patchServiceScaling: async (service: string, scaling: object) => void calls.push(`patch ${service} ${JSON.stringify(scaling)}`),
    jobState: async (job: string) => (calls.push(`get ${job}`), states[job]),
    pauseJob: async (job: string) => {
      calls.push(`pause ${job}`);
      onChange(job, "pause");
      states[job] = "PAUSED";
    },
    resumeJob: async (job: string) => {
      calls.push(`resume ${job}`);
      onChange(job, "resume");
      states[job] = "ENABLED";
    },
  } as unknown as GoogleApis;
  return { api, calls, states };
}

test("hold: min instances 0 (and the cap) first, then each enabled job paused; the others said unchanged", async () => {
  const f = fakeApis({ j1: "ENABLED", j2: "PAUSED", j3: "UPDATE_FAILED" });
  expect(await hold(f.api, targets(1))).toEqual({ changed: ["j1"], unchanged: ["j2", "j3"], scaling: { minInstanceCount: 0, maxInstanceCount: 1 } });
  expect(f.calls).toEqual([`patch ${SERVICE} {"minInstanceCount":0,"maxInstanceCount":1}`, "get j1", "pause j1", "get j2", "get j3"]);
  expect((await hold(fakeApis({ j1: "PAUSED", j2: "PAUSED", j3: "PAUSED" }).api, targets(0))).scaling).toEqual({ minInstanceCount: 0 });
});

test("release: each paused job resumed, then min instances back to the schedule's level and the cap lifted (0)", async () => {
  const f = fakeApis({ j1: "PAUSED", j2: "ENABLED", j3: "PAUSED" });
  expect(await release(f.api, targets(1), NOON)).toEqual({ changed: ["j1", "j3"], unchanged: ["j2"], scaling: { minInstanceCount: 2, maxInstanceCount: 0 } });
  expect(f.calls.at(-1)).toBe(`patch ${SERVICE} {"minInstanceCount":2,"maxInstanceCount":0}`);
  expect((await release(fakeApis({ j1: "ENABLED", j2: "ENABLED", j3: "ENABLED" }).api, targets(0), NOON)).scaling).toEqual({ minInstanceCount: 2 });
});

test("a job someone else paused between the read and the call (400) counts as unchanged; any other failure stops the hold", async () => {
  const race = fakeApis({ j1: "ENABLED", j2: "ENABLED", j3: "ENABLED" }, (job, verb) => {
    if (job === "j2" && verb === "pause") {
      race.states.j2 = "PAUSED";
      throw new ApiError("POST", `/v1/${job}:pause`, 400, "FAILED_PRECONDITION");
    }
  });
  expect(await hold(race.api, targets(0))).toMatchObject({ changed: ["j1", "j3"], unchanged: ["j2"] });

  // A 400 while the job is still enabled is a real failure.
  const refused = fakeApis({ j1: "ENABLED", j2: "ENABLED", j3: "ENABLED" }, (job) => {
    if (job === "j1") throw new ApiError("POST", `/v1/${job}:pause`, 400, "FAILED_PRECONDITION");
  });
  await expect(hold(refused.api, targets(0))).rejects.toThrow(ApiError);
  // A 403 is never taken as done, whatever the job's state.
  const forbidden = fakeApis({ j1: "ENABLED", j2: "ENABLED", j3: "ENABLED" }, (job) => {
    if (job === "j1") {
      forbidden.states.j1 = "PAUSED";
      throw new ApiError("POST", `/v1/${job}:pause`, 403, "PERMISSION_DENIED");
    }
  });
  await expect(hold(forbidden.api, targets(0))).rejects.toThrow(ApiError);
  const resumeRace = fakeApis({ j1: "PAUSED", j2: "PAUSED", j3: "PAUSED" }, (job, verb) => {
    if (job === "j3" && verb === "resume") {
      resumeRace.states.j3 = "ENABLED";
      throw new ApiError("POST", `/v1/${job}:resume`, 400, "FAILED_PRECONDITION");
    }
  });
  expect(await release(resumeRace.api, targets(0), NOON)).toMatchObject({ changed: ["j1", "j2"], unchanged: ["j3"] });
});

test("outside the guard, a deploy sets the schedule's level now and nothing else", async () => {
  const f = fakeApis({});
  expect(await applyScheduleLevel(f.api, SERVICE, schedule, NOON)).toBe(2);
  expect(await applyScheduleLevel(f.api, SERVICE, schedule, new Date("2026-12-05T12:00:00Z"))).toBe(0); // Saturday
  expect(f.calls).toEqual([`patch ${SERVICE} {"minInstanceCount":2}`, `patch ${SERVICE} {"minInstanceCount":0}`]);
});
