"""A follower rank of a data-parallel worker (ranks.py): started by rank 0 as
`python -m dare_worker.rank_follower`, it joins the process group, then runs every job rank 0 forwards on its
stdin (length-prefixed pickles) until rank 0 closes the pipe or dies. Its own module so that ranks.py, which
jobs.py uses, does not import jobs.py back.
"""
from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time

import torch
import torch.distributed as dist

from .jobs import Worker
from .protocol import BadRequest
from .ranks import DataParallel, timeout


def _die_with_parent(parent: int) -> None:
    try:  # Linux: SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG = 1)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _read_command(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None
    (n,) = struct.unpack(">Q", head)
    body = stream.read(n)
    if len(body) < n:
        return None
    return pickle.loads(body)


def follower_main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dare_worker.rank_follower")
    parser.add_argument("--kind", required=True, choices=("tiny", "hf"))
    parser.add_argument("--parent", required=True, type=int)
    opts = parser.parse_args(argv)
    _die_with_parent(opts.parent)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    backend = os.environ.get("DARE_DIST_BACKEND", "gloo")
    if backend == "nccl":
        torch.cuda.set_device(rank)  # one GPU per rank; "cuda" then means this rank's GPU
    dist.init_process_group(backend, init_method=f"tcp://{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}",
                            rank=rank, world_size=world, timeout=timeout())
    worker = Worker(opts.kind, dp=DataParallel(rank, world))
    stdin = sys.stdin.buffer
    while True:
        cmd = _read_command(stdin)
        if cmd is None:  # rank 0 closed the pipe or is gone
            break
        job, args = cmd
        try:
            if job == "init":
                worker.job_init(args)
            elif job == "sync":
                worker.sync_from_rank0(args)
            elif job == "hashes":
                worker.engine.dist.state_hashes(worker.engine)
            else:
                worker.handlers[job](args)
        except BadRequest:
            pass  # rank 0 ran the same validation on the same args and answered it; no collective ran
        except Exception as e:  # noqa: BLE001 - this rank can no longer follow: exit, rank 0 sees it
            import traceback

            traceback.print_exc(file=sys.stderr)
            print(f"dare_worker rank {rank}: {job} failed ({type(e).__name__}: {e}); exiting", file=sys.stderr)
            os._exit(1)
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(follower_main())
