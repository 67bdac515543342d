"""The update job: direction of learning, per-row clipping, aggregation, statistics."""
import math

import numpy as np
import pytest
import torch

from conftest import arith_prompts, err, f4, ok
from dare_worker.losses import clipped_surrogate, token_coefficients


def one_rollout(w, n_prompts=2, reps=1, seed=5, max_tokens=6):
    res = ok(w, "rollout", {"prompts": arith_prompts(n_prompts, reps=reps), "temperature": 1.0,
                            "maxTokens": max_tokens, "seed": seed})
    return [s for g in res["groups"] for s in g["samples"]]


def row(s, adv, lo=0.8, hi=1.28, **kw):
    r = {"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
         "advantage": adv, "clipLo": lo, "clipHi": hi, "weight": 1.0, "bin": -1, "truncated": False}
    r.update(kw)
    return r


def update(w, rows, **kw):
    args = {"rows": rows, "aggregation": "token-mean", "entropyCoeff": 0.0, "klCoeff": 0.0, "temperature": 1.0}
    args.update(kw)
    return ok(w, "update", args)


def score_sum(w, s):
    return ok(w, "score", {"rows": [{"promptTokens": s["promptTokens"], "tokens": s["tokens"]}],
                           "temperature": 1.0})["sums"][0]


@pytest.mark.parametrize("adv", [1.0, -1.0])
def test_advantage_sign_moves_the_row_log_prob(make_worker, adv):
    w = make_worker(seed=11)
    s = one_rollout(w, n_prompts=1)[0]
    before = score_sum(w, s)
    for _ in range(3):
        update(w, [row(s, adv)])
    after = score_sum(w, s)
    assert (after - before) * adv > 0.05, (before, after)


def grad_norm(eng):
    g = [p.grad.detach().pow(2).sum() for p in eng.params if p.grad is not None]
    return float(torch.stack(g).sum().sqrt()) if g else 0.0


def test_per_row_clip_bounds_stop_the_gradient_on_the_clipped_side(make_worker):
    w = make_worker(seed=12)
    s0, s1 = one_rollout(w, n_prompts=2)
    eng = w.engine
    rows = [(np.frombuffer(s["promptTokens"], "<i4").astype(np.int64),
             np.frombuffer(s["tokens"], "<i4").astype(np.int64)) for s in (s0, s1)]

    def row_grad(ratio, adv, lo, hi, which, other_hi=1.28):
        """Gradient norm of row `which`'s summed loss when both rows have ratio `ratio` exactly."""
        eng.optimizer.zero_grad(set_to_none=True)
        pk = eng.pack(rows)
        logp, _ = eng.forward_tokens(pk, 1.0, with_entropy=False)
        old = (logp.detach() - math.log(ratio)) * pk.mask  # r = exp(logp - old) = ratio on every token
        his = torch.tensor([hi, other_hi]) if which == 0 else torch.tensor([other_hi, hi])
        loss, clipped = clipped_surrogate(logp, old, torch.tensor([adv, adv]), torch.tensor([lo, lo]), his)
        (loss[which] * pk.mask[which]).sum().backward()
        return grad_norm(eng), bool(clipped[which][pk.mask[which] > 0].all())

    # A > 0 and r = 1.5 above this row's hi = 1.28: the clipped branch wins, no gradient.
    g, c = row_grad(1.5, +1.0, 0.8, 1.28, which=0)
    assert g == 0.0 and c
    # Same ratio, but this row's own hi = 2.0 contains it: gradient flows. Per-row bounds, same batch.
    g, c = row_grad(1.5, +1.0, 0.8, 2.0, which=1, other_hi=1.28)
    assert g > 1e-4 and not c
    # Inside the bounds (r = 1): gradient.
    g, c = row_grad(1.0, +1.0, 0.8, 1.28, which=0)
    assert g > 1e-4 and not c
    # A < 0 and r = 0.5 below lo = 0.8: clipped side, no gradient.
    g, c = row_grad(0.5, -1.0, 0.8, 1.28, which=1)
    assert g == 0.0 and c
    # A < 0 and r = 1.5 above hi: the unclipped branch is the larger loss, so the gradient flows (PPO).
    g, c = row_grad(1.5, -1.0, 0.8, 1.28, which=0)
    assert g > 1e-4 and not c


def test_fully_clipped_update_leaves_weights_unchanged(make_worker):
    # End to end: old log-probs set so r = 1.5 > clipHi with A > 0. Zero gradient, weight decay 0, fresh
    # AdamW moments: the step is exactly zero; clipFrac = 1.
    w = make_worker(seed=13)
    s = one_rollout(w, n_prompts=1)[0]
    before = w.engine.state_hash()
    old = (f4(s["logprobs"]) - np.float32(math.log(1.5))).astype("<f4").tobytes()
    res = update(w, [row(s, 1.0, oldLogprobs=old)])
    assert res["clipFrac"] == 1.0 and res["gradNorm"] == 0.0
    assert w.engine.state_hash() == before
    res = update(w, [row(s, 1.0)])  # r = 1: inside, the weights move
    assert res["clipFrac"] == 0.0 and res["gradNorm"] > 0 and w.engine.state_hash() != before


def test_dual_clip_by_hand():
    # A = -1, r = 5: max(-A r, -A clip(r, .8, 1.28)) = max(5, 1.28) = 5; dual clip c = 3 caps it at -A c = 3.
    logp = torch.tensor([[math.log(5.0)]])
    old = torch.zeros(1, 1)
    loss, _ = clipped_surrogate(logp, old, torch.tensor([-1.0]), torch.tensor([0.8]), torch.tensor([1.28]))
    assert abs(float(loss) - 5.0) < 1e-5
    loss, _ = clipped_surrogate(logp, old, torch.tensor([-1.0]), torch.tensor([0.8]), torch.tensor([1.28]), 3.0)
    assert abs(float(loss) - 3.0) < 1e-6


def test_aggregation_coefficients_by_hand():
    n, wts, inc = [2, 3, 0, 5], [1.0, 2.0, 1.0, 0.5], [True, True, True, False]
    # included tokens N = 2 + 3 + 0 = 5; included rows with tokens S = 2 (row 2 is empty, row 3 excluded)
    assert token_coefficients(n, wts, inc, "token-mean", None) == pytest.approx([1 / 5, 2 / 5, 0, 0])
    # w_i / (S n_i): 1/(2*2) = 0.25, 2/(2*3) = 1/3
    assert token_coefficients(n, wts, inc, "seq-mean-token-mean", None) == pytest.approx([0.25, 1 / 3, 0, 0])
    # w_i / (S lConst): 1/(2*10) = 0.05, 2/(2*10) = 0.1
    assert token_coefficients(n, wts, inc, "seq-mean-token-sum-norm", 10) == pytest.approx([0.05, 0.1, 0, 0])
    assert token_coefficients(n, wts, inc, "weighted-token-sum", None) == pytest.approx([1.0, 2.0, 0, 0])


def test_update_statistics_at_ratio_one(make_worker):
    w = make_worker(seed=14)
    s0, s1 = one_rollout(w, n_prompts=2, max_tokens=6)
    n0, n1 = len(f4(s0["logprobs"])), len(f4(s1["logprobs"]))
    # old = behaviour log-probs = current policy, so r = 1 and ℓ = -A on every token.
    res = update(w, [row(s0, 0.5, weight=2.0, bin=2), row(s1, -1.0, bin=3)])
    # token-mean with weights: (2 * (-0.5) * n0 + 1 * (+1) * n1) / (n0 + n1)
    assert res["pgLoss"] == pytest.approx((-1.0 * n0 + n1) / (n0 + n1), abs=1e-5)
    # binLosses are unweighted token means of ℓ inside each bucket: -A
    assert res["binLosses"] == pytest.approx({"2": -0.5, "3": 1.0}, abs=1e-5)
    assert res["tokens"] == n0 + n1 and res["clipFrac"] == 0.0 and abs(res["kl"]) < 1e-5
    assert res["entropy"] > 0 and res["policyVersion"] == 1 and res["skipped"] is False


def test_mask_truncated_and_other_aggregations(make_worker):
    w = make_worker(seed=15)
    s0, s1 = one_rollout(w, n_prompts=2, max_tokens=6)
    n0, n1 = len(f4(s0["logprobs"])), len(f4(s1["logprobs"]))
    rows = [row(s0, 0.5), row(s1, -1.0, truncated=True)]
    res = update(w, rows, maskTruncated=True)  # row 1 leaves the loss: ℓ = -0.5 per token of row 0
    assert res["tokens"] == n0 and res["pgLoss"] == pytest.approx(-0.5, abs=1e-5)

    w2 = make_worker(seed=15)
    s0, s1 = one_rollout(w2, n_prompts=2, max_tokens=6)
    # seq-mean-token-sum-norm, lConst = 8: (1/2) (n0 (-0.5) + n1 (1)) / 8
    res = update(w2, [row(s0, 0.5), row(s1, -1.0)], aggregation="seq-mean-token-sum-norm", lConst=8)
    assert res["pgLoss"] == pytest.approx(0.5 * (-0.5 * n0 + n1) / 8, abs=1e-5)
    e = err(w2, "update", {"rows": [row(s0, 1.0)], "aggregation": "seq-mean-token-sum-norm", "temperature": 1.0})
    assert e["code"] == "bad_request" and "lConst" in e["message"]
    e = err(w2, "update", {"rows": [row(s0, 1.0, refLogprobs=b"\0\0\0\0" * (n0 + 1))], "aggregation": "token-mean",
                           "temperature": 1.0, "klCoeff": 0.1})
    assert e["code"] == "bad_request" and "rows[0].refLogprobs" in e["message"]
    e = err(w2, "update", {"rows": [row(s0, 1.0, oldLogprobs=b"")], "aggregation": "token-mean", "temperature": 1.0})
    assert e["code"] == "bad_request" and "rows[0].oldLogprobs" in e["message"]


def test_entropy_and_caller_reference_kl_terms(make_worker):
    w = make_worker(seed=16)
    (s,) = one_rollout(w, n_prompts=1)
    res = update(w, [row(s, 1.0, refLogprobs=s["logprobs"])], entropyCoeff=0.01, klCoeff=0.5)
    # ref = current log-probs: k3 = e^0 - 0 - 1 = 0; loss = pg - 0.01 * entropy + 0.5 * 0
    assert abs(res["refKl"]) < 1e-6
    assert res["loss"] == pytest.approx(res["pgLoss"] - 0.01 * res["entropy"], abs=1e-6)


def k3_mean(ref, logp):
    x = ref.astype(np.float64) - logp.astype(np.float64)
    return float(np.mean(np.exp(x) - x - 1))


def test_internal_reference_is_the_init_policy_then_the_sft_policy(make_worker):
    w = make_worker(seed=18)
    fresh = make_worker(seed=18)  # same seed: holds the init weights, i.e. w's reference
    (s,) = one_rollout(w, n_prompts=1)
    rows = [row(s, 1.0)]
    assert abs(update(w, rows, klCoeff=0.5)["refKl"]) < 1e-6  # at init the policy is its own reference
    for _ in range(3):
        update(w, rows)
    sc = {"rows": [{"promptTokens": s["promptTokens"], "tokens": s["tokens"]}], "temperature": 1.0}
    logp_now = f4(ok(w, "score", sc)["logprobs"][0])
    logp_ref = f4(ok(fresh, "score", sc)["logprobs"][0])
    expected = k3_mean(logp_ref, logp_now)  # x = log π_ref − log π_θ, token mean
    assert expected > 1e-4
    res = update(w, rows, klCoeff=0.5)
    assert res["refKl"] == pytest.approx(expected, rel=1e-4, abs=1e-7)
    # the reference swap left the weights as they were: the update's kl (behaviour vs current) saw them
    assert res["kl"] == pytest.approx(k3_mean(f4(s["logprobs"]), logp_now), rel=1e-4, abs=1e-7)

    ok(w, "sft", {"examples": [{"text": "1+1=", "completion": "2"}], "steps": 2, "batchSize": 1, "lr": 1e-3, "seed": 0})
    assert abs(update(w, rows, klCoeff=0.5)["refKl"]) < 1e-6  # sft made the warm-started policy the reference


def test_micro_batching_does_not_change_the_update(make_worker):
    wa, wb = make_worker(seed=17), make_worker(seed=17)
    ss = one_rollout(wa, n_prompts=4, reps=2)
    rows = [row(s, a) for s, a in zip(ss, [1.0, -0.5, 0.3, -1.2, 0.0, 2.0, -0.7, 0.4])]
    ra = update(wa, rows, aggregation="seq-mean-token-mean")
    rb = update(wb, rows, aggregation="seq-mean-token-mean", microBatch=3)
    assert ra["pgLoss"] == pytest.approx(rb["pgLoss"], abs=1e-6)
    assert ra["gradNorm"] == pytest.approx(rb["gradNorm"], rel=1e-5)
    # AdamW's first step is lr * g / (|g| + eps): rounding-level differences in a near-zero gradient
    # can move one weight by a visible fraction of lr (1e-3), so compare at 2 % of lr.
    for pa, pb in zip(wa.engine.params, wb.engine.params):
        torch.testing.assert_close(pa, pb, rtol=0, atol=2e-5)
