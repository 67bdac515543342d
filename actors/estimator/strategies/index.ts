/** The estimator's methods: method name (estimator.method) -> its strategy for the estimation round. */
import type { EstimatorMethod, EstimatorStrategy } from '../strategy.ts';
import { constant } from './constant.ts';
import { entropy } from './entropy.ts';
import { judge } from './judge.ts';
import { mopps } from './mopps.ts';
import { previousFr } from './previousFr.ts';
import { snis } from './snis.ts';
import { tfidf } from './tfidf.ts';

/** every estimator but `oracle` (a sim-only method not wired yet: the runner refuses it) */
export const ESTIMATOR_STRATEGIES: Readonly<Partial<Record<EstimatorMethod, EstimatorStrategy<any>>>> = {
  snis, 'previous-fr': previousFr, mopps, constant, tfidf, judge, entropy,
};
