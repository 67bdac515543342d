"""Entry point: `python -m dare_worker --kind tiny|hf`.

stdin/stdout carry frames only. The real stdout is kept on a private descriptor and fd 1 is pointed at
stderr, so a stray print (ours or a library's) can never corrupt the frame stream.
Exit codes: 0 after `shutdown` or when stdin closes between frames; 3 on a protocol error; 2 on bad
command-line arguments; 1 after the reply to a job that lost a data-parallel rank (ranks.py).
"""
from __future__ import annotations

import os

# Before torch (imported lazily by jobs.py) loads its BLAS: one OpenBLAS thread; torch uses 2 threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Spinning OpenMP threads collapse throughput (10x measured) when the cores are shared with other
# processes, e.g. the node bridge on a 2-core machine; passive waiting costs little when they are not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# cuBLAS needs this before the CUDA context exists for deterministic GEMMs (ignored on CPU).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import argparse  # noqa: E402
import sys  # noqa: E402

from .protocol import PROTOCOL_EXIT_CODE, FrameReader, FrameWriter, ProtocolError, parse_request  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dare_worker", description="dare PyTorch worker")
    parser.add_argument("--kind", required=True, choices=("tiny", "hf"))
    opts = parser.parse_args(argv)

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    reader = FrameReader(sys.stdin.buffer)
    writer = FrameWriter(out)
    worker = None
    try:
        while True:
            msg = reader.read()
            if msg is None:
                print("dare_worker: stdin closed, exiting", file=sys.stderr)
                if worker is not None:
                    worker.close()  # the follower ranks of a data-parallel worker (ranks.py)
                return 0
            rid, job, args = parse_request(msg)
            if worker is None:
                from .jobs import Worker  # torch is imported here, after the first well-formed request

                worker = Worker(opts.kind)
            frame, stop = worker.handle(rid, job, args)
            try:
                writer.write(frame)
            except BrokenPipeError:
                print("dare_worker: stdout closed by the reader, exiting", file=sys.stderr)
                return PROTOCOL_EXIT_CODE
            if stop:
                return 0
            if worker.fatal is not None:  # data-parallel ranks lost: the supervisor restarts the whole group
                print(f"dare_worker: {worker.fatal}; exiting", file=sys.stderr)
                worker.close()
                return 1
    except ProtocolError as e:
        print(f"dare_worker: protocol error: {e}", file=sys.stderr)
        return PROTOCOL_EXIT_CODE


if __name__ == "__main__":
    sys.exit(main())
