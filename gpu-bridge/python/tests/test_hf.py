"""The hf worker on tiny randomly initialised GPT-2, Llama and Qwen2 models built from a config in a temp dir
(nothing is downloaded). Never skipped: without `transformers` these tests fail at import (`make test` runs
them with the project's venv, .venv/, which has it)."""
import hashlib
import os

import numpy as np
import pytest
import transformers  # noqa: F401 - a missing transformers must fail the suite, not skip it

import torch  # noqa: E402

from conftest import err, f4, i4, ok  # noqa: E402
from dare_worker.synthetic import build_tiny_model  # noqa: E402

ARCHS = ["gpt2", "llama", "qwen2"]


@pytest.fixture(scope="module", params=ARCHS)
def model_dir(tmp_path_factory, request):
    arch = request.param
    d = tmp_path_factory.mktemp(f"hf-{arch}")
    vocab = build_tiny_model(str(d), arch)
    return str(d), arch, vocab


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hf-llama-only")
    build_tiny_model(str(d), "llama")
    return str(d)


def hf_init(path, seed=0, **extra):
    args = {"seed": seed, "kind": "hf", "modelPath": path, "device": "cpu", "deterministic": True,
            "optim": {"lr": 1e-3, "weightDecay": 0.0}, "maxPromptTokens": 48, "maxResponseTokens": 12}
    args.update(extra)
    return args


def hf_worker(model_dir, seed=0, **extra):
    from dare_worker.jobs import Worker

    path = model_dir[0] if isinstance(model_dir, tuple) else model_dir
    w = Worker("hf")
    res = ok(w, "init", hf_init(path, seed, **extra))
    return w, res


PROMPTS = [{"promptId": f"q{i}", "text": f"{i}+{i + 1}=", "n": 3} for i in range(4)]


def rollout_rows(w, seed=4, max_tokens=8, prompts=PROMPTS, on_policy=True):
    res = ok(w, "rollout", {"prompts": prompts, "temperature": 1.0, "maxTokens": max_tokens, "seed": seed})
    ss = [s for g in res["groups"] for s in g["samples"]]
    return [{"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
             "advantage": (k % 3) - 1.0, "clipLo": 0.8, "clipHi": 1.28, "onPolicy": on_policy}
            for k, s in enumerate(ss)]


def test_init_and_prompt_encoding(model_dir):
    w, res = hf_worker(model_dir)
    _, arch, vocab = model_dir
    assert res["device"] == "cpu" and res["dtype"] == "float32" and res["vocabSize"] == vocab
    assert res["trainableParams"] == res["params"] and res["gradientCheckpointing"] is False
    from dare_worker.hf import default_attn_implementation
    assert res["attnImplementation"] == default_attn_implementation()
    pol = w.engine.policy
    ids = pol.encode_prompt("1+2=", "text")
    if arch in ("llama", "qwen2"):  # chat template applied, generation prompt included
        assert pol.use_chat_template and pol.tokenizer.decode(ids) == "<user>1+2=\n<assistant>"
    else:
        assert not pol.use_chat_template and pol.tokenizer.decode(ids) == "1+2="
    assert pol.eos_ids == frozenset({2})


def test_rollout_logprobs_equal_score_and_seeded(model_dir):
    w, _ = hf_worker(model_dir)
    args = {"prompts": PROMPTS, "temperature": 1.0, "maxTokens": 8, "seed": 4}
    res = ok(w, "rollout", args)
    assert ok(w, "rollout", args) == res
    ss = [s for g in res["groups"] for s in g["samples"]]
    assert len(ss) == 12
    sc = ok(w, "score", {"rows": [{"promptTokens": s["promptTokens"], "tokens": s["tokens"]} for s in ss],
                         "temperature": 1.0})
    for s, lp in zip(ss, sc["logprobs"]):
        assert len(i4(s["tokens"])) == len(f4(s["logprobs"])) >= 1
        np.testing.assert_allclose(f4(lp), f4(s["logprobs"]), atol=1e-4, rtol=0)


def test_left_padding_and_per_row_stops_do_not_change_a_row(model_dir):
    """Prompts of different lengths share one left-padded batch, rows stop at their own EOS; each row's tokens
    and log-probs equal those of the same row sampled alone (row keys fix its noise)."""
    w, _ = hf_worker(model_dir)
    prompts = [{"promptId": "a", "text": "7", "n": 2}, {"promptId": "b", "text": "12+345=", "n": 2}]
    both = ok(w, "rollout", {"prompts": prompts, "temperature": 1.0, "maxTokens": 10, "seed": 9})
    # alone: row keys are indices in the request, so sample prompt b with n=4 and compare rows 2..3
    # (padding changes the float rounding of the batched matmuls, not the tokens)
    first = ok(w, "rollout", {"prompts": [prompts[0]], "temperature": 1.0, "maxTokens": 10, "seed": 9})
    lone = ok(w, "rollout", {"prompts": [dict(prompts[1], n=4)], "temperature": 1.0, "maxTokens": 10, "seed": 9})
    pairs = list(zip(both["groups"][0]["samples"], first["groups"][0]["samples"])) + \
        list(zip(both["groups"][1]["samples"], lone["groups"][0]["samples"][2:]))
    for s, t in pairs:
        assert s["tokens"] == t["tokens"] and s["finish"] == t["finish"]
        np.testing.assert_allclose(f4(s["logprobs"]), f4(t["logprobs"]), atol=1e-5, rtol=0)


def test_update_direction_sft_and_checkpoint(model_dir, tmp_path):
    w, _ = hf_worker(model_dir)
    res = ok(w, "rollout", {"prompts": PROMPTS[:1], "temperature": 1.0, "maxTokens": 6, "seed": 2})
    s = res["groups"][0]["samples"][0]
    score = {"rows": [{"promptTokens": s["promptTokens"], "tokens": s["tokens"]}], "temperature": 1.0}
    before = ok(w, "score", score)["sums"][0]
    row = {"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
           "advantage": 1.0, "clipLo": 0.8, "clipHi": 1.28}
    for _ in range(3):
        ok(w, "update", {"rows": [row], "aggregation": "token-mean", "temperature": 1.0})
    after = ok(w, "score", score)
    assert after["sums"][0] > before + 0.05
    # KL to the worker's own reference (the init weights), computed by swapping those weights in: positive now.
    kl = ok(w, "update", {"rows": [row], "aggregation": "token-mean", "temperature": 1.0, "klCoeff": 0.1,
                          "entropyCoeff": 0.0})
    assert kl["refKl"] > 0 and kl["policyVersion"] == 4

    sft = ok(w, "sft", {"examples": [{"text": "1+1=", "completion": "2"}], "steps": 3, "batchSize": 2, "lr": 1e-3, "seed": 0})
    assert np.isfinite(sft["loss"]) and sft["policyVersion"] == 5

    path = str(tmp_path / "hf.pt")
    saved = ok(w, "save", {"path": path})
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == saved["sha256"]
    w2, _ = hf_worker(model_dir, seed=5)
    assert ok(w2, "load", {"path": path, "sha256": saved["sha256"]})["policyVersion"] == 5
    sa, sb = w.engine.policy.model.state_dict(), w2.engine.policy.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert ok(w2, "score", score) == ok(w, "score", score)
    # the same update on both: the optimiser state came back bit for bit too
    upd = {"rows": [row], "aggregation": "token-mean", "temperature": 1.0}
    assert ok(w, "update", upd) == ok(w2, "update", upd)
    assert w.engine.state_hash() == w2.engine.state_hash()


def test_two_workers_same_seed_same_tokens_logprobs_and_weights(model_dir):
    a, _ = hf_worker(model_dir, seed=3)
    b, _ = hf_worker(model_dir, seed=3)
    assert a.engine.state_hash() == b.engine.state_hash()
    for step in range(2):
        ra, rb = rollout_rows(a, seed=20 + step), rollout_rows(b, seed=20 + step)
        assert ra == rb  # tokens and log-probs as bytes
        upd = {"rows": ra, "aggregation": "token-mean", "entropyCoeff": 0.001, "temperature": 1.0, "microBatch": 5}
        assert ok(a, "update", upd) == ok(b, "update", upd)
        assert a.engine.state_hash() == b.engine.state_hash()


def test_gradient_accumulation_is_one_optimizer_step(model_dir):
    """Micro-batches of 1, 5 rows, or a token budget of one row, accumulate gradients into one AdamW step: the
    weights after the update agree with the one-pass update to float rounding, and AdamW counted one step.
    (eps = 1 makes AdamW's first step ~ lr·g instead of lr·sign(g), so rounding in g stays rounding.)"""
    results, states = [], []
    optim = {"lr": 1e-3, "weightDecay": 0.0, "eps": 1.0}
    for extra_init, micro in (({}, None), ({}, 1), ({}, 5), ({"batchTokens": 20}, None)):
        w, _ = hf_worker(model_dir, seed=1, optim=optim, **extra_init)
        rows = rollout_rows(w, seed=5)
        upd = {"rows": rows, "aggregation": "seq-mean-token-mean", "entropyCoeff": 0.01, "temperature": 1.0}
        if micro:
            upd["microBatch"] = micro
        results.append(ok(w, "update", upd))
        steps = {int(st["step"]) for st in w.engine.optimizer.state.values()}
        assert steps == {1}
        states.append({k: v.clone() for k, v in w.engine.policy.model.state_dict().items()})
    for r, st in zip(results[1:], states[1:]):
        for key in ("loss", "pgLoss", "clipFrac", "kl", "entropy", "gradNorm", "tokens"):
            assert r[key] == pytest.approx(results[0][key], rel=1e-5, abs=1e-6), key
        for k in st:
            torch.testing.assert_close(st[k], states[0][k], rtol=0, atol=1e-8)


def test_logprob_parity_reported_for_on_policy_rows(model_dir):
    w, _ = hf_worker(model_dir)
    rows = rollout_rows(w)
    res = ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0})
    n_tok = sum(len(i4(r["tokens"])) for r in rows)
    assert res["logprobDiffTokens"] == n_tok
    # CPU float32: the KV-cache decode and the full training forward agree to rounding
    assert 0 <= res["logprobDiffMean"] <= res["logprobDiffMax"] < 1e-4
    # rows not flagged on-policy (replayed, older weights) are left out; none flagged: no figures
    res2 = ok(w, "update", {"rows": [dict(r, onPolicy=False) for r in rows], "aggregation": "token-mean",
                            "temperature": 1.0})
    assert "logprobDiffMax" not in res2 and "logprobDiffMean" not in res2


def test_parity_figures_by_hand(llama_dir):
    """One on-policy row whose oldLogprobs are shifted by known amounts: max and mean |Δ| are those shifts."""
    w, _ = hf_worker(llama_dir)
    row = rollout_rows(w, prompts=PROMPTS[:1], max_tokens=6)[0]
    cur = f4(row["oldLogprobs"]).astype(np.float32)
    n = len(cur)
    assert n >= 3
    exact = f4(ok(w, "score", {"rows": [row], "temperature": 1.0})["logprobs"][0])
    shift = np.zeros(n, dtype=np.float32)
    shift[0], shift[1] = 0.5, -0.25
    bad = dict(row, oldLogprobs=(exact + shift).astype("<f4").tobytes())
    res = ok(w, "update", {"rows": [bad], "aggregation": "token-mean", "temperature": 1.0})
    assert res["logprobDiffMax"] == pytest.approx(0.5, abs=1e-6)
    assert res["logprobDiffMean"] == pytest.approx(0.75 / n, abs=1e-6)


def _count_layer_forwards(policy):
    layers = [m for name, m in policy.inner.named_modules() if name.endswith(".0") and ("layers" in name or ".h" in name)]
    calls = []
    # a pre-hook: torch 2's non-reentrant recomputation stops early, before the layer's forward hook would run
    layers[0].register_forward_pre_hook(lambda *a: calls.append(1))
    return calls


def test_gradient_checkpointing_same_update_and_recomputes(model_dir):
    plain, _ = hf_worker(model_dir, seed=2)
    ckpt, res = hf_worker(model_dir, seed=2, gradientCheckpointing=True)
    assert res["gradientCheckpointing"] is True
    rows = rollout_rows(plain, seed=7)
    assert rollout_rows(ckpt, seed=7) == rows
    calls_plain, calls_ckpt = _count_layer_forwards(plain.engine.policy), _count_layer_forwards(ckpt.engine.policy)
    upd = {"rows": rows, "aggregation": "token-mean", "temperature": 1.0}
    a, b = ok(plain, "update", upd), ok(ckpt, "update", upd)
    assert len(calls_ckpt) == 2 * len(calls_plain) > 0  # the first layer ran again in the backward pass
    for key in ("loss", "gradNorm", "entropy"):
        assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-7), key
    sa, sb = plain.engine.policy.model.state_dict(), ckpt.engine.policy.model.state_dict()
    for k in sa:
        torch.testing.assert_close(sb[k], sa[k], rtol=0, atol=1e-7)
    assert not ckpt.engine.policy.model.training  # back in eval mode after the update


def test_lora_trains_only_adapters_and_exports_merged(llama_dir, tmp_path):
    w, res = hf_worker(llama_dir, lora={"rank": 4, "alpha": 8, "targets": ["q_proj", "v_proj"]})
    assert 0 < res["trainableParams"] < res["params"]
    model = w.engine.policy.model
    frozen = {k: p.detach().clone() for k, p in model.named_parameters() if not p.requires_grad}
    rows = rollout_rows(w)
    for _ in range(2):
        r = ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0})
        assert not r["skipped"] and r["gradNorm"] > 0
    assert all(torch.equal(p, frozen[k]) for k, p in model.named_parameters() if not p.requires_grad)
    assert set(w.engine.ref_state) == {k for k, p in model.named_parameters() if p.requires_grad}
    # KL to π_ref (adapters at init) works with the partial reference
    kl = ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0, "klCoeff": 0.1})
    assert kl["refKl"] > 0
    # checkpoint round trip keeps the adapters
    path = str(tmp_path / "lora.pt")
    saved = ok(w, "save", {"path": path})
    w2, _ = hf_worker(llama_dir, seed=9, lora={"rank": 4, "alpha": 8, "targets": ["q_proj", "v_proj"]})
    ok(w2, "load", {"path": path, "sha256": saved["sha256"]})
    assert w2.engine.state_hash() == w.engine.state_hash()
    plain, _ = hf_worker(llama_dir)
    e = err(plain, "load", {"path": path})
    assert e["code"] == "bad_request" and "different model" in e["message"]
    # export merges the adapters: plain transformers gets the worker's log-probs
    out = str(tmp_path / "export")
    ok(w, "export", {"path": out})
    _same_logprobs_as_plain_transformers(w, out, rows[:3])


def _same_logprobs_as_plain_transformers(w, out, rows):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(out, local_files_only=True).eval()
    AutoTokenizer.from_pretrained(out, local_files_only=True)
    sc = ok(w, "score", {"rows": [{"promptTokens": r["promptTokens"], "tokens": r["tokens"]} for r in rows],
                         "temperature": 1.0})
    for r, lp in zip(rows, sc["logprobs"]):
        p, t = i4(r["promptTokens"]).astype(np.int64), i4(r["tokens"]).astype(np.int64)
        ids = torch.from_numpy(np.concatenate([p, t])).unsqueeze(0)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].float()
        ref = torch.log_softmax(logits, -1)[len(p) - 1:len(p) + len(t) - 1].gather(1, torch.from_numpy(t).unsqueeze(1))
        np.testing.assert_allclose(ref.squeeze(1).numpy(), f4(lp), atol=2e-5, rtol=0)


def test_export_loads_with_plain_transformers(model_dir, tmp_path):
    w, _ = hf_worker(model_dir)
    rows = rollout_rows(w)
    ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0})  # not the init weights
    out = str(tmp_path / "export")
    res = ok(w, "export", {"path": out})
    assert res["path"] == out and res["policyVersion"] == 1
    assert "model.safetensors" in res["files"] and "config.json" in res["files"]
    assert any(f.startswith("tokenizer") for f in res["files"])
    _same_logprobs_as_plain_transformers(w, out, rows[:4])
    e = err(w, "export", {"path": out})  # not empty now
    assert e["code"] == "bad_request" and e["message"].startswith("path: ")
    e = err(w, "export", {"path": str(tmp_path / "no" / "such")})
    assert e["code"] == "bad_request" and "does not exist" in e["message"]


def test_memory_stays_flat_across_updates(llama_dir):
    """RSS after each of 10 updates (with KL, so the reference swap runs too): what the first updates
    allocate (AdamW moments, allocator pools) is reused afterwards."""
    w, _ = hf_worker(llama_dir)
    rows = rollout_rows(w)
    rss = []
    for _ in range(10):
        ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0, "klCoeff": 0.01,
                         "entropyCoeff": 0.001})
        rss.append(ok(w, "stats", {})["rssBytes"])
    assert rss[0] > 0
    assert max(rss[3:]) - rss[3] < 8 * 1024 * 1024, [r // 1024 for r in rss]


def test_attention_implementations_agree(llama_dir):
    from dare_worker.hf import default_attn_implementation

    eager, res = hf_worker(llama_dir, attnImplementation="eager")
    assert res["attnImplementation"] == "eager"
    auto, res2 = hf_worker(llama_dir)
    assert res2["attnImplementation"] == default_attn_implementation()
    a, b = rollout_rows(eager), rollout_rows(auto)
    sc_a = ok(eager, "score", {"rows": a, "temperature": 1.0})
    sc_b = ok(auto, "score", {"rows": a, "temperature": 1.0})
    for x, y in zip(sc_a["logprobs"], sc_b["logprobs"]):
        np.testing.assert_allclose(f4(x), f4(y), atol=1e-5, rtol=0)
    assert len(a) == len(b)


def test_bad_hf_init_args_name_the_field(llama_dir):
    from dare_worker.jobs import Worker

    cases = [({"lora": {"rank": 0}}, "lora.rank"), ({"lora": "yes"}, "lora must be a map"),
             ({"lora": {"rank": 2, "targets": [""]}}, "lora.targets[0]"),
             ({"lora": {"rank": 2, "targets": ["no_such_module"]}}, "lora.targets"),
             ({"attnImplementation": "fast"}, "attnImplementation"),
             ({"gradientCheckpointing": "yes"}, "gradientCheckpointing"),
             ({"modelPath": "/no/such/dir"}, "modelPath")]
    for extra, field in cases:
        w = Worker("hf")
        e = err(w, "init", hf_init(llama_dir, **extra))
        assert e["code"] == "bad_request" and field in e["message"], (extra, e)


def test_tiny_worker_refuses_export(make_worker, tmp_path):
    w = make_worker()
    e = err(w, "export", {"path": str(tmp_path / "x")})
    assert e["code"] == "bad_request" and "export" in e["message"]
    assert ok(w, "stats", {})["rssBytes"] > 0


def test_entropy_generate_eval(model_dir):
    w, _ = hf_worker(model_dir)
    prompts = [{"promptId": p["promptId"], "text": p["text"]} for p in PROMPTS]
    ent = ok(w, "entropy", {"prompts": prompts, "maxTokens": 5, "temperature": 0.6, "seed": 1})["entropy"]
    assert len(ent) == 4 and all(h > 0 for h in ent)
    gen = ok(w, "generate", {"prompts": [dict(prompts[0], system="be brief")], "temperature": 0.0, "maxTokens": 5,
                             "seed": 0})
    ev = ok(w, "eval", {"prompts": prompts, "maxTokens": 5})
    assert len(gen["texts"]) == 1 and len(ev["texts"]) == 4 and all(1 <= n <= 5 for n in ev["lengths"])
    assert os.path.isdir(model_dir[0])


def test_verify_job_uses_math_verify(make_worker):
    """The `verify` job (any worker kind: it does not touch the model) checks answers with math-verify."""
    w = make_worker()
    items = [{"response": "so $\\boxed{\\frac{1}{2}}$", "answer": "0.5"},
             {"response": "\\boxed{3\\sqrt{2}}", "answer": "\\sqrt{18}"},
             {"response": "\\boxed{(x+1)^2}", "answer": "x^2+2x+1"},
             {"response": "\\boxed{4}", "answer": "5"},
             {"response": "no answer", "answer": "5"}]
    assert ok(w, "verify", {"items": items})["correct"] == [True, True, True, False, False]
    e = err(w, "verify", {"items": [{"response": "x"}]})
    assert e["code"] == "bad_request" and e["message"] == "items[0].answer is required"
