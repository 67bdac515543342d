/** `dare check`: print what run/check.ts found; exit 1 when anything is wrong, naming the first problem. */
import { EXIT } from '../events/errors.ts';
import { checkRun } from '../run/check.ts';

export async function checkCommand(dir: string, o: { deep: boolean; json: boolean }): Promise<number> {
  const r = await checkRun(dir, { deep: o.deep });
  if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
  else if (r.problems.length === 0) {
    const sums = r.checksummed === r.events ? 'every one checksummed' : `${r.checksummed} checksummed (a log from before checksums)`;
    process.stdout.write(`${dir}: ok — ${r.events} events (${sums}), ${o.deep ? `${r.blobs} rollout blobs read, ` : ''}${r.prompts} prompts, ${r.checkpoints} checkpoints${o.deep ? ' hashed' : ''}\n`);
  } else {
    const first = r.problems[0];
    process.stderr.write(`dare: ${dir}: damaged log: ${first.seq !== undefined ? `first bad seq ${first.seq}: ` : ''}${first.what}\n`);
    for (const p of r.problems.slice(1)) process.stdout.write(`  ${p.seq !== undefined ? `seq ${p.seq}: ` : ''}${p.what}\n`);
  }
  return r.problems.length === 0 ? EXIT.ok : EXIT.user;
}
