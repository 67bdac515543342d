/** The task knowledge the gpu-bridge is given by its host: verifiers (tasks/) and hint prompts (the learner's). */
import { buildHintPrompt, extractSkeleton } from '../actors/learner/hints.ts';
import type { BridgeTasks } from '../gpu-bridge/bridgeTypes.ts';
import { verifierFor } from '../tasks/index.ts';

export const bridgeTasks: BridgeTasks = {
  reward: (dataSource, response, answer) => verifierFor(dataSource)(response, answer).reward,
  hintPrompt: (question, response, dataSource) => buildHintPrompt(question, extractSkeleton(response), dataSource),
};
