"""Two CPU workers with the same seed: same weights, same tokens, same weights after the same updates."""
from conftest import arith_prompts, ok


def test_same_seed_same_tokens_and_same_weights_after_updates(make_worker):
    a, b = make_worker(seed=31), make_worker(seed=31)
    assert a.engine.state_hash() == b.engine.state_hash()
    other = make_worker(seed=32)
    assert other.engine.state_hash() != a.engine.state_hash()

    sft = {"examples": [{"text": f"{i}+{j}=", "completion": str(i + j)} for i in range(4) for j in range(4)],
           "steps": 5, "batchSize": 4, "lr": 3e-3, "seed": 8}
    assert ok(a, "sft", sft) == ok(b, "sft", sft)
    for step in range(3):
        roll = {"prompts": arith_prompts(6, reps=4, offset=step), "temperature": 1.0, "maxTokens": 5, "seed": 100 + step}
        ra, rb = ok(a, "rollout", roll), ok(b, "rollout", roll)
        assert ra == rb  # tokens, log-probs (as bytes) and texts all identical
        ss = [s for g in ra["groups"] for s in g["samples"]]
        rows = [{"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
                 "advantage": (k % 3) - 1.0, "clipLo": 0.8, "clipHi": 1.28, "bin": k % 2} for k, s in enumerate(ss)]
        upd = {"rows": rows, "aggregation": "token-mean", "entropyCoeff": 0.001, "temperature": 1.0, "microBatch": 7}
        assert ok(a, "update", upd) == ok(b, "update", upd)
        assert a.engine.state_hash() == b.engine.state_hash()
    assert a.engine.state_hash() != other.engine.state_hash()
