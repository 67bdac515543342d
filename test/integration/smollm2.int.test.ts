/**
 * Two RL steps of scenarios/smollm2-arith.json on the pretrained SmolLM2-135M-Instruct (make setup-model):
 * real rollouts, rewards from the chat-arithmetic verifier, SNIS scoring, one update per step over NATS on
 * the CPU. The update changed the weights (the exported final checkpoint differs from the model directory),
 * the log replay-verifies, and `dare export` writes a directory plain transformers loads. Never skipped:
 * without the venv or the model it fails and says which setup step makes them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../run/replay.ts';
import { EventLog } from '../../store/eventLog.ts';
import { smollm2Dir, venvPython } from '../support/hf.ts';
import { runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-smollm2-');
afterAll(cleanup);

describe('SmolLM2-135M-Instruct, two RL steps on the CPU', () => {
  it('updates the weights, replay-verifies, and exports', async () => {
    const python = venvPython();
    const model = smollm2Dir();
    const runDir = join(dir, 'run');
    const sets = [
      'run.batchSize=3', 'run.checkpointEvery=2', 'run.evalEvery=2', 'run.evalSize=3', 'task.count=24', 'task.evalCount=3',
      'task.maxResponseTokens=24', 'sampler.gEasy=2', 'sampler.gMedium=2', 'sampler.gHard=2', `worker.model=${model}`,
    ].flatMap((s) => ['--set', s]);
    const p = runDare(['run', 'scenarios/smollm2-arith.json', '--run-dir', runDir, '--steps', '2', ...sets]);
    expect(await p.exit, p.stderr().slice(-3000)).toBe(0);

    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const events = [...log.iterate(1)].map((e) => e.event);
      const updates = events.filter((e) => e.type === 'UpdateCompleted');
      expect(updates).toHaveLength(2);
      for (const u of updates) {
        if (u.type !== 'UpdateCompleted') continue;
        expect(u.data.tokens).toBeGreaterThan(0);
        expect(u.data.logprobParity?.maxAbs).toBeLessThan(1e-3);
      }
      const rewards = events.flatMap((e) => (e.type === 'RolloutCompleted' ? [...e.data.reward] : []));
      expect(rewards.length).toBeGreaterThanOrEqual(6);
      expect(rewards.every((r) => r === 0 || r === 1)).toBe(true);
      expect(events.some((e) => e.type === 'EvalCompleted')).toBe(true);
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { policyVersion: number };
    expect(summary.policyVersion).toBe(2);

    // the final checkpoint as a Hugging Face directory, loaded by plain transformers: weights moved
    const out = join(dir, 'export');
    const ex = runDare(['export', runDir, '-o', out]);
    expect(await ex.exit, ex.stderr().slice(-3000)).toBe(0);
    expect(ex.stdout()).toContain('policy version 2');
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    const code = [
      'import sys, torch',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      'a = AutoModelForCausalLM.from_pretrained(sys.argv[1], local_files_only=True).state_dict()',
      'b = AutoModelForCausalLM.from_pretrained(sys.argv[2], local_files_only=True).state_dict()',
      'AutoTokenizer.from_pretrained(sys.argv[2], local_files_only=True)',
      'print(max(float((a[k] - b[k]).abs().max()) for k in a))',
    ].join('\n');
    const delta = Number(execFileSync(python, ['-c', code, model, out], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    expect(delta).toBeGreaterThan(0);
    expect(delta).toBeLessThan(0.1);
  }, 600_000);
});
