"""The common policy interface: what the shared sampling / scoring / update code needs of a model.

`tiny.TinyPolicy` and `hf.HFPolicy` implement it; `engine.Engine` holds one and does all the math.
"""
from __future__ import annotations

import contextlib

import torch


class Policy:
    kind: str = "?"
    model: torch.nn.Module
    device: torch.device
    autocast_dtype: torch.dtype | None = None  # bf16 autocast on CUDA, None = plain float32
    max_len: int  # positions the model can attend over (prompt + response)
    vocab_size: int
    pad_id: int
    eos_ids: frozenset

    # ---- tokenizer side
    def encode_prompt(self, text: str, field: str, system: str | None = None) -> list[int]:
        raise NotImplementedError

    def encode_completion(self, text: str, field: str) -> list[int]:
        """Target completion tokens without the end token (sft appends `sft_eos_id`)."""
        raise NotImplementedError

    @property
    def sft_eos_id(self) -> int:
        return min(self.eos_ids)

    def decode(self, ids) -> str:
        raise NotImplementedError

    # ---- model side
    def hidden(self, input_ids: torch.Tensor, key_mask: torch.Tensor, positions: torch.Tensor, cache=None,
               use_cache: bool = True):
        """input_ids, positions: long [B, T]; key_mask: bool [B, cache_len + T] (False = padding).
        Returns (hidden [B, T, d], new cache)."""
        raise NotImplementedError

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Float32 logits [..., V] from hidden states (called outside autocast)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """What must match between a checkpoint and the worker that loads it."""
        raise NotImplementedError

    def train_mode(self):
        """Context for the forward/backward passes of update and sft (hf: train mode when gradient
        checkpointing is on; dropout is always off)."""
        return contextlib.nullcontext()

    def init_info(self) -> dict:
        """Extra facts for the init result."""
        return {}

    def export(self, path: str) -> list[str]:
        """Writes the weights as a Hugging Face model directory; returns the file names."""
        from .protocol import BadRequest

        raise BadRequest(f"export: the {self.kind} worker has no Hugging Face format (only hf models export)")

    def autocast(self):
        if self.autocast_dtype is None or self.device.type != "cuda":
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.autocast_dtype)

    @property
    def dtype_name(self) -> str:
        return "bfloat16" if self.autocast_dtype == torch.bfloat16 else "float32"
