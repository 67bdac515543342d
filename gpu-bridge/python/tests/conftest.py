"""Shared test helpers. Environment first: these must be set before torch is imported."""
import itertools
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PKG_ROOT not in sys.path:
    sys.path.insert(0, PKG_ROOT)

import msgpack  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

_ids = itertools.count(1)


def call(worker, job, args, rid=None):
    """Sends one request to an in-process Worker; returns (decoded reply, raw frame)."""
    rid = rid if rid is not None else f"t{next(_ids)}"
    frame, _ = worker.handle(rid, job, args)
    return msgpack.unpackb(frame[4:], raw=False), frame


def ok(worker, job, args, rid=None):
    msg, _ = call(worker, job, args, rid)
    assert msg["ok"], msg
    return msg["result"]


def err(worker, job, args, rid=None):
    msg, _ = call(worker, job, args, rid)
    assert not msg["ok"], msg
    return msg["error"]


SMALL_MODEL = {"dModel": 32, "nLayers": 2, "nHeads": 2, "maxLen": 32}


def init_args(seed=0, model=None, lr=1e-3, **extra):
    args = {"seed": seed, "kind": "tiny", "device": "cpu", "deterministic": True,
            "model": dict(SMALL_MODEL if model is None else model),
            "optim": {"lr": lr, "weightDecay": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "gradClip": 1.0},
            "maxPromptTokens": 12, "maxResponseTokens": 12}
    args.update(extra)
    return args


@pytest.fixture
def make_worker():
    from dare_worker.jobs import Worker

    def make(seed=0, **kw):
        w = Worker("tiny")
        ok(w, "init", init_args(seed, **kw))
        return w

    return make


def f4(b):
    return np.frombuffer(b, dtype="<f4")


def i4(b):
    return np.frombuffer(b, dtype="<i4")


def arith_prompts(n, reps=1, offset=0):
    return [{"promptId": f"p{i}", "text": f"{(i + offset) % 10}+{(i * 3 + offset) % 10}=", "n": reps} for i in range(n)]
