/** The sampler's selection methods: method name (sampler.method) -> its strategy. */
import type { SamplerMethod, SamplerStrategy } from '../strategy.ts';
import { adarft } from './adarft.ts';
import { beta } from './beta.ts';
import { dapo } from './dapo.ts';
import { entropy } from './entropy.ts';
import { greso } from './greso.ts';
import { knapsack } from './knapsack.ts';
import { laplace } from './laplace.ts';
import { mopps } from './mopps.ts';
import { onlineFilter } from './onlineFilter.ts';
import { sec } from './sec.ts';
import { staged } from './staged.ts';
import { uniform } from './uniform.ts';
import { vcrl } from './vcrl.ts';

export const SAMPLER_STRATEGIES: Readonly<Record<SamplerMethod, SamplerStrategy<any>>> = {
  beta, laplace, uniform, adarft, mopps, sec, dapo, 'online-filter': onlineFilter, knapsack, greso, vcrl, staged, entropy,
};
