"""Read a TensorBoard log directory with TensorBoard's own reader and print what it saw as one JSON object.

    python read_tensorboard.py DIR

{"file_version": ..., "files": [...], "first_records": [...], "scalars": {tag: [[step, wall_time, value], ...]},
 "records": N, "reserialized_equal": N}: scalars as EventAccumulator gives them (every value kept, in read order,
so a step written twice shows twice); per file, the first record's file_version; and how many raw records
(event_file_loader's RawEventFileLoader) protobuf's own serializer gives back byte for byte. Non-finite values
are written as the strings "NaN", "Infinity", "-Infinity".
"""
import json
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import event_pb2


def num(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def main(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    scalars = {tag: [[e.step, e.wall_time, num(e.value)] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    files = sorted(f for f in os.listdir(path) if "tfevents" in f)
    records = 0
    same = 0
    first = []
    for f in files:
        for i, raw in enumerate(event_file_loader.RawEventFileLoader(os.path.join(path, f)).Load()):
            ev = event_pb2.Event.FromString(raw)
            if i == 0:
                first.append({"file": f, "file_version": ev.file_version, "wall_time": ev.wall_time})
            records += 1
            same += ev.SerializeToString(deterministic=True) == raw
    print(json.dumps({
        "file_version": acc.file_version,
        "files": files,
        "first_records": first,
        "scalars": scalars,
        "records": records,
        "reserialized_equal": same,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
