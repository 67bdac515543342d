"""The hf worker's check on a CUDA host, without Node: drives `python -m dare_worker --kind hf` over its protocol
(length-prefixed MessagePack frames on stdin/stdout, docs/worker-protocol.md) the way the gpu-bridge does.

    python gpu-bridge/python/gpu_check.py                 # CUDA: a random ~0.5B Qwen2, 64 prompts x 8 x 512 tokens
    python gpu-bridge/python/gpu_check.py --small         # CPU: a tiny random model, in seconds (a pytest runs this)
    python gpu-bridge/python/gpu_check.py --json out.json # also write the figures as JSON

It builds a randomly initialised model from a config in a temporary directory (Qwen2-0.5B's shape: hidden 896,
24 layers, 14 heads / 2 KV heads, MLP 4864, vocabulary 151,936, tied embeddings: 494 M parameters) with a
byte-level tokenizer, and reports: rollout tokens/s (generated tokens, KV cache, bf16 autocast on CUDA),
update tokens/s (response tokens through forward + backward + one AdamW step) and peak memory
(torch.cuda.max_memory_allocated, or RSS on the CPU) for two updates, and the logprob parity of the update:
max and mean |log π(training forward) − log π(rollout)| per token on the same weights.

Needs only torch and transformers (peft for --lora); the worker falls back to its own MessagePack codec
where the msgpack package is missing. Nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dare_worker.protocol import msgpack  # noqa: E402 - msgpack, or the worker's fallback codec

FULL = {"hidden": 896, "layers": 24, "heads": 14, "kv_heads": 2, "intermediate": 4864, "vocab": 151936,
        "positions": 4096}
SMALL = {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 128, "positions": 256}


class Worker:
    """One worker process and its frames."""

    def __init__(self, env: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "dare_worker", "--kind", "hf"], cwd=HERE, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.n = 0

    def request(self, job: str, args: dict) -> dict:
        self.n += 1
        body = msgpack.packb({"id": f"check/{self.n}/{job}", "job": job, "args": args}, use_bin_type=True)
        self.proc.stdin.write(struct.pack(">I", len(body)) + body)
        self.proc.stdin.flush()
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            raise SystemExit(f"gpu_check: the worker exited (code {self.proc.wait()}) during {job}")
        (length,) = struct.unpack(">I", header)
        reply = msgpack.unpackb(self.proc.stdout.read(length), raw=False, strict_map_key=False)
        if not reply.get("ok"):
            raise SystemExit(f"gpu_check: {job} failed: {reply.get('error')}")
        return reply["result"]

    def close(self) -> None:
        try:
            self.request("shutdown", {})
        finally:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def build_model(directory: str, arch: str, shape: dict) -> int:
    from dare_worker.synthetic import build_tiny_model

    return build_tiny_model(directory, arch, **shape)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="the hf worker's GPU check, over its protocol")
    ap.add_argument("--small", action="store_true", help="tiny model on the CPU, small shapes (seconds)")
    ap.add_argument("--arch", default="qwen2", choices=("qwen2", "llama"))
    ap.add_argument("--prompts", type=int, default=None, help="prompts (default 64; --small 4)")
    ap.add_argument("--samples", type=int, default=None, help="samples per prompt (default 8; --small 2)")
    ap.add_argument("--new-tokens", type=int, default=None, help="tokens generated per sample (default 512; --small 16)")
    ap.add_argument("--prompt-chars", type=int, default=None, help="prompt length in bytes = tokens (default 64; --small 12)")
    ap.add_argument("--batch-tokens", type=int, default=None, help="update token budget per micro-batch (default 8192)")
    ap.add_argument("--device", default=None, choices=("auto", "cpu", "cuda"), help="default: cpu with --small, else auto")
    ap.add_argument("--lora", type=int, default=0, help="LoRA rank (0: full fine-tuning)")
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--json", default=None, help="write the figures to this file")
    o = ap.parse_args(argv)
    small = o.small
    prompts = o.prompts or (4 if small else 64)
    samples = o.samples or (2 if small else 8)
    new_tokens = o.new_tokens or (16 if small else 512)
    prompt_chars = o.prompt_chars or (12 if small else 64)
    device = o.device or ("cpu" if small else "auto")

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([HERE] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="dare-gpu-check-") as d:
        t0 = time.perf_counter()
        build_model(d, o.arch, dict(SMALL if small else FULL))
        build_s = time.perf_counter() - t0
        w = Worker(env)
        try:
            init = {"seed": 1, "kind": "hf", "modelPath": d, "device": device, "deterministic": False,
                    "optim": {"lr": 1e-6, "weightDecay": 0.0}, "maxPromptTokens": prompt_chars + 8,
                    "maxResponseTokens": new_tokens, "rolloutRows": prompts * samples, "chatTemplate": False}
            if o.batch_tokens:
                init["batchTokens"] = o.batch_tokens
            if o.lora:
                init["lora"] = {"rank": o.lora}
            if o.gradient_checkpointing:
                init["gradientCheckpointing"] = True
            info = w.request("init", init)
            rng = random.Random(0)
            alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 +-*="
            ps = [{"promptId": f"p{i}", "text": "".join(rng.choice(alphabet) for _ in range(prompt_chars)),
                   "n": samples} for i in range(prompts)]
            w.request("stats", {"resetPeak": True})
            t = time.perf_counter()
            roll = w.request("rollout", {"prompts": ps, "temperature": 1.0, "maxTokens": new_tokens, "seed": 3})
            rollout_s = time.perf_counter() - t
            mem_rollout = w.request("stats", {"resetPeak": True})
            rows = []
            for g in roll["groups"]:
                for k, s in enumerate(g["samples"]):
                    rows.append({"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
                                 "advantage": 1.0 if k % 2 == 0 else -1.0, "clipLo": 0.8, "clipHi": 1.28,
                                 "onPolicy": True})
            gen_tokens = sum(len(r["tokens"]) // 4 for r in rows)
            updates = []
            for u in range(2):
                t = time.perf_counter()
                res = w.request("update", {"rows": rows if u == 0 else [dict(r, onPolicy=False) for r in rows],
                                           "aggregation": "token-mean", "temperature": 1.0, "entropyCoeff": 0.0})
                dt = time.perf_counter() - t
                mem = w.request("stats", {"resetPeak": True})
                updates.append({"seconds": dt, "tokensPerSecond": res["tokens"] / dt, "tokens": res["tokens"],
                                "gradNorm": res["gradNorm"], "memory": mem,
                                **({"logprobParity": {"maxAbs": res["logprobDiffMax"], "meanAbs": res["logprobDiffMean"],
                                                      "tokens": res["logprobDiffTokens"]}} if "logprobDiffMax" in res else {})})
        finally:
            w.close()
    out = {
        "device": mem_rollout.get("device", info["device"]),
        "dtype": info["dtype"], "torch": info["torch"], "transformers": info.get("transformers"),
        "attnImplementation": info.get("attnImplementation"), "arch": o.arch, "params": info["params"],
        "trainableParams": info.get("trainableParams"),
        "shape": {"prompts": prompts, "samples": samples, "newTokens": new_tokens, "promptTokens": prompt_chars},
        "buildSeconds": build_s,
        "rollout": {"seconds": rollout_s, "tokens": gen_tokens, "tokensPerSecond": gen_tokens / rollout_s,
                    "memory": mem_rollout},
        "updates": updates,
        "logprobParity": updates[0].get("logprobParity"),
    }
    peak = lambda m: m.get("cudaMaxAllocated", m.get("rssBytes", 0)) / 2**30  # noqa: E731
    print(f"gpu_check: {out['device']} ({out['dtype']}), torch {out['torch']}, transformers {out['transformers']}, "
          f"{o.arch} {out['params'] / 1e6:.1f} M params, attention {out['attnImplementation']}")
    print(f"  rollout  {prompts} x {samples} x {new_tokens}: {gen_tokens} tokens in {rollout_s:.2f} s = "
          f"{out['rollout']['tokensPerSecond']:.0f} tokens/s; peak {peak(mem_rollout):.2f} GiB")
    for i, u in enumerate(updates):
        print(f"  update {i + 1}: {u['tokens']} tokens in {u['seconds']:.2f} s = {u['tokensPerSecond']:.0f} tokens/s; "
              f"peak {peak(u['memory']):.2f} GiB")
    if out["logprobParity"]:
        lp = out["logprobParity"]
        print(f"  logprob parity (rollout vs training forward, {lp['tokens']} tokens): max |Δ| {lp['maxAbs']:.3g}, "
              f"mean |Δ| {lp['meanAbs']:.3g}")
    if o.json:
        with open(o.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
