"""The hf worker on tiny randomly initialised GPT-2 and Llama models built in a temp dir (nothing is
downloaded). Skipped where `transformers` cannot be imported (the Debian CPU image has no transformers;
GPU hosts do)."""
import hashlib

import numpy as np
import pytest

transformers = pytest.importorskip(
    "transformers", reason="transformers is not installed for this Python (it exists on the GPU hosts); "
                           "the hf worker tests need it")

import torch  # noqa: E402

from conftest import f4, i4, ok  # noqa: E402

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant>{% endif %}")


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def model_dir(tmp_path_factory, request):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    arch = request.param
    d = tmp_path_factory.mktemp(f"hf-{arch}")
    vocab = {"<pad>": 0, "<bos>": 1, "<eos>": 2}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))  # no merges: one token per byte
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>")
    if arch == "llama":
        tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(str(d))
    torch.manual_seed(0)
    if arch == "gpt2":
        cfg = transformers.GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
        model = transformers.GPT2LMHeadModel(cfg)
    else:
        cfg = transformers.LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                                       max_position_embeddings=64, bos_token_id=1, eos_token_id=2, pad_token_id=0)
        model = transformers.LlamaForCausalLM(cfg)
    model.save_pretrained(str(d))
    return str(d), arch, len(vocab)


def hf_worker(model_dir, seed=0):
    from dare_worker.jobs import Worker

    path, _, _ = model_dir
    w = Worker("hf")
    res = ok(w, "init", {"seed": seed, "kind": "hf", "modelPath": path, "device": "cpu", "deterministic": True,
                         "optim": {"lr": 1e-3, "weightDecay": 0.0}, "maxPromptTokens": 48, "maxResponseTokens": 12})
    return w, res


PROMPTS = [{"promptId": f"q{i}", "text": f"{i}+{i + 1}=", "n": 3} for i in range(4)]


def test_init_and_prompt_encoding(model_dir):
    w, res = hf_worker(model_dir)
    _, arch, vocab = model_dir
    assert res["device"] == "cpu" and res["dtype"] == "float32" and res["vocabSize"] == vocab
    pol = w.engine.policy
    ids = pol.encode_prompt("1+2=", "text")
    if arch == "llama":  # chat template applied, generation prompt included
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


def test_entropy_generate_eval(model_dir):
    w, _ = hf_worker(model_dir)
    prompts = [{"promptId": p["promptId"], "text": p["text"]} for p in PROMPTS]
    ent = ok(w, "entropy", {"prompts": prompts, "maxTokens": 5, "temperature": 0.6, "seed": 1})["entropy"]
    assert len(ent) == 4 and all(h > 0 for h in ent)
    gen = ok(w, "generate", {"prompts": [dict(prompts[0], system="be brief")], "temperature": 0.0, "maxTokens": 5,
                             "seed": 0})
    ev = ok(w, "eval", {"prompts": prompts, "maxTokens": 5})
    assert len(gen["texts"]) == 1 and len(ev["texts"]) == 4 and all(1 <= n <= 5 for n in ev["lengths"])
