/** For tests of the hf worker: the project's venv (make setup-venv) and models built or prepared by setup. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, VENV_PYTHON } from '../../gpu-bridge/workerFactory.ts';

/** The pretrained model `make setup-model` prepares. */
export const SMOLLM2_DIR = join(REPO_ROOT, 'models', 'smollm2-135m-instruct');

/**
 * The venv's python, or an error that says how to make it: the hf tests fail rather than skip without it
 * (make test builds it first).
 */
export function venvPython(): string {
  if (!existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} is missing: run \`make setup-venv\` (make test does)`);
  return VENV_PYTHON;
}

/** The SmolLM2 model directory, or an error naming the setup step. */
export function smollm2Dir(): string {
  if (!existsSync(join(SMOLLM2_DIR, 'dare-model.json'))) throw new Error(`${SMOLLM2_DIR} is missing: run \`make setup-model\` (make test does)`);
  return SMOLLM2_DIR;
}

/**
 * Writes a randomly initialised Hugging Face model (`llama`, `qwen2` or `gpt2`, dare_worker/synthetic.py)
 * with its byte-level tokenizer to `dir`; `config` overrides the tiny defaults (hidden 32, 2 layers, ...).
 */
export function buildTinyHfModel(dir: string, arch: 'llama' | 'qwen2' | 'gpt2', config: Record<string, number> = {}): void {
  const code = [
    'import json, sys',
    'from dare_worker.synthetic import build_tiny_model',
    'build_tiny_model(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3]))',
  ].join('\n');
  execFileSync(venvPython(), ['-c', code, dir, arch, JSON.stringify(config)], {
    env: { ...process.env, PYTHONPATH: join(REPO_ROOT, 'gpu-bridge', 'python'), OPENBLAS_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}
