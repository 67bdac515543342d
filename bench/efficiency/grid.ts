/**
 * What the efficiency study runs: the arms (every method preset, plus two ablations that split DARE's
 * saving into its parts), the sim's difficulty distributions, seeds, and the targets and budgets the
 * summary reads the curves at. Targets are fractions of accuracy; budgets are rollouts generated.
 */
import { PRESETS } from '../../events/config.ts';

export interface Arm {
  /** Name in tables and plots. */
  id: string;
  method: string;
  /** Extra `--set key=value` on top of the preset. */
  sets: string[];
  /** Why the arm is there (ablations). */
  note?: string;
}

/** Every preset as is, then the ablations. */
export function simArms(): Arm[] {
  const arms: Arm[] = Object.keys(PRESETS).map((m) => ({ id: m, method: m, sets: [] }));
  arms.push(
    { id: 'grpo+replay', method: 'grpo', sets: ['learner.sigma=0.5', 'learner.bufferSize=512'], note: 'uniform GRPO with DARE\'s replay mix σ = 0.5: the saving of replay alone' },
    { id: 'dare-no-tiers', method: 'dare', sets: ['sampler.tiers=none'], note: 'DARE with n rollouts for every prompt: selection + replay, no budget tiers' },
    DARE_COLD_OFF_MODE,
    {
      id: 'grpo+mixed-replay', method: 'grpo', sets: ['learner.sigma=0.25', 'learner.bufferSize=512', 'learner.replayPriority=mixed'],
      note: 'uniform GRPO with the dare preset\'s replay (σ = 0.25, mixed groups first): the saving of its replay alone',
    },
    { id: 'dare-epoch', method: 'dare', sets: ['run.estimation=epoch'], note: 'the dare preset estimating once per epoch (the paper\'s cadence)' },
    { id: 'dare-free-cold', method: 'dare', sets: ['sampler.coldMass=free'], note: 'the dare preset without the cold-start mass balancing' },
    { id: 'dare-sigma0.5', method: 'dare', sets: ['learner.sigma=0.5'], note: 'the dare preset with σ = 0.5' },
  );
  return arms;
}

/**
 * DARE whose never-estimated prompts start at d = 0.3 instead of 0.5: the constant 0.5 sits exactly on the
 * Beta sampler's mode, so with it DARE prefers prompts it knows nothing about over estimated ones.
 */
const DARE_COLD_OFF_MODE: Arm = {
  id: 'dare-cold0.3', method: 'dare', sets: ['estimator.coldStartDifficulty=0.3'],
  note: 'DARE with the cold start off the Beta mode (d = 0.3), so estimated prompts near d = 0.5 are preferred to unknown ones',
};

export const TINY_ARMS: Arm[] = [
  { id: 'dare', method: 'dare', sets: [] },
  { id: 'grpo', method: 'grpo', sets: [] },
  DARE_COLD_OFF_MODE,
  {
    id: 'dare-no-hard-bonus', method: 'dare', sets: ['learner.lambdaHard=0'],
    note: 'DARE without the length bonus on wrong rows of hard prompts (it turns all-wrong groups into full-scale advantages for longer answers)',
  },
];

/** A tiny-worker task variant: its name in tables (the "distribution" column) and its `--set`s. */
export interface TinyVariant {
  id: string;
  sets: string[];
  note: string;
}

export const TINY_VARIANTS: TinyVariant[] = [
  { id: 'arithmetic', sets: [], note: '800 training problems: a 60-step run sees most of them about once' },
  {
    id: 'arithmetic-200', sets: ['task.count=200'],
    note: '200 training problems: each is seen about 5 times in 60 steps, so estimates can steer the selection',
  },
  {
    id: 'curriculum', sets: ['task.count=300', 'task.levels=1,2,3,5,9'],
    note: 'a graded curriculum (add, sub, mul with 1 digit, add with 2 and 3 digits), 300 problems: each seen several times in 60 steps',
  },
];

export const SIM_DISTRIBUTIONS = ['uniform', 'skewed-hard', 'bimodal'] as const;

export interface StudyPlan {
  sim: { arms: Arm[]; distributions: readonly string[]; seeds: number[]; steps: number; scenario: string };
  tiny: { arms: Arm[]; seeds: number[]; steps: number; scenario: string; variants: TinyVariant[] };
  /** Accuracy targets and rollout budgets per worker. */
  simTarget: number;
  simBudget: number;
  tinyTarget: number;
  tinyBudget: number;
  /** More targets per worker for the sensitivity table (rollouts-to-target depends on where the line is). */
  simTargets: number[];
  tinyTargets: number[];
  /** Targets relative to each seed's baseline accuracy (the tiny worker's warm start differs by seed). */
  tinyGains: number[];
}

export function fullPlan(): StudyPlan {
  return {
    sim: { arms: simArms(), distributions: SIM_DISTRIBUTIONS, seeds: [1, 2, 3, 4, 5], steps: 40, scenario: 'scenarios/efficiency/sim.json' },
    tiny: { arms: TINY_ARMS, seeds: [1, 2, 3], steps: 60, scenario: 'scenarios/efficiency/tiny.json', variants: TINY_VARIANTS },
    simTarget: 0.8,
    simBudget: 8192,
    tinyTarget: 0.46,
    tinyBudget: 6144,
    simTargets: [0.7, 0.8, 0.9],
    tinyTargets: [0.45, 0.46, 0.47, 0.48],
    tinyGains: [0.02, 0.03, 0.04],
  };
}

/** One seed × two presets on the sim, short: about a minute. */
export function quickPlan(): StudyPlan {
  const arms = simArms().filter((a) => a.id === 'dare' || a.id === 'grpo');
  return {
    sim: { arms, distributions: ['uniform'], seeds: [1], steps: 30, scenario: 'scenarios/efficiency/sim.json' },
    tiny: { arms: [], seeds: [], steps: 0, scenario: 'scenarios/efficiency/tiny.json', variants: [] },
    simTarget: 0.7,
    simBudget: 6144,
    tinyTarget: 0.46,
    tinyBudget: 6144,
    simTargets: [0.6, 0.7],
    tinyTargets: [],
    tinyGains: [],
  };
}
