"""save / load: bit-exact weights and optimiser state, sha256, atomic write, reply cache after load."""
import hashlib
import os

import pytest
import torch

from conftest import arith_prompts, err, ok


def train_a_bit(w, seed=3, steps=2, prefix="u"):
    res = ok(w, "rollout", {"prompts": arith_prompts(3, reps=2), "temperature": 1.0, "maxTokens": 5, "seed": seed})
    rows = [{"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
             "advantage": a, "clipLo": 0.8, "clipHi": 1.28}
            for s, a in zip([s for g in res["groups"] for s in g["samples"]], [1, -1, 0.5, -0.5, 2, -2])]
    args = {"rows": rows, "aggregation": "token-mean", "temperature": 1.0}
    for k in range(steps):
        ok(w, "update", args, rid=f"{prefix}{k}")
    return args


def assert_same_tensors(a, b, where=""):
    """Recursively: every tensor bit-identical, every other value equal."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            assert_same_tensors(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_tensors(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def test_save_load_round_trip_is_bit_exact(make_worker, tmp_path):
    a = make_worker(seed=21)
    upd = train_a_bit(a)
    path = str(tmp_path / "ckpt.pt")
    saved = ok(a, "save", {"path": path})
    with open(path, "rb") as f:
        blob = f.read()
    assert saved["sha256"] == hashlib.sha256(blob).hexdigest()
    assert saved["bytes"] == len(blob) and saved["policyVersion"] == 2 and saved["path"] == path
    assert not os.path.exists(path + ".tmp")
    rng_at_save = torch.get_rng_state()

    b = make_worker(seed=99)  # different initial weights
    assert b.engine.state_hash() != a.engine.state_hash()
    torch.manual_seed(12345)  # disturb the global RNG: load must restore it
    assert ok(b, "load", {"path": path, "sha256": saved["sha256"]}) == {"policyVersion": 2}
    assert_same_tensors(a.engine.policy.model.state_dict(), b.engine.policy.model.state_dict(), "model")
    assert_same_tensors(a.engine.optimizer.state_dict(), b.engine.optimizer.state_dict(), "optimizer")
    assert_same_tensors(a.engine.ref_state, b.engine.ref_state, "reference")
    assert torch.equal(torch.get_rng_state(), rng_at_save)

    # Same state => the next update is identical too (Adam moments included).
    ok(a, "update", upd, rid="next-a")
    ok(b, "update", upd, rid="next-b")
    assert a.engine.state_hash() == b.engine.state_hash()


def test_wrong_sha256_and_foreign_checkpoints_are_rejected(make_worker, tmp_path):
    a = make_worker(seed=22)
    train_a_bit(a, steps=1)
    path = str(tmp_path / "c.pt")
    saved = ok(a, "save", {"path": path})
    b = make_worker(seed=23)
    before = b.engine.state_hash()
    e = err(b, "load", {"path": path, "sha256": "0" * 64})
    assert e["code"] == "bad_request" and "sha256" in e["message"] and saved["sha256"] in e["message"]
    assert b.engine.state_hash() == before and b.engine.policy_version == 0
    e = err(b, "load", {"path": str(tmp_path / "missing.pt")})
    assert e["code"] == "bad_request" and "no checkpoint file" in e["message"]
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    e = err(b, "load", {"path": str(tmp_path / "junk.pt")})
    assert e["code"] == "bad_request" and "cannot read" in e["message"]
    other = make_worker(seed=22, model={"dModel": 48, "nLayers": 1, "nHeads": 2, "maxLen": 32})
    e = err(other, "load", {"path": path, "sha256": saved["sha256"]})
    assert e["code"] == "bad_request" and "different model" in e["message"]


def test_load_clears_the_reply_cache_so_updates_are_reapplied(make_worker, tmp_path):
    w = make_worker(seed=24)
    upd = train_a_bit(w, steps=2)
    path = str(tmp_path / "v2.pt")
    saved = ok(w, "save", {"path": path})
    assert ok(w, "update", upd, rid="u-after")["policyVersion"] == 3
    h3 = w.engine.state_hash()
    # Cached while no load happened: the same id is not applied twice.
    assert ok(w, "update", upd, rid="u-after")["policyVersion"] == 3 and w.engine.state_hash() == h3
    ok(w, "load", {"path": path, "sha256": saved["sha256"]})
    assert w.engine.policy_version == 2
    # After the load the weights predate u-after: re-sent, it is applied again and lands on the same state.
    assert ok(w, "update", upd, rid="u-after")["policyVersion"] == 3
    assert w.engine.state_hash() == h3


def test_save_into_missing_directory_is_a_bad_request(make_worker, tmp_path):
    w = make_worker(seed=25)
    e = err(w, "save", {"path": str(tmp_path / "nope" / "c.pt")})
    assert e["code"] == "bad_request" and "does not exist" in e["message"]
