"""Data-parallel `update` over N ranks (init arg `ranks`; run config `worker.ranks`; docs/deploy.md).

Layout. The worker process the bridge talks to is rank 0. At `init` with ranks = N > 1 it starts ranks 1..N-1
itself, as `python -m dare_worker.rank_follower` child processes on the same host, and joins them in a
torch.distributed process group (gloo on the CPU, NCCL with one GPU per rank on CUDA; rendezvous on
127.0.0.1 and a free port). The bridge still sees one worker speaking one protocol, so the supervisor's
restart / restore recipe is unchanged: a restart restarts every rank.

Commands. Rank 0 writes each job that changes the training state (`init`, `update`, `load`) to every
follower's stdin pipe (a length-prefixed pickle of (job, args)) before running it itself; a follower runs the
same handler on the same args, so validation, the parsed rows and the global loss normalisers are the same on
every rank. `sft` runs on rank 0 only; its weights are then broadcast (`sync`). Rollouts, scoring, eval,
export and `save` stay on rank 0 (the replicas are identical, so any rank's weights are the run's weights;
checkpoints are written by rank 0 only and read by every rank on `load`).

Why DDP-style replicas and not FSDP: the models trained here are <= 0.5B parameters, so a full replica with
its AdamW moments (16 bytes/param: 8 GB at 0.5B) fits on one GPU; FSDP's sharding only pays when it does not,
and costs an all-gather per layer per forward. Why an explicit gradient all-reduce instead of wrapping the
model in torch's DistributedDataParallel: (1) the Policy's forward goes through `Policy.hidden` / `logits`,
not the module's `__call__`, which DDP's reducer hooks into; (2) the shards are uneven, so ranks run
different numbers of micro-batches (DDP would hang without `join()`), and a rank may hold no row at all;
(3) the loss is already a SUM of per-row terms with global normalisers (losses.token_coefficients and
/ total_tokens for the entropy and KL terms, computed from the whole batch on every rank), so the SUM of the
ranks' gradients is the full-batch gradient exactly, whatever the micro-batching; DDP's mean over the world
size would have to be undone. The all-reduce runs once per update, after every micro-batch's backward (the
gradient accumulation), in buckets like DDP's; then every rank clips the same global norm and takes the same
AdamW step, so the replicas stay bitwise equal (gloo and NCCL all-reduce hand every rank the same bytes).

Shutdown. A follower exits when its stdin pipe closes (rank 0 ended, closed it, or was killed -9: the kernel
closes the pipe), when its parent pid changes (a watchdog thread) or, on Linux, by PR_SET_PDEATHSIG. A
follower that fails a command exits, which breaks rank 0's next collective; rank 0 then reports the job as an
internal error and exits after the reply (`Worker.fatal`), so the supervisor restarts the whole group.
"""
from __future__ import annotations

import datetime
import os
import pickle
import socket
import struct
import subprocess
import sys
import time

import torch
import torch.distributed as dist

MIRRORED = ("update", "load")  # jobs every rank runs with the same args (init is sent by Ranks itself)
BUCKET_ELEMS = 1 << 22  # gradient all-reduce bucket: 4M elements (16 MB in float32), like DDP's 25 MB


class RanksLost(Exception):
    """A follower rank exited or a collective failed: the worker cannot go on (rank 0 exits after replying)."""


def token_shard(idx: list[int], lens: list[int], rank: int, world: int) -> list[int]:
    """Rank `rank`'s contiguous share of the rows `idx` (lens: tokens per row), balanced by tokens: row k goes
    to rank ⌊(tokens before k) · world / total⌋. A pure function of the batch, the same on every rank."""
    total = sum(lens)
    if world == 1 or total == 0:
        return list(idx)
    out, before = [], 0
    for i, n in zip(idx, lens):
        if min(world - 1, before * world // total) == rank:
            out.append(i)
        before += n
    return out


class DataParallel:
    """What the Engine calls on every rank (Engine.dist): the shard, the gradient sum, the merged statistics."""

    def __init__(self, rank: int, world: int):
        self.rank = rank
        self.world = world

    def shard(self, idx: list[int], lens: list[int]) -> list[int]:
        return token_shard(idx, lens, self.rank, self.world)

    def all_reduce_grads(self, params: list[torch.Tensor]) -> None:
        """Sum every parameter's gradient over the ranks. A parameter no row of this rank reached (grad None,
        e.g. an empty shard) takes part with zeros; one no rank reached keeps grad None, as in one process."""
        if not params:
            return
        has = torch.tensor([0.0 if p.grad is None else 1.0 for p in params], device=params[0].device)
        dist.all_reduce(has)
        live = [p for p, h in zip(params, has.tolist()) if h > 0]
        for p in live:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        bucket: list[torch.Tensor] = []
        size = 0
        for p in live + [None]:
            if p is not None and (not bucket or (p.grad.dtype == bucket[0].grad.dtype
                                                 and p.grad.device == bucket[0].grad.device
                                                 and size + p.numel() <= BUCKET_ELEMS)):
                bucket.append(p)
                size += p.numel()
                continue
            if bucket:
                flat = torch.cat([q.grad.reshape(-1) for q in bucket])
                dist.all_reduce(flat)
                off = 0
                for q in bucket:
                    q.grad.copy_(flat[off:off + q.numel()].view_as(q.grad))
                    off += q.numel()
            if p is not None:
                bucket, size = [p], p.numel()

    def merge_stats(self, sums: dict, parity: dict, bin_sum: dict, bin_cnt: dict):
        """The update's statistics over the whole batch: sums added in rank order, the parity max taken."""
        mine = (sums, parity, bin_sum, bin_cnt)
        every: list = [None] * self.world
        dist.all_gather_object(every, mine)
        s_out = {k: 0.0 for k in sums}
        p_out = {"max": 0.0, "sum": 0.0, "n": 0}
        b_sum: dict = {}
        b_cnt: dict = {}
        for s, p, bs, bc in every:
            for k in s_out:
                s_out[k] += s[k]
            p_out["max"] = max(p_out["max"], p["max"])
            p_out["sum"] += p["sum"]
            p_out["n"] += p["n"]
            for k, v in bs.items():
                b_sum[k] = b_sum.get(k, 0.0) + v
            for k, v in bc.items():
                b_cnt[k] = b_cnt.get(k, 0) + v
        return s_out, p_out, b_sum, b_cnt

    def broadcast_model(self, model: torch.nn.Module) -> None:
        """Rank 0's weights (every state_dict tensor, in name order) onto every rank, in place."""
        for _, t in sorted(model.state_dict().items()):
            dist.broadcast(t, src=0)

    def state_hashes(self, engine) -> list[str]:
        """Every rank's Engine.state_hash (tests: the replicas hold the same weights)."""
        every: list = [None] * self.world
        dist.all_gather_object(every, engine.state_hash())
        return every


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(os.environ.get("DARE_RANKS_TIMEOUT_S", "1800")))


class Ranks:
    """Rank 0's side: the follower processes, their command pipes and the process group."""

    def __init__(self, world: int, kind: str, cuda: bool):
        self.world = world
        self.backend = "nccl" if cuda else "gloo"
        port = _free_port()
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                   DARE_DIST_BACKEND=self.backend,
                   PYTHONPATH=os.pathsep.join(filter(None, [pkg_parent, os.environ.get("PYTHONPATH")])))
        self.procs: list[subprocess.Popen] = []
        for r in range(1, world):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "dare_worker.rank_follower", "--kind", kind, "--parent", str(os.getpid())],
                stdin=subprocess.PIPE, stdout=2, env=dict(env, RANK=str(r)), close_fds=True))
        try:
            dist.init_process_group(self.backend, init_method=f"tcp://127.0.0.1:{port}", rank=0,
                                    world_size=world, timeout=timeout())
        except Exception:
            self.close()
            raise
        self.dp = DataParallel(0, world)

    def check(self) -> None:
        for r, p in enumerate(self.procs, start=1):
            code = p.poll()
            if code is not None:
                raise RanksLost(f"rank {r} of {self.world} exited with code {code}")

    def send(self, job: str, args: dict) -> None:
        """(job, args) to every follower; raises RanksLost when one is gone."""
        self.check()
        body = pickle.dumps((job, args), protocol=pickle.HIGHEST_PROTOCOL)
        frame = struct.pack(">Q", len(body)) + body
        for r, p in enumerate(self.procs, start=1):
            try:
                p.stdin.write(frame)
                p.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise RanksLost(f"rank {r} of {self.world} is gone ({e})") from None

    def state_hashes(self, engine) -> list[str]:
        """Every rank's weights hash, rank order (tests and checks: the replicas must be the same bytes)."""
        self.send("hashes", {})
        return self.dp.state_hashes(engine)

    def close(self, timeout_s: float = 20.0) -> None:
        """End the followers (stdin closed: they leave the loop) and the process group."""
        for p in self.procs:
            try:
                p.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + timeout_s
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        if dist.is_initialized():
            dist.destroy_process_group()


# ---------------------------------------------------------------------- follower ranks
