/**
 * TensorBoard event files (run/tensorboard/): CRC-32C against its standard check values, TFRecord framing,
 * the protobuf bytes of Event / Summary / Value worked out by hand field by field, and reading our own files
 * back up to a record cut short.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from '../../run/tensorboard/crc32c.ts';
import { decodeEvent, encodeScalarEvent, encodeVersionEvent, eventFileBytes, eventFileName } from '../../run/tensorboard/eventFile.ts';
import { eventFilesIn } from '../../run/tensorboard/liveWriter.ts';
import { readTfRecords, tfRecord } from '../../run/tensorboard/tfrecord.ts';
import { tempDir } from '../support/tmp.ts';

const ascii = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** bit by bit, from the definition: reflected 0x82F63B78, init and final xor 0xFFFFFFFF */
function crc32cBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('CRC-32C', () => {
  it('gives the standard check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('is not zlib\'s CRC-32 (whose check value is 0xCBF43926)', () => {
    expect(crc32c(ascii('123456789'))).not.toBe(0xcbf43926);
  });

  it('agrees with the bitwise definition at every length and offset (the sliced loop and its tail)', () => {
    const data = Uint8Array.from({ length: 97 }, (_, i) => (i * 37 + 11) & 0xff);
    for (let from = 0; from < 5; from++) for (let n = 0; from + n <= data.length; n += 7) expect(crc32c(data.subarray(from, from + n))).toBe(crc32cBitwise(data.subarray(from, from + n)));
  });

  it('masks as TFRecord does: ((crc >>> 15) | (crc << 17)) + 0xa282ead8', () => {
    // crc 0xe3069283: rotated right by 15 = 0x25078c0d (low 15 bits 0x1283 moved up); + 0xa282ead8 = 0xc78ab0e5 (mod 2^32)
    expect(maskedCrc32c(ascii('123456789'))).toBe(0xc78ab0e5);
  });
});

describe('TFRecord framing', () => {
  it('frames "abc" as TensorBoard\'s own RecordWriter does', () => {
    // uint64 length 3 | masked crc of those 8 bytes | "abc" | masked crc of "abc"
    expect(hex(tfRecord(ascii('abc')))).toBe('0300000000000000' + 'b099490e' + '616263' + '6e57f121');
  });

  it('reads records back and stops at one cut short or failing its checksum', () => {
    const a = tfRecord(ascii('first'));
    const b = tfRecord(ascii('second'));
    const whole = new Uint8Array([...a, ...b]);
    const r = readTfRecords(whole);
    expect(r.records.map((x) => new TextDecoder().decode(x))).toEqual(['first', 'second']);
    expect(r).toMatchObject({ validBytes: whole.length, stopped: null });
    for (let cut = a.length + 1; cut < whole.length; cut++) {
      const t = readTfRecords(whole.subarray(0, cut));
      expect(t.records.length).toBe(1);
      expect(t).toMatchObject({ validBytes: a.length, stopped: 'truncated' });
    }
    const flipped = whole.slice();
    flipped[a.length + 14] ^= 1; // a byte of the second record's data
    expect(readTfRecords(flipped)).toMatchObject({ validBytes: a.length, stopped: 'checksum' });
    const zeros = new Uint8Array([...a, ...new Uint8Array(40)]); // what a crash can leave past the end of a file
    expect(readTfRecords(zeros)).toMatchObject({ validBytes: a.length, stopped: 'checksum' });
  });
});

describe('Event protobuf', () => {
  it('the file_version Event, by hand', () => {
    // field 1 wall_time, wire type 1: key 0x09, then 1.5 as a little-endian double (0x3ff8000000000000)
    // field 3 file_version, wire type 2: key 0x1a, length 13, "brain.Event:2"; step 0 is the default: left out
    expect(hex(encodeVersionEvent(1.5))).toBe('09' + '000000000000f83f' + '1a0d' + hex(ascii('brain.Event:2')));
  });

  it('an Event of scalars, by hand', () => {
    // 09 + double 1.5 | step 3: key 0x10, varint 03 | field 5 summary, wire 2: key 0x2a, length 12:
    //   Summary.value (field 1, wire 2): key 0x0a, length 10: Value.tag key 0x0a, length 3, "a/b";
    //   Value.simple_value (field 2, wire 5): key 0x15, float32 0.0 — written although 0 (a oneof member)
    expect(hex(encodeScalarEvent({ step: 3, wallTime: 1.5, values: [['a/b', 0]] }))).toBe('09000000000000f83f' + '1003' + '2a0c' + '0a0a' + '0a03612f62' + '1500000000');
    // wall_time 0 left out; step 300 = varint ac 02; two values: "x" = 0.5 (0x3f000000), and "" = -2 (0xc0000000) without a tag field
    expect(hex(encodeScalarEvent({ step: 300, wallTime: 0, values: [['x', 0.5], ['', -2]] }))).toBe('10ac02' + '2a11' + '0a08' + '0a0178' + '150000003f' + '0a05' + '15000000c0');
    // a step past 2^32 and a float that rounds: 2^33 + 1 = varint 81 80 80 80 20; 0.1 as float32 = 0x3dcccccd;
    // the Value is 3 + 5 = 8 bytes, the Summary 2 + 8 = 10
    expect(hex(encodeScalarEvent({ step: 2 ** 33 + 1, wallTime: 0, values: [['t', 0.1]] }))).toBe('108180808020' + '2a0a' + '0a08' + '0a0174' + '15cdcccc3d');
  });

  it('decodes what it encodes (values as float32)', () => {
    const e = decodeEvent(encodeScalarEvent({ step: 12, wallTime: 1_700_000_000.123, values: [['train/reward', 0.1], ['update/loss', NaN], ['é/ü', Infinity]] }));
    expect(e.step).toBe(12);
    expect(e.wallTime).toBe(1_700_000_000.123);
    expect(e.fileVersion).toBeNull();
    expect(e.values).toEqual([['train/reward', Math.fround(0.1)], ['update/loss', NaN], ['é/ü', Infinity]]);
    expect(decodeEvent(encodeVersionEvent(2))).toEqual({ wallTime: 2, step: 0, fileVersion: 'brain.Event:2', values: null });
    expect(() => decodeEvent(bytes('0a'))).toThrow(/past the end/);
  });

  it('names files events.out.tfevents.<unix seconds>.<host>', () => {
    expect(eventFileName(1_700_000_000.9, 'node-1')).toBe('events.out.tfevents.1700000000.node-1');
    expect(eventFileName(5, 'a/b')).toBe('events.out.tfevents.5.a_b');
  });
});

describe('reading event files back', () => {
  it('notes the source events an event file holds, up to a record cut short', () => {
    const { dir, cleanup } = tempDir('dare-tb-unit-');
    try {
      mkdirSync(dir, { recursive: true });
      const file = eventFileBytes([
        { step: 1, wallTime: 10, values: [['train/reward', 0.5], ['update/loss', 1]] },
        { step: 1, wallTime: 11, values: [['eval/accuracy', 0.25]] },
        { step: 2, wallTime: 12, values: [['train/reward', 0.75]] },
      ]);
      writeFileSync(join(dir, eventFileName(10, 'h')), file.subarray(0, file.length - 3));
      writeFileSync(join(dir, 'notes.txt'), 'not an event file');
      const found = eventFilesIn(dir);
      expect(found.files).toEqual(['events.out.tfevents.10.h']);
      expect([...found.written]).toEqual(['UpdateCompleted/1', 'EvalCompleted/1']);
      expect(found.torn).toEqual(['events.out.tfevents.10.h']);
    } finally {
      cleanup();
    }
  });
});
