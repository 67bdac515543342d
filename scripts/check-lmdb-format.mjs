// Exit 0 when the installed lmdb-js writes LMDB data format 1 (portable: standard LMDB tools and Python can
// read it), 1 when it writes another format, 2 when lmdb-js cannot be loaded. Used by `make setup`.
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let open;
try {
  ({ open } = await import('lmdb'));
} catch (e) {
  console.error(`lmdb-js cannot be loaded: ${e.message}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'dare-lmdb-format-'));
try {
  const env = open({ path: dir });
  await env.put('k', 'v');
  await env.flushed;
  await env.close();
  const fd = openSync(join(dir, 'data.mdb'), 'r');
  const buf = Buffer.alloc(24);
  readSync(fd, buf, 0, 24, 0);
  closeSync(fd);
  const version = buf.readUInt32LE(20);
  console.log(`lmdb-js writes LMDB data format ${version}`);
  process.exit(version === 1 ? 0 : 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
