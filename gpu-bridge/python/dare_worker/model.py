"""A small pre-LayerNorm causal transformer with learned positions and a key/value cache.

Written out by hand (no scaled_dot_product_attention: torch 1.13). Padding is described by a key mask,
so the same module serves left-padded incremental sampling and right-padded scoring.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class TinyConfig:
    vocab_size: int
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    max_len: int = 64  # positions (prompt + response tokens)

    def as_dict(self) -> dict:
        return asdict(self)


class KVCache:
    """Preallocated keys/values per layer, [B, H, capacity, dh], filled up to `length` positions.
    Writing in place avoids re-copying the whole cache at every generated token (torch.cat did)."""

    def __init__(self, n_layers: int, capacity: int):
        self.k: list = [None] * n_layers
        self.v: list = [None] * n_layers
        self.length = 0
        self.capacity = capacity

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Stores k, v [B, H, t, dh] after the current length; returns the filled views."""
        start, t = self.length, k.shape[2]
        buf_k, buf_v = self.k[layer], self.v[layer]
        if buf_k is None or start + t > buf_k.shape[2]:
            cap = max(self.capacity, start + t)
            new_k = k.new_empty(k.shape[0], k.shape[1], cap, k.shape[3])
            new_v = v.new_empty(v.shape[0], v.shape[1], cap, v.shape[3])
            if buf_k is not None:
                new_k[:, :, :start] = buf_k[:, :, :start]
                new_v[:, :, :start] = buf_v[:, :, :start]
            self.k[layer], self.v[layer] = buf_k, buf_v = new_k, new_v
        buf_k[:, :, start:start + t] = k
        buf_v[:, :, start:start + t] = v
        return buf_k[:, :, :start + t], buf_v[:, :, :start + t]


class Block(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, cache: KVCache | None, layer: int):
        b, t, d = x.shape
        h, dh = self.n_heads, d // self.n_heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q = q.view(b, t, h, dh).transpose(1, 2)
        k = k.view(b, t, h, dh).transpose(1, 2)
        v = v.view(b, t, h, dh).transpose(1, 2)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        scale = 1.0 / math.sqrt(dh)
        if t == 1:
            # One query per row (incremental decoding): broadcasting beats torch 1.13's CPU bmm, which
            # loops over the B*H tiny matrices.
            scores = (q * k).sum(-1, keepdim=True).transpose(-1, -2) * scale + bias  # [B, H, 1, Tk]
            att = torch.softmax(scores.float(), dim=-1).to(v.dtype)
            y = (att.transpose(-1, -2) * v).sum(2, keepdim=True)  # [B, H, 1, dh]
        else:
            scores = (q @ k.transpose(-1, -2)) * scale + bias
            att = torch.softmax(scores.float(), dim=-1).to(v.dtype)
            y = att @ v
        y = y.transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x


class TinyTransformer(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # GPT-2 style: N(0, 0.02), residual projections scaled down by depth.
        for name, p in self.named_parameters():
            if p.dim() == 1:
                if name.endswith("weight"):
                    nn.init.ones_(p)  # LayerNorm gains
                else:
                    nn.init.zeros_(p)
            elif name.endswith("proj.weight") or name.endswith("fc2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * self.cfg.n_layers))
            else:
                nn.init.normal_(p, std=0.02)

    @staticmethod
    def attention_bias(key_mask: torch.Tensor, t_q: int) -> torch.Tensor:
        """Additive bias [B, 1, t_q, t_k]: query i (the last t_q positions) sees key j when j <= i and key j
        is real. A padding query also sees itself, so no softmax row is all -inf (no NaN)."""
        b, t_k = key_mask.shape
        q_idx = torch.arange(t_k - t_q, t_k, device=key_mask.device).view(t_q, 1)
        k_idx = torch.arange(t_k, device=key_mask.device).view(1, t_k)
        causal = k_idx <= q_idx
        allowed = (causal.unsqueeze(0) & key_mask.unsqueeze(1)) | (k_idx == q_idx).unsqueeze(0)
        bias = torch.zeros(b, 1, t_q, t_k, device=key_mask.device)
        return bias.masked_fill(~allowed.unsqueeze(1), float("-inf"))

    def hidden(self, input_ids: torch.Tensor, key_mask: torch.Tensor, positions: torch.Tensor,
               cache: KVCache | None = None, use_cache: bool = False):
        """input_ids, positions: [B, T]; key_mask: bool [B, cached + T]. Returns ([B, T, d], cache); the
        cache is created on the first call with use_cache and extended in place afterwards."""
        t = input_ids.shape[1]
        if cache is None and use_cache:
            cache = KVCache(len(self.blocks), self.cfg.max_len)
        if key_mask.shape[1] != (cache.length if cache is not None else 0) + t:
            raise ValueError("key_mask must cover the cached positions plus the new tokens")
        pos = positions.clamp(0, self.cfg.max_len - 1)
        x = self.tok(input_ids) + self.pos(pos)
        bias = self.attention_bias(key_mask, t)
        for i, block in enumerate(self.blocks):
            x = block(x, bias, cache, i)
        if cache is not None:
            cache.length += t
        return self.ln_f(x), cache

    def forward(self, input_ids, key_mask, positions, cache=None, use_cache=False):
        h, cache = self.hidden(input_ids, key_mask, positions, cache, use_cache)
        return self.head(h), cache
