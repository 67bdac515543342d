/**
 * TensorBoard event files (run.tensorboard, `dare export --tensorboard`): a short sim run writes them as it
 * goes; TensorBoard's own reader (EventAccumulator, over the project's venv) sees every step's metrics with the
 * step numbers, values and the logged times the log gives; the live file is the export of the final log byte
 * for byte, every export of a log is the same bytes, and exporting leaves the log as it was.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../run/runner.ts';
import { dareSync, loggedEvents, simScenario, testDir } from '../support/live.ts';
import { sharedNats } from '../support/scenarios.ts';
import { byStep, expectedScalars, readWithTensorboard } from '../support/tensorboard.ts';

const { dir, file } = testDir('dare-tensorboard-', { sim: simScenario({ run: { steps: 6, evalEvery: 3, tensorboard: true } }) });
// a run id of its own: runs over the suite's shared nats-server must not share subjects (simRun.int.test.ts runs "run")
const runDir = join(dir, 'tb-run');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(async () => {
  await runScenario({ scenario: file('sim'), runDir, logger: pino({ level: 'silent' }), nats: sharedNats() });
}, 120_000);

describe('TensorBoard event files', () => {
  it('the live file is the export of the log byte for byte; exports repeat exactly and leave the log alone', () => {
    const live = readdirSync(join(runDir, 'tensorboard'));
    expect(live).toHaveLength(1);
    expect(live[0]).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replace(/[.]/g, '\\.')}$`));
    const logBefore = sha(join(runDir, 'log', 'data.mdb'));
    const outs = [join(dir, 'export-a'), join(dir, 'export-b'), join(dir, 'export-a')];
    for (const out of outs) {
      const r = dareSync('export', runDir, '--tensorboard', out);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/: 6 steps, \d+ events of \d+ scalar tags/);
    }
    expect(readdirSync(join(dir, 'export-a'))).toEqual(live);
    expect(readdirSync(join(dir, 'export-b'))).toEqual(live);
    const bytes = readFileSync(join(runDir, 'tensorboard', live[0]));
    expect(readFileSync(join(dir, 'export-a', live[0])).equals(bytes)).toBe(true);
    expect(readFileSync(join(dir, 'export-b', live[0])).equals(bytes)).toBe(true);
    expect(sha(join(runDir, 'log', 'data.mdb'))).toBe(logBefore);
  });

  it('TensorBoard\'s reader sees every step\'s metrics: tags, steps, values and logged times as the log gives them', () => {
    const tb = readWithTensorboard(join(runDir, 'tensorboard'));
    expect(tb.file_version).toBe(2);
    expect(tb.first_records).toHaveLength(1);
    expect(tb.first_records[0].file_version).toBe('brain.Event:2');
    // protobuf's own serializer gives back every record's bytes
    expect(tb.reserialized_equal).toBe(tb.records);
    const want = expectedScalars(loggedEvents(runDir));
    expect(Object.keys(tb.scalars).sort()).toEqual(Object.keys(want).sort());
    expect(byStep(tb.scalars)).toEqual(want);
    // what the scalars are: six steps of training, evaluations before training and at steps 3 and 6, per category too
    expect(tb.scalars['train/reward'].map((p) => p[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tb.scalars['eval/accuracy'].map((p) => p[0])).toEqual([0, 3, 6]);
    for (const tag of ['update/kl', 'update/entropy', 'update/grad_norm', 'time/rollout', 'tiers/medium', 'eval/oracle_accuracy', 'estimator/meanEss']) expect(tb.scalars[tag], tag).toBeDefined();
    expect(Object.keys(tb.scalars).filter((t) => /^eval\/[^/]+\/accuracy$/.test(t)).length).toBeGreaterThan(0);
    // each record is one step's: one point per tag and step
    for (const [tag, points] of Object.entries(tb.scalars)) expect(new Set(points.map((p) => p[0])).size, tag).toBe(points.length);
  });

  it('export errors are one line naming what is at fault', () => {
    const none = dareSync('export', runDir);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/name an output: -o DIR \(the model\) or --tensorboard DIR/);
    const noRun = dareSync('export', join(dir, 'nothing'), '--tensorboard', join(dir, 'x'));
    expect(noRun.status).toBe(1);
    expect(noRun.stderr).toMatch(/not a run directory/);
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'events.out.tfevents.1.elsewhere'), '');
    const mixed = dareSync('export', runDir, '--tensorboard', other);
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toMatch(/already holds other event files \(events\.out\.tfevents\.1\.elsewhere\)/);
  });
});
