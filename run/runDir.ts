/** A run directory's files (DESIGN §11): the run id its name gives, JSON read with errors naming the file, atomic writes. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { UserError } from '../events/errors.ts';
import { RUN_ID_PATTERN } from '../events/subjects.ts';

export function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: ${what} not found`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** The run id (NATS subject token) of a run directory: its name, with other characters as `_`. */
export function runIdOf(runDir: string): string {
  const id = basename(resolve(runDir)).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  if (!RUN_ID_PATTERN.test(id)) throw new UserError(`${runDir}: cannot derive a run id from this directory name`);
  return id;
}

/** Write a whole file so that a reader (or a kill) sees the old content or the new one, never a part. */
export function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export async function writeAtomicAsync(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}
