#!/usr/bin/env python3
"""Read a dare run's event log with standard libraries only (Debian: python3-lmdb, python3-msgpack).

    /usr/bin/python3 docs/examples/read_log.py RUN_DIR [--type TYPE] [--limit N]

Prints one JSON object per event: {"seq": N, ...event}, binary fields decoded to lists of numbers using
the dtypes the log itself records in meta/format (see docs/log-format.md).
"""
import argparse
import array
import json
import math
import os
import sys

import lmdb
import msgpack

DTYPES = {"u1": "B", "u2": "H", "u4": "I", "i4": "i", "f4": "f", "f8": "d"}


def decode_bin(raw, dtype):
    a = array.array(DTYPES[dtype])
    if a.itemsize != {"u1": 1, "u2": 2, "u4": 4, "i4": 4, "f4": 4, "f8": 8}[dtype]:
        raise SystemExit(f"unexpected item size for {dtype} on this platform")
    a.frombytes(raw)
    if sys.byteorder != "little":
        a.byteswap()  # the log stores little-endian bytes
    return [None if isinstance(x, float) and not math.isfinite(x) else x for x in a]


def read_events(run_dir, type_filter=None, limit=None):
    path = os.path.join(run_dir, "log")
    if not os.path.exists(os.path.join(path, "data.mdb")):
        raise SystemExit(f"{run_dir}: not a run directory (no log/data.mdb)")
    env = lmdb.open(path, max_dbs=8, readonly=True, lock=False, subdir=True)
    events = env.open_db(b"events", create=False)
    meta = env.open_db(b"meta", create=False)
    with env.begin() as txn:
        fmt = msgpack.unpackb(txn.get(b"format", db=meta), raw=False)
        binary = fmt["binaryFields"]
        n = 0
        for key, value in txn.cursor(db=events):
            seq = int.from_bytes(key, "big")
            ev = msgpack.unpackb(value, raw=False)
            if type_filter and ev["type"] != type_filter:
                continue
            for field, dtype in binary.get(ev["type"], []):
                ev["data"][field] = decode_bin(ev["data"][field], dtype)
            yield {"seq": seq, **ev}
            n += 1
            if limit is not None and n >= limit:
                return


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--type")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    for ev in read_events(args.run_dir, args.type, args.limit):
        print(json.dumps(ev, allow_nan=False))


if __name__ == "__main__":
    main()
