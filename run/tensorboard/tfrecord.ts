/**
 * TFRecord framing, the container of TensorBoard's event files: per record
 *   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data
 * (tensorflow/core/lib/io/record_writer.cc). A reader stops at the first record that is cut short or fails a
 * checksum, as TensorBoard's does: what a killed writer left half-written is not data.
 */
import { maskedCrc32c } from './crc32c.ts';

/** One record framed: 16 bytes around `data`. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length % 0x1_0000_0000, true);
  v.setUint32(4, Math.floor(data.length / 0x1_0000_0000), true);
  v.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export interface TfRecords {
  /** the records' data, in order, up to the first bad one */
  records: Uint8Array[];
  /** bytes of whole, valid records from the start */
  validBytes: number;
  /** why reading stopped before the end: 'truncated' (a record cut short) or 'checksum'; null at the end */
  stopped: 'truncated' | 'checksum' | null;
}

/** The records of a TFRecord file's bytes (views into `buf`, not copies). */
export function readTfRecords(buf: Uint8Array): TfRecords {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 12) return { records, validBytes: at, stopped: 'truncated' };
    if (v.getUint32(at + 8, true) !== maskedCrc32c(buf.subarray(at, at + 8))) return { records, validBytes: at, stopped: 'checksum' };
    const len = v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
    if (buf.length - at - 16 < len) return { records, validBytes: at, stopped: 'truncated' };
    const data = buf.subarray(at + 12, at + 12 + len);
    if (v.getUint32(at + 12 + len, true) !== maskedCrc32c(data)) return { records, validBytes: at, stopped: 'checksum' };
    records.push(data);
    at += 16 + len;
  }
  return { records, validBytes: at, stopped: null };
}
