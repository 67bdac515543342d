"""rollout / score / entropy / generate / eval on the tiny worker (CPU float32)."""
import numpy as np
import torch

from conftest import arith_prompts, err, f4, i4, ok
from dare_worker.engine import token_logprobs_from_logits
from dare_worker.noise import uniforms
from dare_worker.tokenizer import EOS, CharTokenizer


def rollout(w, prompts, seed=7, temperature=1.0, max_tokens=8):
    return ok(w, "rollout", {"prompts": prompts, "temperature": temperature, "maxTokens": max_tokens, "seed": seed})


def samples_of(res):
    return [s for g in res["groups"] for s in g["samples"]]


def test_rollout_shape_and_finish(make_worker):
    w = make_worker(seed=1)
    res = rollout(w, arith_prompts(5, reps=3), max_tokens=6)
    assert [g["promptId"] for g in res["groups"]] == [f"p{i}" for i in range(5)]
    tok = CharTokenizer()
    for g, p in zip(res["groups"], arith_prompts(5, reps=3)):
        assert len(g["samples"]) == 3
        for s in g["samples"]:
            assert i4(s["promptTokens"]).tolist() == tok.encode_prompt(p["text"])
            toks = i4(s["tokens"]).tolist()
            assert len(f4(s["logprobs"])) == len(toks) and 1 <= len(toks) <= 6
            if s["finish"] == "eos":
                assert toks[-1] == EOS and EOS not in toks[:-1]
            else:
                assert len(toks) == 6 and EOS not in toks
            assert s["text"] == tok.decode([t for t in toks if t != EOS])
            assert np.all(f4(s["logprobs"]) <= 0)


def test_sampled_logprobs_equal_score(make_worker):
    # Sampling (left-padded, KV cache, token by token) and score (right-padded, one pass) must agree.
    w = make_worker(seed=2)
    prompts = arith_prompts(6, reps=4) + [{"promptId": "long", "text": "12*34-5=", "n": 2}]
    for temperature in (1.0, 0.7):
        res = rollout(w, prompts, temperature=temperature, max_tokens=10)
        ss = samples_of(res)
        sc = ok(w, "score", {"rows": [{"promptTokens": s["promptTokens"], "tokens": s["tokens"]} for s in ss],
                             "temperature": temperature})
        for s, lp, total in zip(ss, sc["logprobs"], sc["sums"]):
            np.testing.assert_allclose(f4(lp), f4(s["logprobs"]), atol=1e-5, rtol=0)
            assert abs(total - float(f4(lp).astype(np.float64).sum())) < 1e-9


def test_same_seed_same_tokens_and_batch_invariance(make_worker):
    w = make_worker(seed=3)
    prompts = arith_prompts(8, reps=4)
    a = samples_of(rollout(w, prompts, seed=42))
    b = samples_of(rollout(w, prompts, seed=42))
    c = samples_of(rollout(w, prompts, seed=43))
    assert [s["tokens"] for s in a] == [s["tokens"] for s in b]
    assert [s["tokens"] for s in a] != [s["tokens"] for s in c]
    # The first prompt alone gives its rows the same noise keys (rows 0..3): the same tokens, even though
    # the batch, its padding and the other rows' lengths all differ.
    alone = samples_of(rollout(w, prompts[:1], seed=42))
    assert [s["tokens"] for s in alone] == [s["tokens"] for s in a[:4]]
    # Decoding the rows in several chunks changes nothing either.
    w.engine.rollout_rows = 5
    chunked = samples_of(rollout(w, prompts, seed=42))
    assert [s["tokens"] for s in chunked] == [s["tokens"] for s in a]


def test_inverse_cdf_sampling_matches_the_softmax():
    # 20000 draws of the noise, mapped through a known distribution, reproduce its probabilities.
    logits = torch.tensor([[2.0, 0.0, -1.0, 1.0, -30.0]], dtype=torch.float64)
    probs = torch.softmax(logits / 0.8, dim=-1)[0].numpy()
    cdf = np.cumsum(probs)
    u = np.concatenate([uniforms(9, np.arange(1000, dtype=np.uint64), t) for t in range(20)])
    idx = np.searchsorted(cdf, u * cdf[-1], side="right")
    freq = np.bincount(idx, minlength=5) / len(u)
    # binomial standard error sqrt(p(1-p)/n) <= 0.0036 for n = 20000; allow 4 of them
    np.testing.assert_allclose(freq, probs, atol=0.015)
    assert freq[4] == 0.0  # probability ~1e-17: never drawn
    assert 0.0 < u.min() and u.max() < 1.0


def test_entropy_job_matches_manual_computation(make_worker):
    w = make_worker(seed=4)
    prompts = [{"promptId": "a", "text": "3+4="}, {"promptId": "b", "text": "9*9="}]
    res = ok(w, "entropy", {"prompts": prompts, "maxTokens": 5, "temperature": 0.6, "seed": 5})
    # The same prefixes come from a rollout with the same seed (row keys 0, 1) and temperature.
    ro = rollout(w, [dict(p, n=1) for p in prompts], seed=5, temperature=0.6, max_tokens=5)
    eng = w.engine
    for (s,), h in zip([g["samples"] for g in ro["groups"]], res["entropy"]):
        prompt, toks = i4(s["promptTokens"]).astype(np.int64), i4(s["tokens"]).astype(np.int64)
        ents = []
        with torch.no_grad():
            for k in range(len(toks)):
                ids = torch.tensor(np.concatenate([prompt, toks[:k]])).unsqueeze(0)
                hid, _ = eng.policy.hidden(ids, torch.ones_like(ids, dtype=torch.bool),
                                           torch.arange(ids.shape[1]).unsqueeze(0), None)
                lp = token_logprobs_from_logits(eng.policy.logits(hid[:, -1]), 0.6)[0].double()
                ents.append(float(-(lp.exp() * lp).sum()))
        assert abs(h - float(np.mean(ents))) < 1e-5
        assert h > 0


def test_eval_is_greedy_and_generate_temperature_zero_matches(make_worker):
    w = make_worker(seed=5)
    prompts = [{"promptId": f"e{i}", "text": f"{i}+{i}="} for i in range(4)]
    ev = ok(w, "eval", {"prompts": prompts, "maxTokens": 5})
    gen = ok(w, "generate", {"prompts": prompts, "temperature": 0.0, "maxTokens": 5, "seed": 99})
    assert ev["texts"] == gen["texts"]
    eng, tok = w.engine, CharTokenizer()
    for p, text, n in zip(prompts, ev["texts"], ev["lengths"]):
        ids = tok.encode_prompt(p["text"])
        out = []
        with torch.no_grad():
            for _ in range(5):
                x = torch.tensor(ids).unsqueeze(0)
                hid, _ = eng.policy.hidden(x, torch.ones_like(x, dtype=torch.bool), torch.arange(len(ids)).unsqueeze(0))
                nxt = int(eng.policy.logits(hid[:, -1]).argmax(-1))
                out.append(nxt)
                ids.append(nxt)
                if nxt == EOS:
                    break
        assert n == len(out)
        assert text == tok.decode([t for t in out if t != EOS])


def test_bad_requests_name_the_field(make_worker):
    w = make_worker(seed=6)
    e = err(w, "rollout", {"prompts": [{"promptId": "x", "text": "1+é", "n": 1}], "temperature": 1.0,
                           "maxTokens": 4, "seed": 1})
    assert e["code"] == "bad_request" and "prompts[0].text" in e["message"] and "'é'" in e["message"]
    e = err(w, "rollout", {"prompts": arith_prompts(1), "temperature": 0.0, "maxTokens": 4, "seed": 1})
    assert e["code"] == "bad_request" and "temperature" in e["message"]
    e = err(w, "rollout", {"prompts": arith_prompts(1), "temperature": 1.0, "maxTokens": 99, "seed": 1})
    assert e["code"] == "bad_request" and "maxTokens" in e["message"]
    e = err(w, "rollout", {"prompts": arith_prompts(1), "temperature": 1.0, "maxTokens": 4})
    assert e["code"] == "bad_request" and "seed is required" in e["message"]
    e = err(w, "score", {"rows": [{"promptTokens": b"", "tokens": b""}], "temperature": 1.0})
    assert e["code"] == "bad_request" and "rows[0].promptTokens" in e["message"]
    big = np.array([1, 5000], dtype="<i4").tobytes()
    e = err(w, "score", {"rows": [{"promptTokens": big, "tokens": b""}], "temperature": 1.0})
    assert e["code"] == "bad_request" and "token id 5000" in e["message"]
    e = err(w, "init", {"seed": 1})
    assert e["code"] == "bad_request" and "already initialised" in e["message"]
