"""Warm start + RL learns single-digit addition; and rollout / update throughput on this CPU."""
import random
import time

import numpy as np

from conftest import init_args, ok


def grpo_advantages(rewards: np.ndarray) -> np.ndarray:
    """Group-normalised advantages (methods.md §1): (R - mean) / (unbiased std + 1e-6)."""
    if len(rewards) == 1:
        return rewards.copy()
    return (rewards - rewards.mean()) / (rewards.std(ddof=1) + 1e-6)


def greedy_accuracy(w, problems) -> float:
    res = ok(w, "eval", {"prompts": [{"promptId": str(i), "text": f"{a}+{b}="} for i, (a, b) in enumerate(problems)],
                         "maxTokens": 4})
    return float(np.mean([t == str(a + b) for t, (a, b) in zip(res["texts"], problems)]))


def test_grpo_advantages_by_hand():
    # R = [1, 0, 0, 1]: mean 0.5, unbiased std sqrt((4 * 0.25) / 3) = 0.57735
    np.testing.assert_allclose(grpo_advantages(np.array([1.0, 0, 0, 1])), [0.866024, -0.866024, -0.866024, 0.866024],
                               atol=1e-5)


def test_warm_start_then_rl_learns_addition(capsys):
    """100 problems a+b (a, b in 0..9), shuffled by the seed: 20 never used, 40 shown with answers in the
    SFT warm start, 40 whose answers are never shown to the worker (RL prompts only, rewarded by the test).
    RL on the 80 prompts must raise greedy accuracy on the 40 answer-free problems over the warm start.
    Developed on seeds 0-6: gains +0.175 to +0.5 (7 seeds); the assertion asks for +0.1.
    The 20 never-used problems are reported, not asserted: this small model memorises facts and its
    accuracy there does not reliably move within this budget."""
    from dare_worker.jobs import Worker

    seed = 1
    rng = random.Random(seed)
    problems = [(a, b) for a in range(10) for b in range(10)]
    rng.shuffle(problems)
    unseen, sft_set, rl_only = problems[:20], problems[20:60], problems[60:]
    rl_pool = problems[20:]

    w = Worker("tiny")
    ok(w, "init", init_args(seed, model={"dModel": 64, "nLayers": 2, "nHeads": 4, "maxLen": 16}, lr=1e-3,
                            maxPromptTokens=8, maxResponseTokens=4))
    t0 = time.time()
    ok(w, "sft", {"examples": [{"text": f"{a}+{b}=", "completion": str(a + b)} for a, b in sft_set],
                  "steps": 60, "batchSize": 16, "lr": 3e-3, "seed": seed})
    base = {"rl_only": greedy_accuracy(w, rl_only), "sft": greedy_accuracy(w, sft_set), "unseen": greedy_accuracy(w, unseen)}

    for step in range(40):
        batch = [rl_pool[(step * 40 + i) % len(rl_pool)] for i in range(40)]
        res = ok(w, "rollout", {"prompts": [{"promptId": str(i), "text": f"{a}+{b}=", "n": 8} for i, (a, b) in enumerate(batch)],
                                "temperature": 1.0, "maxTokens": 4, "seed": 1000 + step})
        rows = []
        for g, (a, b) in zip(res["groups"], batch):
            rewards = np.array([1.0 if s["text"] == str(a + b) and s["finish"] == "eos" else 0.0 for s in g["samples"]])
            for s, adv in zip(g["samples"], grpo_advantages(rewards)):
                rows.append({"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
                             "advantage": float(adv), "clipLo": 0.8, "clipHi": 1.28})
        ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0})

    after = {"rl_only": greedy_accuracy(w, rl_only), "sft": greedy_accuracy(w, sft_set), "unseen": greedy_accuracy(w, unseen)}
    with capsys.disabled():
        print(f"\n[learning] greedy accuracy warm start {base} -> after 40 RL updates {after} "
              f"({time.time() - t0:.1f} s)")
    assert after["rl_only"] >= base["rl_only"] + 0.1


def test_throughput_rollout_and_update(capsys):
    """64 prompts x 8 samples on the default tiny model (d 128, 4 layers). Prints tokens/s; asserts only shapes."""
    from dare_worker.jobs import Worker

    w = Worker("tiny")
    args = init_args(0, model={"dModel": 128, "nLayers": 4, "nHeads": 4, "maxLen": 64}, maxPromptTokens=16,
                     maxResponseTokens=16)
    ok(w, "init", args)
    prompts = [{"promptId": f"p{i}", "text": f"{i % 10}+{(i * 7) % 10}=", "n": 8} for i in range(64)]
    t = time.perf_counter()
    res = ok(w, "rollout", {"prompts": prompts, "temperature": 1.0, "maxTokens": 16, "seed": 3})
    t_roll = time.perf_counter() - t
    samples = [s for g in res["groups"] for s in g["samples"]]
    assert len(samples) == 512
    n_tok = sum(len(s["tokens"]) // 4 for s in samples)
    rows = [{"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
             "advantage": 1.0 if k % 2 else -1.0, "clipLo": 0.8, "clipHi": 1.28} for k, s in enumerate(samples)]
    t = time.perf_counter()
    upd = ok(w, "update", {"rows": rows, "aggregation": "token-mean", "temperature": 1.0})
    t_upd = time.perf_counter() - t
    assert upd["tokens"] == n_tok
    with capsys.disabled():
        print(f"\n[throughput] rollout 512 rows: {n_tok} tokens in {t_roll:.2f} s = {n_tok / t_roll:.0f} tokens/s; "
              f"update: {n_tok / t_upd:.0f} tokens/s ({t_upd:.2f} s)")
