"""The data-parallel update (dare_worker/ranks.py) with 2 gloo ranks on the CPU, fp32, on the tiny random Llama
the hf tests use: the summed gradient and the weights after an update equal one process's to 1e-6 on a batch
whose shards differ in tokens, with micro-batch gradient accumulation; checkpoint / restore across 2 and 1
ranks; no follower outlives rank 0 (stdin closed, or kill -9). Rank 0 is the in-process Worker; rank 1 is
the child process it starts."""
import os
import signal
import struct
import subprocess
import sys
import time

import msgpack
import numpy as np
import pytest
import torch

from conftest import PKG_ROOT, ok
from dare_worker.protocol import encode_frame, f4_bytes
from dare_worker.ranks import token_shard
from dare_worker.synthetic import build_tiny_model

TOL = 1e-6


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hf-ddp-llama")
    build_tiny_model(str(d), "llama")
    return str(d)


def init_args(path, ranks=1, **extra):
    args = {"seed": 3, "kind": "hf", "modelPath": path, "device": "cpu", "deterministic": True, "ranks": ranks,
            "optim": {"lr": 1e-3, "weightDecay": 0.01, "gradClip": 1.0}, "maxPromptTokens": 48,
            "maxResponseTokens": 16}
    args.update(extra)
    return args


def worker(path, ranks=1, **extra):
    from dare_worker.jobs import Worker

    w = Worker("hf")
    res = ok(w, "init", init_args(path, ranks, **extra))
    assert res["ranks"] == ranks
    return w


def batch(w, seed=0, n=7):
    """Rows of very different response lengths (1..16 tokens): the two shards differ in tokens and rows."""
    rng = np.random.default_rng(seed)
    pol = w.engine.policy
    rows = []
    for k in range(n):
        prompt = pol.encode_prompt(f"{k}+{k * 3 % 10}=", "p")
        toks = rng.integers(3, pol.vocab_size, size=[1, 16, 2, 11, 5, 14, 3][k % 7]).astype(np.int64)
        rows.append((np.asarray(prompt, dtype=np.int64), toks))
    lps = w.engine.score(rows, 1.0)
    out = []
    for k, ((p, t), lp) in enumerate(zip(rows, lps)):
        old = lp + rng.normal(0, 0.2, size=len(lp)).astype(np.float32)  # some ratios clip
        out.append({"promptTokens": p.astype("<i4").tobytes(),
                    "tokens": t.astype("<i4").tobytes(), "oldLogprobs": f4_bytes(old),
                    "advantage": [1.0, -0.5, 0.8, -1.2, 0.3, -0.7, 1.5][k % 7], "clipLo": 0.8, "clipHi": 1.28,
                    "bin": k % 3, "weight": 1.0 + 0.1 * k})
    return out


def update_args(rows, aggregation, micro_batch, entropy=0.0, kl=0.0):
    args = {"rows": rows, "aggregation": aggregation, "temperature": 1.0, "entropyCoeff": entropy, "klCoeff": kl}
    if micro_batch:
        args["microBatch"] = micro_batch
    if aggregation == "seq-mean-token-sum-norm":
        args["lConst"] = 16
    return args


def spy_grads(w):
    """The gradients _step sees (after the all-reduce, before clipping), kept in `got`."""
    eng, got = w.engine, {}
    orig = eng._step

    def spy(opt, stepped):
        got["grads"] = [None if p.grad is None else p.grad.detach().clone() for p in eng.params]
        return orig(opt, stepped)

    eng._step = spy
    return got


def weights(w):
    return {k: v.detach().clone() for k, v in w.engine.policy.model.state_dict().items()}


def max_diff(a, b):
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def grad_diff(ga, gb):
    assert len(ga) == len(gb)
    worst = 0.0
    for x, y in zip(ga, gb):
        assert (x is None) == (y is None)
        if x is not None:
            worst = max(worst, float((x - y).abs().max()))
    return worst


def test_token_shard_is_contiguous_balanced_and_covers_every_row():
    idx, lens = list(range(7)), [3, 18, 4, 13, 7, 16, 5]
    parts = [token_shard(idx, lens, r, 2) for r in range(2)]
    assert parts[0] + parts[1] == idx and parts[0] and parts[1]
    assert token_shard(idx, lens, 0, 1) == idx and token_shard([0], [5], 1, 2) == []


CASES = [("token-mean", None, 0.0, 0.0), ("seq-mean-token-mean", 2, 0.01, 0.05),
         ("seq-mean-token-sum-norm", 1, 0.0, 0.0)]


@pytest.mark.parametrize("aggregation,micro_batch,entropy,kl", CASES)
def test_two_ranks_gradients_and_weights_equal_one_process(llama_dir, aggregation, micro_batch, entropy, kl):
    one = worker(llama_dir, 1)
    two = worker(llama_dir, 2)
    try:
        w0 = weights(one)
        assert max_diff(w0, weights(two)) == 0.0
        rows = batch(one)
        args = update_args(rows, aggregation, micro_batch, entropy, kl)
        # the shards differ: in rows and in tokens (rank 0 holds the first contiguous, token-balanced share)
        lens = [len(r["promptTokens"]) // 4 + len(r["tokens"]) // 4 for r in rows]
        sh = [token_shard(list(range(len(rows))), lens, r, 2) for r in range(2)]
        resp = [sum(len(rows[i]["tokens"]) // 4 for i in s) for s in sh]
        assert len(sh[0]) != len(sh[1]) and resp[0] != resp[1], (sh, resp)

        g1, g2 = spy_grads(one), spy_grads(two)
        r1 = ok(one, "update", args)
        r2 = ok(two, "update", args)
        scale = max(float(g.abs().max()) for g in g1["grads"] if g is not None)
        assert scale > 1e-3  # a gradient 1e-6 could not tell apart from zero would prove nothing
        assert grad_diff(g1["grads"], g2["grads"]) <= TOL
        assert abs(r1["gradNorm"] - r2["gradNorm"]) <= 1e-5 * max(1.0, r1["gradNorm"])
        assert r1["tokens"] == r2["tokens"] and abs(r1["loss"] - r2["loss"]) <= 1e-5
        assert abs(r1["clipFrac"] - r2["clipFrac"]) <= 1e-6 and r1["binLosses"].keys() == r2["binLosses"].keys()
        for k in r1["binLosses"]:
            assert abs(r1["binLosses"][k] - r2["binLosses"][k]) <= 1e-5
        w1, w2 = weights(one), weights(two)
        assert max_diff(w1, w2) <= TOL
        assert max_diff(w1, w0) > 1e-4  # the update moved the weights by far more than the tolerance
        h = two.ranks.state_hashes(two.engine)
        assert h[0] == h[1]  # the replicas are the same bytes
        # a second update (AdamW moments in play) stays equal
        rows2 = batch(one, seed=1)
        ok(one, "update", update_args(rows2, aggregation, micro_batch, entropy, kl))
        ok(two, "update", update_args(rows2, aggregation, micro_batch, entropy, kl))
        assert grad_diff(g1["grads"], g2["grads"]) <= TOL and max_diff(weights(one), weights(two)) <= TOL
    finally:
        two.close()


def test_checkpoint_with_two_ranks_restores_into_two_and_one(llama_dir, tmp_path):
    ck = str(tmp_path / "ck.pt")
    a = worker(llama_dir, 2)
    try:
        rows = batch(a)
        ok(a, "update", update_args(rows, "token-mean", 2))
        saved = ok(a, "save", {"path": ck})
        rows2 = batch(a, seed=5)
        ok(a, "update", update_args(rows2, "token-mean", 2))
        uninterrupted = weights(a)
    finally:
        a.close()
    b = worker(llama_dir, 2)
    try:
        assert max_diff(weights(b), uninterrupted) > 1e-4
        assert ok(b, "load", {"path": ck, "sha256": saved["sha256"]})["policyVersion"] == 1
        h = b.ranks.state_hashes(b.engine)
        assert h[0] == h[1]
        ok(b, "update", update_args(rows2, "token-mean", 2))
        assert max_diff(weights(b), uninterrupted) <= TOL
        h = b.ranks.state_hashes(b.engine)
        assert h[0] == h[1]
    finally:
        b.close()
    c = worker(llama_dir, 1)
    ok(c, "load", {"path": ck, "sha256": saved["sha256"]})
    ok(c, "update", update_args(rows2, "token-mean", 2))
    assert max_diff(weights(c), uninterrupted) <= TOL


# ------------------------------------------------------------------ process lifetime

def spawn_worker():
    env = dict(os.environ, PYTHONPATH=PKG_ROOT)
    return subprocess.Popen([sys.executable, "-m", "dare_worker", "--kind", "hf"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)


def request(p, rid, job, args):
    p.stdin.write(encode_frame({"id": rid, "job": job, "args": args}))
    p.stdin.flush()
    (n,) = struct.unpack(">I", p.stdout.read(4))
    return msgpack.unpackb(p.stdout.read(n), raw=False)


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def gone_within(pids, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [q for q in pids if os.path.exists(f"/proc/{q}") and _state(q) != "Z"]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.mark.parametrize("how", ["stdin-closed", "kill-9"])
def test_follower_ranks_end_with_rank0(llama_dir, how):
    p = spawn_worker()
    try:
        res = request(p, "i", "init", init_args(llama_dir, 2))
        assert res["ok"] and res["result"]["ranks"] == 2, res
        followers = children(p.pid)
        assert len(followers) == 1
        if how == "stdin-closed":
            p.stdin.close()
            assert p.wait(timeout=30) == 0
        else:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        assert gone_within(followers, 10), f"rank 1 ({followers}) outlived rank 0 ({how})"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_lost_rank_fails_the_job_and_ends_the_worker(llama_dir):
    """rank 1 killed: the next update is answered `internal` and the worker exits 1 (the supervisor then
    restarts every rank), instead of stepping with half a gradient or hanging in a collective."""
    p = spawn_worker()
    try:
        assert request(p, "i", "init", init_args(llama_dir, 2))["ok"]
        (follower,) = children(p.pid)
        os.kill(follower, signal.SIGKILL)
        assert gone_within([follower], 10)
        row = {"promptTokens": np.array([5, 6], "<i4").tobytes(), "tokens": np.array([7, 8], "<i4").tobytes(),
               "oldLogprobs": f4_bytes(np.array([-5.0, -5.0], np.float32)), "advantage": 1.0, "clipLo": 0.8,
               "clipHi": 1.28}
        res = request(p, "u", "update", update_args([row], "token-mean", None))
        assert not res["ok"] and res["error"]["code"] == "internal" and "ranks lost" in res["error"]["message"], res
        assert p.wait(timeout=30) == 1
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
