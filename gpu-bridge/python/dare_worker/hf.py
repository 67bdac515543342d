"""The `hf` policy: any local Hugging Face causal-LM directory (AutoModelForCausalLM + AutoTokenizer,
`local_files_only=True`: nothing is downloaded).

Weights are float32 master copies; on CUDA the transformer body runs under bf16 autocast and the output
head in float32, so log-probs keep full precision while AdamW's small steps (lr ~1e-6) are not lost to
bf16 rounding. Dropout is never active (the model stays in eval mode).
"""
from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass

import torch

from .args import get_bool, get_float, get_list, get_map, get_str, get_uint
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


def default_attn_implementation() -> str:
    """SDPA where torch has it (torch >= 2.0), else transformers' eager attention (torch 1.13)."""
    return "sdpa" if hasattr(torch.nn.functional, "scaled_dot_product_attention") else "eager"


def _zero_dropout(model: torch.nn.Module) -> None:
    """Dropout is never wanted (behaviour and training log-probs must agree), not even in train mode, which
    gradient checkpointing needs: zero every Dropout module and the attention-dropout floats that
    transformers' attention classes read from their config at construction."""
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        for name in ("attention_dropout", "dropout"):
            v = getattr(m, name, None)
            if isinstance(v, float) and not isinstance(v, bool):
                setattr(m, name, 0.0)


@dataclass(frozen=True)
class LoraOptions:
    rank: int
    alpha: float
    targets: tuple  # module names; empty = every linear layer of the body ("all-linear")

    def as_dict(self) -> dict:
        return {"rank": self.rank, "alpha": self.alpha, "targets": list(self.targets)}


class HFPolicy(Policy):
    kind = "hf"

    def __init__(self, model_path: str, device: torch.device, autocast_dtype, use_chat_template: bool = True,
                 attn_implementation: str | None = None, gradient_checkpointing: bool = False,
                 lora: LoraOptions | None = None):
        transformers = _import_transformers()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_path = model_path
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        kwargs = {"local_files_only": True}
        # transformers 4.56 renamed torch_dtype to dtype (the old name is deprecated, not yet removed).
        kwargs["dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype"] = torch.float32
        requested = attn_implementation or None
        impl = requested or default_attn_implementation()
        try:
            model = AutoModelForCausalLM.from_pretrained(model_path, attn_implementation=impl, **kwargs)
        except (ValueError, ImportError) as e:
            if requested or impl == "eager":
                raise BadRequest(f"attnImplementation: {impl!r} cannot load {model_path}: {e}") from None
            impl = "eager"  # an architecture without SDPA support
            model = AutoModelForCausalLM.from_pretrained(model_path, attn_implementation=impl, **kwargs)
        self.attn_implementation = getattr(model.config, "_attn_implementation", None) or impl
        _zero_dropout(model)
        self.inner = model  # the transformers model (inside the peft wrapper when LoRA is on)
        self.lora = lora
        if lora is not None:
            model = _with_lora(model, lora)
        self.gradient_checkpointing = bool(gradient_checkpointing)
        if self.gradient_checkpointing:
            if not getattr(self.inner, "supports_gradient_checkpointing", False):
                raise BadRequest(f"gradientCheckpointing: {self.inner.config.model_type} models do not support it")
            # Non-reentrant checkpointing: works when the inputs need no grad (LoRA, frozen embeddings).
            self.inner.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.model = model.to(device)
        self.model.eval()
        self.device = device
        self.autocast_dtype = autocast_dtype
        self.transformers_version = transformers.__version__
        cfg = self.inner.config
        self.config = cfg
        self.head = self.inner.get_output_embeddings()
        self.body = self.inner.base_model
        self.vocab_size = int(self.head.weight.shape[0])
        max_len = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
        self.max_len = int(max_len) if max_len else int(1 << 30)
        self.softcap = getattr(cfg, "final_logit_softcapping", None)
        self.logit_scale = getattr(cfg, "logit_scale", None) if cfg.model_type in ("cohere", "cohere2") else None

        eos: set[int] = set()
        for src in (getattr(self.inner, "generation_config", None), cfg, self.tokenizer):
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
        lora = None
        spec = get_map(args, "lora", default=None)
        if spec is not None:
            rank = get_uint(spec, "rank", "lora", lo=1)
            targets = get_list(spec, "targets", "lora", default=[])
            for i, t in enumerate(targets):
                if not isinstance(t, str) or not t:
                    raise BadRequest(f"lora.targets[{i}] must be a non-empty string")
            lora = LoraOptions(rank=rank, alpha=get_float(spec, "alpha", "lora", default=float(2 * rank), lo=0.0,
                                                          lo_open=True),
                               targets=tuple(targets))
        attn = get_str(args, "attnImplementation", default=None,
                       choices=("eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention"))
        return HFPolicy(path, device, autocast_dtype,
                        use_chat_template=get_bool(args, "chatTemplate", default=True),
                        attn_implementation=attn,
                        gradient_checkpointing=get_bool(args, "gradientCheckpointing", default=False),
                        lora=lora)

    def train_mode(self):
        """Train mode for the forward/backward of update and sft when gradient checkpointing is on
        (transformers only checkpoints in training mode); dropout is zeroed, so the numbers are eval mode's."""
        return _TrainMode(self.model) if self.gradient_checkpointing else contextlib.nullcontext()

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
        d = {
            "kind": "hf",
            "modelType": cfg.model_type,
            "architectures": list(getattr(cfg, "architectures", None) or []),
            "vocab": self.vocab_size,
            "hidden": int(getattr(cfg, "hidden_size", 0) or getattr(cfg, "n_embd", 0) or 0),
            "params": int(sum(p.numel() for p in self.model.parameters())),
        }
        if self.lora is not None:
            d["lora"] = self.lora.as_dict()
        return d

    def init_info(self) -> dict:
        """Extra facts for the init result."""
        return {"attnImplementation": str(self.attn_implementation), "gradientCheckpointing": self.gradient_checkpointing,
                "trainableParams": int(sum(p.numel() for p in self.model.parameters() if p.requires_grad)),
                "transformers": self.transformers_version}

    def export(self, path: str) -> list[str]:
        """The current weights as a Hugging Face model directory (float32 safetensors, config, generation
        config, tokenizer) that plain `from_pretrained` loads; LoRA adapters are merged into a copy."""
        model = self.inner
        if self.lora is not None:
            model = copy.deepcopy(self.model).merge_and_unload()
        state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
        model.save_pretrained(path, state_dict=state, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        return sorted(os.listdir(path))


class _TrainMode:
    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.model.train()

    def __exit__(self, *exc):
        self.model.eval()
        return False


def _with_lora(model, lora: LoraOptions):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as e:
        raise BadRequest(f"lora: the `peft` package is not importable by this Python: {e}") from None
    targets = list(lora.targets) if lora.targets else "all-linear"
    cfg = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=0.0, target_modules=targets, bias="none",
                     task_type="CAUSAL_LM")
    try:
        return get_peft_model(model, cfg)
    except ValueError as e:
        raise BadRequest(f"lora.targets: {e}") from None
