/** Deterministic ids (events/catalogue.ts): a rollout group's blob key names its RolloutCompleted. */
import { describe, expect, it } from 'vitest';
import { completionIdOfGroup } from '../../run/metrics.ts';
import { eventId, groupId, rolloutCompletedId } from '../../events/catalogue.ts';

describe('rollout group and completion ids', () => {
  it('a training group g/<step>/<p> is completed by RolloutCompleted/<step>/<p>', () => {
    expect(groupId(12, 345)).toBe('g/12/345');
    expect(rolloutCompletedId(groupId(12, 345))).toBe(eventId('RolloutCompleted', 12, 345));
    expect(rolloutCompletedId('g/12/345')).toBe('RolloutCompleted/12/345');
  });

  it('other purposes and refill rounds keep their extra parts', () => {
    expect(rolloutCompletedId('g/reference/0/7')).toBe(eventId('RolloutCompleted', 'reference', 0, 7));
    expect(rolloutCompletedId(groupId(3, 4, 2))).toBe('RolloutCompleted/3/4/r2');
  });

  it('the monitor asks the same rule, and nothing for groups not named g/…', () => {
    expect(completionIdOfGroup('g/5/6')).toBe('RolloutCompleted/5/6');
    expect(completionIdOfGroup('x/5/6')).toBeUndefined();
  });
});
