/**
 * run/interrupts.ts: after a stop a signal asked for, the command ends with 128 + n, also when another signal
 * arrives while it tears down (after dispose): the signals test saw a second Ctrl-C, 100 ms after the first,
 * end the process by SIGINT's default action once the run had stopped.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const child = (afterDispose: 'SIGINT' | 'none') => `
  import { Interrupts } from './run/interrupts.ts';
  const log = { warn: () => undefined };
  const i = new Interrupts(log);
  i.arm(() => undefined);
  process.kill(process.pid, 'SIGINT');
  setTimeout(() => {
    i.dispose();
    ${afterDispose === 'SIGINT' ? "process.kill(process.pid, 'SIGINT');" : ''}
    setTimeout(() => process.exit(i.exitCode === 130 ? 7 : 8), 300);
  }, 100);
`;

function run(src: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
}

describe('Interrupts', () => {
  it('a signal after dispose, once a stop was asked for, exits 130 instead of dying by the signal', () => {
    const r = run(child('SIGINT'));
    expect(r.signal).toBeNull();
    expect(r.status).toBe(130);
  });
  it('without one, the command ends as it chooses (its exit code says the stop: 130)', () => {
    const r = run(child('none'));
    expect(r.status).toBe(7);
  });
});
