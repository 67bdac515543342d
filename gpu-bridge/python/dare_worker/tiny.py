"""The `tiny` policy: TinyTransformer + the character tokenizer."""
from __future__ import annotations

import torch

from .args import get_map, get_uint
from .model import TinyConfig, TinyTransformer
from .policy import Policy
from .protocol import BadRequest
from .tokenizer import CharTokenizer


class TinyPolicy(Policy):
    kind = "tiny"

    def __init__(self, cfg: TinyConfig, device: torch.device, autocast_dtype: torch.dtype | None):
        self.tokenizer = CharTokenizer()
        if cfg.vocab_size != self.tokenizer.vocab_size:
            raise ValueError("TinyConfig.vocab_size must equal the tokenizer's")
        self.cfg = cfg
        self.model = TinyTransformer(cfg).to(device)
        self.device = device
        self.autocast_dtype = autocast_dtype
        self.max_len = cfg.max_len
        self.vocab_size = cfg.vocab_size
        self.pad_id = self.tokenizer.pad_id
        self.eos_ids = frozenset({self.tokenizer.eos_id})

    @staticmethod
    def from_init_args(args: dict, device: torch.device, autocast_dtype) -> "TinyPolicy":
        """Builds the model after the caller seeded torch. `model` args: {dModel, nLayers, nHeads, maxLen}."""
        m = get_map(args, "model", "", default={})
        d_model = get_uint(m, "dModel", "model", default=128, lo=1)
        n_heads = get_uint(m, "nHeads", "model", default=4, lo=1)
        if d_model % n_heads != 0:
            raise BadRequest(f"model.dModel ({d_model}) must be a multiple of model.nHeads ({n_heads})")
        cfg = TinyConfig(
            vocab_size=CharTokenizer().vocab_size,
            d_model=d_model,
            n_layers=get_uint(m, "nLayers", "model", default=4, lo=1),
            n_heads=n_heads,
            max_len=get_uint(m, "maxLen", "model", default=64, lo=2),
        )
        return TinyPolicy(cfg, device, autocast_dtype)

    def encode_prompt(self, text, field, system=None):
        return self.tokenizer.encode_prompt(text, field, system)

    def encode_completion(self, text, field):
        return self.tokenizer.encode_completion(text, field)

    def decode(self, ids):
        return self.tokenizer.decode(ids)

    def hidden(self, input_ids, key_mask, positions, cache=None, use_cache=True):
        return self.model.hidden(input_ids, key_mask, positions, cache, use_cache)

    def logits(self, hidden):
        # Float32 head outside autocast: log-probs keep full precision on CUDA too.
        return self.model.head(hidden.float()).float()

    def describe(self):
        return {"kind": "tiny", "config": self.cfg.as_dict(), "alphabet": self.tokenizer.alphabet}
