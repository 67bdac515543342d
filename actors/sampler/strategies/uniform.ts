/** Uniform selection without replacement (the GRPO baseline, dare-reference §5 `''`). No state of its own. */
import { planStrategy } from '../selection.ts';

export const uniform = planStrategy();
