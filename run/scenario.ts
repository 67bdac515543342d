/** A scenario file (plus --steps, --seed, --set) resolved into the run configuration. */
import { WIRED_ESTIMATORS } from '../actors/estimator/estimatorActor.ts';
import { WIRED_SAMPLERS } from '../actors/sampler/samplerActor.ts';
import { ConfigError, resolveConfig, type RunConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import { readJson } from './runDir.ts';

export function configFromScenario(path: string, args: { steps?: number; seed?: number; sets?: string[] }): RunConfig {
  const sc = readJson(path, 'scenario');
  const sets = [...(args.sets ?? [])];
  if (args.steps !== undefined) sets.push(`run.steps=${args.steps}`);
  if (args.seed !== undefined) sets.push(`run.seed=${args.seed}`);
  let config: RunConfig;
  try {
    config = resolveConfig(sc, sets);
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(`${path}: ${e.message}`);
    throw e;
  }
  // say so rather than run a different method under the requested name
  if (!WIRED_SAMPLERS.has(config.sampler.method)) {
    throw new UserError(`${path}: sampler.method "${config.sampler.method}" (method ${config.method}) is not wired into the sampler actor yet; wired: ${[...WIRED_SAMPLERS].join(', ')}`);
  }
  if (!WIRED_ESTIMATORS.has(config.estimator.method)) {
    throw new UserError(`${path}: estimator.method "${config.estimator.method}" (method ${config.method}) is not wired into the estimator actor yet; wired: ${[...WIRED_ESTIMATORS].join(', ')}`);
  }
  return config;
}
