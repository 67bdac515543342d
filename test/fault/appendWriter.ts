/**
 * A writer process for the kill -9 test: appends batches of ~200-byte events to the log in argv[2] and
 * prints "ack <first> <last>" after each batch is durable. Continues from whatever the log already holds.
 */
import { makeEvent } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { Prng } from '../../events/prng.ts';

const dir = process.argv[2];
const round = Number(process.argv[3] ?? 0);
const log = EventLog.open(dir);
const prng = new Prng({ seed: 7, step: round, purpose: 'writer' });
let n = log.lastSeq();
for (;;) {
  const size = 1 + prng.nextInt(200);
  const batch = [];
  for (let i = 0; i < size; i++) {
    n++;
    batch.push(
      makeEvent('RunFailed', { reason: `event ${n} `.padEnd(150, 'x') }, { run: 'kill', id: `w/${n}`, ts: 0 }),
    );
  }
  const res = await log.append(batch);
  process.stdout.write(`ack ${res[0].seq} ${res[res.length - 1].seq}\n`);
}
