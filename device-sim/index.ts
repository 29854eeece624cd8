// The device simulator: a seeded community with daily routines, emergencies and faults, played over real
// MQTT or written as JSONL for `anju replay`; and the load generator used by `anju sim --load` and the
// benchmarks.
export { buildCommunity, type Community } from './community.ts';
export {
  missingDevices,
  readCredentials,
  registerCommunity,
  registerLoadDevices,
  secretsOf,
  writeCredentials,
  type CredentialsFile,
} from './credentials.ts';
export { replayDevices } from './jsonl.ts';
export { runLoad, type LoadDevice, type LoadOptions, type LoadResult } from './load.ts';
export type { SimOutput } from './output.ts';
export { runSimulation, type SimSummary, type SimTarget, type SimulationOptions } from './run.ts';
export { loadScenarioFile, parseScenarioSpec, resolveScenarios, type Scenario } from './scenarios.ts';
export { parseDuration, parseStart } from './time.ts';
export { World } from './world.ts';
