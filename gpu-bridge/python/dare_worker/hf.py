"""The `hf` policy: any local Hugging Face causal-LM directory (AutoModelForCausalLM + AutoTokenizer,
`local_files_only=True`: nothing is downloaded).

Weights are float32 master copies; on CUDA the transformer body runs under bf16 autocast and the output
head in float32, so log-probs keep full precision while AdamW's small steps (lr ~1e-6) are not lost to
bf16 rounding. Dropout is never active (the model stays in eval mode).
"""
from __future__ import annotations

import os

import torch

from .args import get_bool, get_str
from .policy import Policy
from .protocol import BadRequest


def _import_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError as e:
        raise RuntimeError(f"the hf worker needs the `transformers` package, which this Python cannot import: {e}") from e
    return transformers


def _version(v: str) -> tuple[int, int]:
    parts = []
    for p in v.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts + [0] * (2 - len(parts)))


def _as_ids(x) -> list[int]:
    """apply_chat_template / tokenizer outputs differ across transformers versions: list, nested list,
    tensor or BatchEncoding. Normalise to one flat list of ints."""
    if hasattr(x, "keys") and "input_ids" in x:
        x = x["input_ids"]
    if hasattr(x, "tolist"):
        x = x.tolist()
    if x and isinstance(x[0], (list, tuple)):
        x = x[0]
    return [int(t) for t in x]


class HFPolicy(Policy):
    kind = "hf"

    def __init__(self, model_path: str, device: torch.device, autocast_dtype, use_chat_template: bool = True,
                 attn_implementation: str | None = None):
        transformers = _import_transformers()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_path = model_path
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        kwargs = {"local_files_only": True}
        if attn_implementation:
            kwargs["attn_implementation"] = attn_implementation
        # transformers 4.56 renamed torch_dtype to dtype (the old name is deprecated, not yet removed).
        kwargs["dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype"] = torch.float32
        model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
        self.model = model.to(device)
        self.model.eval()
        self.device = device
        self.autocast_dtype = autocast_dtype
        self.transformers_version = transformers.__version__
        cfg = self.model.config
        self.config = cfg
        self.head = self.model.get_output_embeddings()
        self.body = self.model.base_model
        self.vocab_size = int(self.head.weight.shape[0])
        max_len = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
        self.max_len = int(max_len) if max_len else int(1 << 30)
        self.softcap = getattr(cfg, "final_logit_softcapping", None)
        self.logit_scale = getattr(cfg, "logit_scale", None) if cfg.model_type in ("cohere", "cohere2") else None

        eos: set[int] = set()
        for src in (getattr(self.model, "generation_config", None), cfg, self.tokenizer):
            v = getattr(src, "eos_token_id", None) if src is not None else None
            if isinstance(v, int):
                eos.add(v)
            elif isinstance(v, (list, tuple)):
                eos.update(int(t) for t in v)
        if not eos:
            raise BadRequest(f"modelPath: {model_path} defines no eos_token_id (tokenizer, config or generation config)")
        self.eos_ids = frozenset(eos)
        tok_eos = self.tokenizer.eos_token_id
        self._sft_eos = int(tok_eos) if tok_eos is not None else min(eos)
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else self._sft_eos
        self.use_chat_template = bool(use_chat_template and getattr(self.tokenizer, "chat_template", None))

    @staticmethod
    def from_init_args(args: dict, device: torch.device, autocast_dtype) -> "HFPolicy":
        path = get_str(args, "modelPath")
        if not os.path.isdir(path):
            raise BadRequest(f"modelPath: {path} is not a directory (the hf worker only loads local models)")
        return HFPolicy(path, device, autocast_dtype,
                        use_chat_template=get_bool(args, "chatTemplate", default=True),
                        attn_implementation=get_str(args, "attnImplementation", default=None))

    # ---- tokenizer side

    @property
    def sft_eos_id(self) -> int:
        return self._sft_eos

    def encode_prompt(self, text, field, system=None):
        tok = self.tokenizer
        if self.use_chat_template:
            messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
            try:
                ids = _as_ids(tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
            except Exception as e:  # noqa: BLE001 - a template that rejects the messages (e.g. no system role)
                raise BadRequest(f"{field}: the chat template failed: {type(e).__name__}: {e}") from None
        else:
            if system:
                text = system + "\n\n" + text
            ids = _as_ids(tok(text, add_special_tokens=True))
        if not ids and tok.bos_token_id is not None:
            ids = [int(tok.bos_token_id)]
        return ids

    def encode_completion(self, text, field):
        return _as_ids(self.tokenizer(text, add_special_tokens=False))

    def decode(self, ids):
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)

    # ---- model side

    def hidden(self, input_ids, key_mask, positions, cache=None, use_cache=True):
        out = self.body(input_ids=input_ids, attention_mask=key_mask.long(), position_ids=positions,
                        past_key_values=cache, use_cache=use_cache, return_dict=True)
        return out.last_hidden_state, (out.past_key_values if use_cache else None)

    def logits(self, hidden):
        if self.device.type == "cuda":
            with torch.autocast(device_type="cuda", enabled=False):
                logits = self.head(hidden.float())
        else:
            logits = self.head(hidden.float())
        logits = logits.float()
        if self.logit_scale is not None:
            logits = logits * float(self.logit_scale)
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits

    def describe(self):
        cfg = self.config
        return {
            "kind": "hf",
            "modelType": cfg.model_type,
            "architectures": list(getattr(cfg, "architectures", None) or []),
            "vocab": self.vocab_size,
            "hidden": int(getattr(cfg, "hidden_size", 0) or getattr(cfg, "n_embd", 0) or 0),
            "params": int(sum(p.numel() for p in self.model.parameters())),
        }
