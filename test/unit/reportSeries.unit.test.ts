/**
 * The report's fold against a small hand-built log whose every series is worked out by hand below; the
 * fold is incremental (a snapshot mid-log changes nothing) and its data survive JSON and the HTML page.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, type DareEvent, type EventType, type Logged, type PayloadOf } from '../../events/catalogue.ts';
import { reportHtml, scriptJson } from '../../views/report/html.ts';
import { ReportFold, reportDataOf } from '../../views/report/series.ts';

const RUN = 'hand';
const key = { seed: 7, step: 1, purpose: 'x' };
let seq = 0;
const log: Logged[] = [];
function ev<T extends EventType>(type: T, data: PayloadOf<T>, ts: number, id: string = `${type}/${seq + 1}`, cause: string | null = null): void {
  log.push({ seq: ++seq, event: makeEvent(type, data, { run: RUN, id, ts, cause }) as unknown as DareEvent });
}
const f4 = (...v: number[]) => Float32Array.from(v);

// d values are exact in float32 so the bins below are exact: 0.125 -> heat bin 2, reliability bin 1, ...
ev('RunStarted', { scenario: 'hand </script><!--', method: 'dare', seed: 7, config: { run: { steps: 2 }, worker: { kind: 'sim' } } }, 1000);
ev('DifficultyEstimated', { epoch: 0, step: 0, method: 'dare', difficulty: f4(0.125, 0.5, 0.875, NaN), source: Uint8Array.of(0, 0, 0, 255), ess: f4(0, 0, 0, 0), key: null, diagnostics: {} }, 1000);
ev('StepStarted', { step: 1, epoch: 0 }, 1000);
ev('BatchSelected', { step: 1, epoch: 0, key, strategy: 's', prompts: Uint32Array.of(0, 1, 2), difficulty: f4(0.125, 0.5, 0.875), tier: Uint8Array.of(0, 1, 2), rollouts: Uint16Array.of(2, 2, 2), hints: Uint16Array.of(0, 0, 0), filled: 0 }, 1010);
ev('RolloutRequested', { step: 1, purpose: 'train', prompts: Uint32Array.of(0, 1, 2), rollouts: Uint16Array.of(2, 2, 2), hints: Uint16Array.of(0, 0, 0), hintSources: ['', '', ''], temperature: 1, maxTokens: 64, seed: 1 }, 1010, 'RR/1');
const rollout = (q: number, reward: number[], length: number[], oracle: number, ts: number) =>
  ev('RolloutCompleted', {
    step: 1, promptIndex: q, group: `g/1/${q}`, purpose: 'train', policyVersion: 0, reward: f4(...reward), length: Uint32Array.from(length),
    logprob: Float64Array.of(-1, -1), truncated: Uint8Array.of(0, 0), hinted: Uint8Array.of(0, 0), oracleSuccess: oracle,
  }, ts, `RC/${q}`, 'RR/1');
rollout(0, [1, 1], [10, 20], 0.75, 1110);
rollout(1, [1, 0], [30, 40], 0.5, 1210);
rollout(2, [0, 0], [50, 60], 0.25, 1310);
ev('ScoreRequested', { epoch: 0, step: 1, groups: ['g/1/0'], rows: 2 }, 1310, 'SR/1');
ev('ScoreCompleted', { groups: ['g/1/0'], rowOffsets: Uint32Array.of(0, 2), current: Float64Array.of(-1, -1), policyVersion: 0 }, 1360, 'SC/1', 'SR/1');
// dynamic sampling kept the first two groups: 4 rows trained, prompt 2's 2 rows discarded
ev('UpdateRequested', {
  step: 1, policyVersion: 0, key, groups: ['g/1/0', 'g/1/1'], freshGroups: 2, rowGroup: Uint32Array.of(0, 0, 1, 1), rowIndex: Uint16Array.of(0, 1, 0, 1),
  rawReward: f4(1, 1, 1, 0), shapedReward: f4(1, 1, 1, 0), advantage: f4(0, 0, 1, -1), clipLo: f4(0.2, 0.2, 0.2, 0.2), clipHi: f4(0.2, 0.2, 0.2, 0.2),
  weight: f4(1, 1, 1, 1), bin: Int32Array.of(-1, -1, -1, -1), aggregation: 'token', lConst: 0, entropyCoeff: 0, klCoeff: 0, maskTruncated: false,
}, 1360, 'UR/1');
ev('UpdateCompleted', { step: 1, policyVersion: 1, loss: 0.1, clipFrac: 0.2, kl: 0.01, entropy: 0.5, gradNorm: 1.5, tokens: 100, binLosses: {} }, 1460, 'UC/1', 'UR/1');
ev('DifficultyEstimated', { epoch: 0, step: 1, method: 'dare', difficulty: f4(0.0625, 0.9375, 0.5, 0.5), source: Uint8Array.of(2, 2, 3, 4), ess: f4(8, 1, 0, 0), key: null, diagnostics: { essThreshold: 2 } }, 1470);
ev('EvalCompleted', {
  step: 1, policyVersion: 1, accuracy: 0.5, oracleAccuracy: 0.625,
  byTier: { 'b</script>': { accuracy: 0.75, meanLength: 8, count: 4 }, a: { accuracy: 0.25, meanLength: 12, count: 4 } },
}, 1500);
ev('RunCompleted', { steps: 1, policyVersion: 1, weightsSha256: null }, 1600);

const heat = (...bins: Array<[number, number]>) => {
  const h = new Array(20).fill(0);
  for (const [b, n] of bins) h[b] += n;
  return h;
};

describe('the report fold', () => {
  const d = reportDataOf(log);

  it('summarises the run', () => {
    expect(d.run).toMatchObject({
      id: 'hand', scenario: 'hand </script><!--', method: 'dare', seed: 7, stepsPlanned: 2, stepsDone: 1, policyVersion: 1,
      completed: true, failed: null, events: 15, lastSeq: 15, sim: true,
      accounting: { generated: 6, trained: 4, buffered: 0, discarded: 2, inFlight: 0 },
    });
    expect(d.run.worker).toEqual({ kind: 'sim', model: null, device: null, dtype: null });
    expect(d.run.wallSeconds).toBeCloseTo(0.6, 9); // 1000 → 1600 ms
    expect(d.run.seconds.score).toBeCloseTo(0.05, 9);
  });

  it('names the worker: the configured kind and model (hf only), the device and dtype the first worker to join reported', () => {
    const started = (worker: Record<string, unknown>): Logged => ({
      seq: 1, event: makeEvent('RunStarted', { scenario: 's', method: 'dare', seed: 1, config: { run: { steps: 2 }, worker } }, { run: RUN, id: 'RunStarted', ts: 0 }) as unknown as DareEvent,
    });
    const joined = (seq: number, worker: string, device: string, dtype: string): Logged => ({
      seq, event: makeEvent('WorkerJoined', { worker, kind: 'hf', device, dtype, host: 'h' }, { run: RUN, id: `WorkerJoined/${worker}`, ts: 0 }) as unknown as DareEvent,
    });
    const hf = reportDataOf([started({ kind: 'hf', model: 'models/smollm2-135m-instruct' }), joined(2, 'w0', 'cuda:0', 'bfloat16'), joined(3, 'w1', 'cpu', 'float32')]);
    expect(hf.run.worker).toEqual({ kind: 'hf', model: 'models/smollm2-135m-instruct', device: 'cuda:0', dtype: 'bfloat16' });
    expect(hf.run.sim).toBe(false);
    // the tiny worker ignores worker.model (the default '' or a leftover --set)
    expect(reportDataOf([started({ kind: 'tiny', model: 'models/x' })]).run.worker).toEqual({ kind: 'tiny', model: null, device: null, dtype: null });
  });

  it('reward, success per tier, length, update and time per step', () => {
    expect(d.step).toEqual([1]);
    expect(d.reward).toEqual([0.5]); // 3 of 6 rows rewarded
    expect(d.success.all).toEqual([0.5]);
    expect(d.success.byTier).toEqual({ easy: [1], medium: [0.5], hard: [0], none: [null] });
    expect(d.length).toEqual([35]); // (10+20+30+40+50+60)/6
    expect(d.update).toEqual({ loss: [0.1], clipFrac: [0.2], kl: [0.01], entropy: [0.5], gradNorm: [1.5] });
    // step 1000 → 1460 ms: rollout 1010 → 1310 (the last group), score 1310 → 1360, update 1360 → 1460, other 10 ms
    expect(d.time.rollout[0]).toBeCloseTo(0.3, 9);
    expect(d.time.score[0]).toBeCloseTo(0.05, 9);
    expect(d.time.update[0]).toBeCloseTo(0.1, 9);
    expect(d.time.other[0]).toBeCloseTo(0.01, 6);
    expect(d.rollouts).toEqual({ generated: [6], trained: [4], discarded: [2] });
    expect(d.tiers).toEqual({ easy: [1], medium: [1], hard: [1], none: [0] });
  });

  it('eval per category', () => {
    expect(d.eval.step).toEqual([1]);
    expect(d.eval.accuracy).toEqual([0.5]);
    expect(d.eval.oracleAccuracy).toEqual([0.625]);
    expect(d.eval.byTier).toEqual({ a: { accuracy: [0.25], meanLength: [12] }, 'b</script>': { accuracy: [0.75], meanLength: [8] } });
  });

  it('difficulty histogram per estimate (NaN skipped)', () => {
    expect(d.difficulty.edges).toHaveLength(21);
    expect(d.difficulty.step).toEqual([0, 1]);
    expect(d.difficulty.counts).toEqual([heat([2, 1], [10, 1], [17, 1]), heat([1, 1], [18, 1], [10, 2])]);
  });

  it('calibration against realized and oracle failure rates, ESS, reliability', () => {
    // pairs (estimated, realized, true): (0.125, 0, 0.25), (0.5, 0.5, 0.5), (0.875, 1, 0.75), all cold-constant
    expect(d.calibration.step).toEqual([1]);
    expect(d.calibration.mae[0]).toBeCloseTo(0.25 / 3, 9);
    expect(d.calibration.bias[0]).toBeCloseTo(0, 9);
    expect(d.calibration.oracleMae[0]).toBeCloseTo(0.25 / 3, 9);
    expect(Object.keys(d.calibration.maeBySource)).toEqual(['cold-constant']);
    const rel = d.calibration.reliability.bySource['cold-constant'];
    expect(rel.n).toEqual([0, 1, 0, 0, 0, 1, 0, 0, 1, 0]);
    expect(rel.realized).toEqual([null, 0, null, null, null, 0.5, null, null, 1, null]);
    // the batch was selected with the step-0 estimate, which has no SNIS weights
    expect(d.ess).toEqual({ step: [1], mean: [null], belowThreshold: [0] });
  });

  it('is incremental: snapshots along the way change nothing, and show the open step', () => {
    const f = new ReportFold();
    const mid: number[] = [];
    for (const l of log) {
      f.apply(l);
      const snap = f.data();
      mid.push(snap.calibration.step.length);
    }
    expect(f.data()).toEqual(d);
    // the calibration row of step 1 appears with its first rollout, before any later batch closes it
    expect(mid[5]).toBe(1);
    expect(mid[4]).toBe(0);
  });

  it('holds plain JSON, embedded in the page without breaking out of its script element', () => {
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    const html = reportHtml(d);
    expect(html.match(/<\/script>/g)).toHaveLength(4); // the data, uPlot, the charts, the call
    expect(html).not.toMatch(/\s(src|href)=["']?https?:/i);
    const json = html.match(/<script type="application\/json" id="dare-data">([^]*?)<\/script>/)![1];
    expect(JSON.parse(json)).toEqual(d);
    expect(scriptJson({ s: '</script>\u2028' })).toBe('{"s":"\\u003c/script>\\u2028"}');
  });
});
