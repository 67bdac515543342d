"""Randomly initialised Hugging Face models built from a config, with a tokenizer built in code: for the
tests and the GPU check (gpu_check.py). Nothing is downloaded. Needs transformers and tokenizers only."""
from __future__ import annotations

import torch

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant>{% endif %}")
SPECIALS = ("<pad>", "<bos>", "<eos>")  # ids 0, 1, 2


def byte_level_tokenizer(vocab_size: int | None = None, chat_template: str | None = None):
    """A byte-level BPE tokenizer without merges (one token per byte), ids 0..2 = pad, bos, eos. With
    `vocab_size` larger than 3 + 256, filler tokens `<extra_i>` pad the vocabulary to that size (the GPU
    check's ~0.5B model has Qwen2's 151,936 entries)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    if vocab_size is not None:
        if vocab_size < len(vocab):
            raise ValueError(f"vocab_size {vocab_size} is below the {len(vocab)} byte-level tokens")
        while len(vocab) < vocab_size:
            vocab[f"<extra_{len(vocab)}>"] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>")
    if chat_template:
        tok.chat_template = chat_template
    return tok, len(vocab)


def model_config(arch: str, vocab: int, hidden: int = 32, layers: int = 2, heads: int = 2, kv_heads: int = 1,
                 intermediate: int = 64, positions: int = 64):
    import transformers

    ids = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}
    if arch == "gpt2":
        return transformers.GPT2Config(vocab_size=vocab, n_positions=positions, n_embd=hidden, n_layer=layers,
                                       n_head=heads, **ids)
    common = dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                  num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=positions, **ids)
    if arch == "llama":
        return transformers.LlamaConfig(**common)
    if arch == "qwen2":
        return transformers.Qwen2Config(tie_word_embeddings=True, **common)
    raise ValueError(f"unknown architecture {arch!r} (gpt2, llama, qwen2)")


def build_tiny_model(directory: str, arch: str, seed: int = 0, **config) -> int:
    """Writes a random `arch` model (config overrides in `config`) and its tokenizer to `directory`; the Llama
    and Qwen2 tokenizers carry a chat template. Returns the vocabulary size."""
    from transformers import AutoModelForCausalLM

    vocab_size = config.pop("vocab", None)
    tok, vocab = byte_level_tokenizer(vocab_size, CHAT_TEMPLATE if arch in ("llama", "qwen2") else None)
    tok.save_pretrained(directory)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(model_config(arch, vocab, **config))
    model.save_pretrained(directory, safe_serialization=True)
    return vocab
