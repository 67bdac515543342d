/**
 * run.tensorboard across a kill: a sim run exported while it goes, killed with -9 mid-run, its event file's
 * last record then cut short (what a kill during a write leaves), and resumed. The killed process's file is
 * left as it was; the resumed process writes a file of its own, sorted after it, holding what the first lacks
 * (the cut record's step included) and the rest of the run: TensorBoard's reader over the directory sees each
 * (tag, step) once, with exactly the values and times of an export of the final log.
 */
import { readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventFilesIn } from '../../run/tensorboard/liveWriter.ts';
import { scalarRecordsOfLog } from '../../run/tensorboard/export.ts';
import { loggedEvents, simScenario, testDir, until, withRunLog } from '../support/live.ts';
import { logHas, runDare } from '../support/runs.ts';
import { byStep, expectedScalars, readWithTensorboard } from '../support/tensorboard.ts';

const { dir, file } = testDir('dare-tb-resume-', {
  sim: simScenario({ run: { steps: 16, evalEvery: 4, snapshotEvery: 100, tensorboard: true } }),
});

describe('TensorBoard event files of a killed and resumed run', () => {
  it('hold every step once, as the export of the final log', async () => {
    const runDir = join(dir, 'run');
    const tbDir = join(runDir, 'tensorboard');
    // every update held 300 ms: slow enough to export the live run and kill it mid-run
    const a = runDare(['run', file('sim'), '--run-dir', runDir], { DARE_FAULT_PAUSE: 'update:300' });

    // an export of the live run's log
    await until('step 2 to be logged', () => logHas(runDir, 'UpdateCompleted/2'), 60_000);
    const ex = runDare(['export', runDir, '--tensorboard', join(dir, 'while-live')]);
    expect(await ex.exit, ex.stderr()).toBe(0);
    const whileLive = readWithTensorboard(join(dir, 'while-live'));
    expect(whileLive.scalars['train/reward'].map((p) => p[0]).slice(0, 2)).toEqual([1, 2]);

    const killed = await a.killWhen(() => logHas(runDir, 'UpdateCompleted/10'), 60_000);
    expect(killed, `the run ended before it could be killed:\n${a.stderr().slice(-2000)}`).toBe(true);
    expect(logHas(runDir, 'RunCompleted')).toBe(false);
    const [first, ...none] = readdirSync(tbDir);
    expect(none).toEqual([]);
    const firstPath = join(tbDir, first);
    const whole = eventFilesIn(tbDir).written;
    truncateSync(firstPath, readFileSync(firstPath).length - 5);
    const cut = readFileSync(firstPath);
    const held = eventFilesIn(tbDir);
    expect(held.torn).toEqual([first]);
    expect(held.written.size).toBeGreaterThan(0);
    const lost = [...whole].filter((id) => !held.written.has(id));
    expect(lost).toHaveLength(1);

    const r = runDare(['resume', runDir]);
    expect(await r.exit, `resume failed:\n${r.stderr().slice(-4000)}`).toBe(0);
    expect(r.stderr()).toContain('tensorboard: wrote what the event files lacked');

    const files = readdirSync(tbDir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe(first);
    expect(readFileSync(firstPath).equals(cut)).toBe(true);
    // the two files hold every source event of the log, the one whose record was cut included
    const both = eventFilesIn(tbDir);
    expect(both.torn).toEqual([first]);
    const exported = withRunLog(runDir, (log) => scalarRecordsOfLog(log).records);
    expect([...both.written].sort()).toEqual(exported.map((x) => x.id).sort());
    expect(both.written.has(lost[0])).toBe(true);

    const out = join(dir, 'export');
    const e = runDare(['export', runDir, '--tensorboard', out]);
    expect(await e.exit, e.stderr()).toBe(0);
    const fromExport = readWithTensorboard(out);
    const fromRun = readWithTensorboard(tbDir);
    expect(fromRun.first_records.map((f) => f.file_version)).toEqual(['brain.Event:2', 'brain.Event:2']);
    // two files: one file_version record more than the export, and not one Event more
    expect(fromRun.records).toBe(fromExport.records + 1);
    expect(fromRun.reserialized_equal).toBe(fromRun.records);
    for (const [tag, points] of Object.entries(fromRun.scalars)) expect(new Set(points.map((p) => p[0])).size, tag).toBe(points.length);
    expect(byStep(fromRun.scalars)).toEqual(byStep(fromExport.scalars));
    expect(byStep(fromRun.scalars)).toEqual(expectedScalars(loggedEvents(runDir)));
    expect(fromRun.scalars['train/reward'].map((p) => p[0])).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  }, 180_000);
});
