/** For tests that run scenarios in process (run/runner.ts) over the suite's nats-server (test/globalSetup.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import { tempDir } from './tmp.ts';

/** The suite's nats-server, as runScenario's and resumeRun's `nats`. */
export function sharedNats(): { url: string; token: string } {
  return { url: inject('natsUrl'), token: inject('natsToken') };
}

/** A temporary directory, removed after the calling file's tests, with `scenario` written to sim.json in it. */
export function scenarioDir(prefix: string, scenario: object): { dir: string; sc: string } {
  const { dir, cleanup } = tempDir(prefix);
  afterAll(cleanup);
  const sc = join(dir, 'sim.json');
  writeFileSync(sc, JSON.stringify(scenario));
  return { dir, sc };
}
