"""What a job one policy version behind costs the PyTorch worker in pipelined mode (run.offPolicySteps = 1): the
weights from before the last update swapped in and out, by two load_state_dict copies (before 2026-12-07) or
by swapping the parameters' storage (Engine.at_version now). Run: .venv/bin/python bench/hf/version_swap.py
[MODEL_DIR] (default models/smollm2-135m-instruct), OPENBLAS_NUM_THREADS=1."""
import sys
import time

import torch
import transformers

torch.set_num_threads(2)
path = sys.argv[1] if len(sys.argv) > 1 else "models/smollm2-135m-instruct"
model = transformers.AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
kept_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
params = {k: p for k, p in model.named_parameters() if p.requires_grad}
kept = {k: p.detach().clone() for k, p in params.items()}


def load_state_dict_copies():
    full = model.state_dict()
    current = {k: full[k].detach().clone() for k in kept_state}
    model.load_state_dict(kept_state)
    model.load_state_dict(current)


def swap():
    for k, t in kept.items():
        p = params[k]
        kept[k], p.data = p.data, t


def storage_swap():
    swap()
    swap()


for f in (load_state_dict_copies, storage_swap):
    f()
    t0 = time.perf_counter()
    for _ in range(3):
        f()
    print(f"{f.__name__}: {(time.perf_counter() - t0) / 3 * 1000:.1f} ms a job (in and out)")
