"""Pure loss pieces of the `update` job (methods.md §1-§2; dare-reference.md §10).

All tensors are [B, R] over response tokens unless stated; `mask` is 1.0 on tokens that count.
"""
from __future__ import annotations

import torch

AGGREGATIONS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm", "weighted-token-sum")

LOG_RATIO_CLAMP = 20.0  # verl clamps log π_θ − log μ to ±20 before exp (methods.md §1)
K3_CLAMP = 10.0  # verl's low_var_kl clamps k3 to [−10, 10] (dare-reference.md §10)


def clipped_surrogate(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip_lo: torch.Tensor,
                      clip_hi: torch.Tensor, dual_clip: float | None = None):
    """Per-token PPO loss ℓ = max(−A·r, −A·clip(r, lo, hi)), r = exp(logp − old_logp).

    adv, clip_lo, clip_hi: per row [B] (absolute ratio bounds, e.g. 0.8 / 1.28). Returns (ℓ [B, R],
    clipped [B, R] bool = the clipped branch is the larger one, i.e. that token gives no gradient through r).
    dual_clip c (optional, verl): for A < 0, ℓ ← min(ℓ, −A·c).
    """
    log_ratio = torch.clamp(logp - old_logp, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    ratio = torch.exp(log_ratio)
    a = adv.unsqueeze(1)
    lo = clip_lo.unsqueeze(1).expand_as(ratio)
    hi = clip_hi.unsqueeze(1).expand_as(ratio)
    unclipped = -a * ratio
    clipped_term = -a * torch.clamp(ratio, min=lo, max=hi)
    loss = torch.maximum(unclipped, clipped_term)
    is_clipped = clipped_term > unclipped
    if dual_clip is not None:
        cap = -a * dual_clip
        loss = torch.where(a < 0, torch.minimum(loss, cap), loss)
    return loss, is_clipped


def k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """k3 = e^x − x − 1 with x = log π_ref − log π_θ, clamped to [−10, 10] (low-variance KL estimate)."""
    x = torch.clamp(ref_logp - logp, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return torch.clamp(torch.exp(x) - x - 1.0, -K3_CLAMP, K3_CLAMP)


def token_coefficients(n_tokens: list[int], weights: list[float], included: list[bool], aggregation: str,
                       l_const: int | None) -> list[float]:
    """Per-row multiplier c_i so that the aggregated loss is Σ_i c_i Σ_t ℓ_{i,t}.

    n_tokens: response tokens per row; weights: per-row loss weight w_i; included: False for rows
    excluded from the loss (maskTruncated). With N = Σ_i n_i over included rows and S = number of included
    rows with at least one token:
      token-mean:               c_i = w_i / N
      seq-mean-token-mean:      c_i = w_i / (S · n_i)
      seq-mean-token-sum-norm:  c_i = w_i / (S · lConst)   (Dr. GRPO; methods.md §1 form with 1/N_seq)
      weighted-token-sum:       c_i = w_i                  (DARO: the learner sends w_μ / T_μ per row)
    Global normalisers make the result independent of micro-batching.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}")
    total = sum(n for n, inc in zip(n_tokens, included) if inc)
    seqs = sum(1 for n, inc in zip(n_tokens, included) if inc and n > 0)
    out = []
    for n, w, inc in zip(n_tokens, weights, included):
        if not inc or n == 0:
            out.append(0.0)
        elif aggregation == "token-mean":
            out.append(w / total)
        elif aggregation == "seq-mean-token-mean":
            out.append(w / (seqs * n))
        elif aggregation == "seq-mean-token-sum-norm":
            if not l_const:
                raise ValueError("seq-mean-token-sum-norm needs lConst > 0")
            out.append(w / (seqs * l_const))
        else:
            out.append(w)
    return out
