/**
 * EDCO / DARE's entropy selector (methods §12): softmax over the prefix-entropy scores, which the estimate
 * carries in place of difficulties (source "entropy"). No state of its own.
 */
import { entropyLogits } from '../entropy.ts';
import { planStrategy } from '../selection.ts';

export const entropy = planStrategy((scores) => entropyLogits(scores, { tau: 1 }).logits);
