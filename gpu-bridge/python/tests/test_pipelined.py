"""Pipelined mode (run.offPolicySteps = 1): a worker started with keepPrevious keeps the weights before its last
update, and a rollout or score that names that version runs on them, as it would have before the update."""
import pytest

from conftest import arith_prompts, err, ok


def _update(worker, roll):
    ss = [s for g in roll["groups"] for s in g["samples"]]
    rows = [{"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
             "advantage": (k % 3) - 1.0, "clipLo": 0.8, "clipHi": 1.28} for k, s in enumerate(ss)]
    return ok(worker, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0}), rows


def test_a_job_naming_the_previous_version_runs_on_the_weights_before_the_update(make_worker):
    w = make_worker(seed=5, lr=3e-2, keepPrevious=True)
    roll = {"prompts": arith_prompts(6, reps=4), "temperature": 1.0, "maxTokens": 5, "seed": 11}
    before = ok(w, "rollout", roll)
    ev = {"prompts": arith_prompts(6), "maxTokens": 5}
    eval_before = ok(w, "eval", ev)
    h0 = w.engine.state_hash()
    out, rows = _update(w, before)
    assert out["policyVersion"] == 1
    h1 = w.engine.state_hash()
    assert h1 != h0
    score_rows = {"rows": [{"promptTokens": r["promptTokens"], "tokens": r["tokens"]} for r in rows], "temperature": 1.0}

    # version 0 (one update back): the same tokens and log-probs as before the update, and the weights stay at 1
    stale = ok(w, "rollout", dict(roll, policyVersion=0))
    assert stale == before
    assert ok(w, "eval", dict(ev, policyVersion=0)) == eval_before
    assert w.engine.state_hash() == h1
    sums0 = ok(w, "score", dict(score_rows, policyVersion=0))["sums"]
    old = [float(sum(__import__("numpy").frombuffer(r["oldLogprobs"], dtype="<f4").astype("float64"))) for r in rows]
    assert max(abs(a - b) for a, b in zip(sums0, old)) < 1e-4
    # version 1 (current), named or not, differs from version 0
    sums1 = ok(w, "score", dict(score_rows, policyVersion=1))["sums"]
    assert sums1 == ok(w, "score", score_rows)["sums"]
    assert max(abs(a - b) for a, b in zip(sums0, sums1)) > 1e-4
    assert ok(w, "rollout", dict(roll, policyVersion=1)) == ok(w, "rollout", roll)

    # two back, or ahead: not held, a bad_request that names the versions held
    _update(w, before)
    e = err(w, "rollout", dict(roll, policyVersion=0))
    assert e["code"] == "bad_request" and "0 is not held" in e["message"] and "2 and 1" in e["message"]
    assert err(w, "score", dict(score_rows, policyVersion=7))["code"] == "bad_request"


def test_without_keep_previous_no_copy_is_kept(make_worker):
    w = make_worker(seed=5)
    roll = {"prompts": arith_prompts(4, reps=2), "temperature": 1.0, "maxTokens": 5, "seed": 3}
    _update(w, ok(w, "rollout", roll))
    assert w.engine.previous is None
    assert err(w, "rollout", dict(roll, policyVersion=0))["code"] == "bad_request"


@pytest.mark.parametrize("arch,lora", [("qwen2", None), ("llama", {"rank": 4, "alpha": 8, "targets": ["q_proj", "v_proj"]})])
def test_hf_previous_version_with_tied_weights_and_lora(tmp_path, arch, lora):
    """The swap of the weights before the last update: Qwen2's tied embedding and output head (one Parameter
    under two names) and LoRA (only the adapters trainable) both come back exactly."""
    from dare_worker.jobs import Worker
    from dare_worker.synthetic import build_tiny_model

    build_tiny_model(str(tmp_path), arch)
    w = Worker("hf")
    init = {"seed": 3, "kind": "hf", "modelPath": str(tmp_path), "device": "cpu", "deterministic": True,
            "optim": {"lr": 3e-2, "weightDecay": 0.0}, "maxPromptTokens": 48, "maxResponseTokens": 8, "keepPrevious": True}
    if lora:
        init["lora"] = lora
    ok(w, "init", init)
    prompts = [{"promptId": f"q{i}", "text": f"{i}+{i + 1}=", "n": 3} for i in range(4)]
    roll = {"prompts": prompts, "temperature": 1.0, "maxTokens": 6, "seed": 4}
    before = ok(w, "rollout", roll)
    _update(w, before)
    h1 = w.engine.state_hash()
    after = ok(w, "rollout", roll)
    assert after != before
    assert ok(w, "rollout", dict(roll, policyVersion=0)) == before
    assert w.engine.state_hash() == h1
    assert ok(w, "rollout", roll) == after
