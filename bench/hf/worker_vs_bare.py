"""SmolLM2-135M-Instruct on the CPU: the hf worker's rollout and update against a bare transformers loop of the
same shapes (BENCHMARKS.md, "hf worker on the CPU").

    .venv/bin/python bench/hf/worker_vs_bare.py [--prompts 8] [--samples 4] [--new-tokens 48] [--repeats 3]

rollout: the worker's `rollout` job (KV cache, left padding, per-row stops, inverse-CDF sampling, log-probs)
against `model.generate(do_sample=True, top_k=0, top_p=1)` on the same left-padded chat prompts. Both keep
finished rows in the batch until every row is done, so the figure compared is row-steps/s (rows × decode
steps / s); generated tokens/s (EOS-terminated rows count only their tokens) is printed beside it.
update: the worker's `update` job on the rollout's rows (clipped surrogate, one AdamW step) against a bare
forward + backward + AdamW step on the same right-padded batch (−A·log π over the response tokens,
token-mean). tokens/s = response tokens / s. Each figure is the median of `--repeats` timed runs after one
warm-up, worker and bare alternating (they share one model object). Also printed: the logprob parity the
warm-up update reports (CPU float32), the one update whose rows were sampled by the weights it starts from.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "gpu-bridge", "python"))

import msgpack  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

QUESTIONS = ["Explain why the sum of two even numbers is even.", "What is 23 + 19? Show your steps.",
             "Describe how to compute 12 * 13 in your head.", "Why is 91 not a prime number?",
             "What is 7 * 8 - 5? Explain.", "How many minutes are in 3.5 hours?",
             "Write the steps to add 456 and 789.", "What is one third of 81, and why?"]


def ok(worker, rid, job, args):
    frame, _ = worker.handle(rid, job, args)
    msg = msgpack.unpackb(frame[4:], raw=False)
    assert msg["ok"], msg
    return msg["result"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "smollm2-135m-instruct"))
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=3)
    o = ap.parse_args(argv)

    from dare_worker.jobs import Worker
    import transformers
    try:  # torch 1.13 on Python 3.11: generate() imports torch.distributed.fsdp, which fails there
        import transformers.generation.utils as gu
        gu.is_fsdp_managed_module = lambda m: False
    except AttributeError:
        pass

    w = Worker("hf")
    info = ok(w, "init", "init", {"seed": 1, "kind": "hf", "modelPath": o.model, "device": "cpu", "deterministic": True,
                                  "optim": {"lr": 1e-6, "weightDecay": 0.0}, "maxPromptTokens": 128,
                                  "maxResponseTokens": o.new_tokens})
    pol = w.engine.policy
    model, tok = pol.inner, pol.tokenizer
    prompts = [{"promptId": f"p{i}", "text": QUESTIONS[i % len(QUESTIONS)], "n": o.samples} for i in range(o.prompts)]
    enc = [pol.encode_prompt(p["text"], "text") for p in prompts]
    rows_ids = [e for e in enc for _ in range(o.samples)]
    P = max(len(e) for e in rows_ids)
    ids = torch.full((len(rows_ids), P), pol.pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows_ids), P), dtype=torch.long)
    for i, e in enumerate(rows_ids):
        ids[i, P - len(e):] = torch.tensor(e)
        mask[i, P - len(e):] = 1
    n_rows = len(rows_ids)

    def worker_rollout(k):
        t = time.perf_counter()
        res = ok(w, f"r{k}", "rollout", {"prompts": prompts, "temperature": 1.0, "maxTokens": o.new_tokens, "seed": k})
        dt = time.perf_counter() - t
        lens = [len(s["tokens"]) // 4 for g in res["groups"] for s in g["samples"]]
        return dt, sum(lens), max(lens), res

    def bare_rollout(k):
        torch.manual_seed(k)
        t = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                                 max_new_tokens=o.new_tokens, pad_token_id=pol.pad_id, eos_token_id=sorted(pol.eos_ids))
        dt = time.perf_counter() - t
        gen = out[:, P:]
        steps = gen.shape[1]
        real = 0
        for row in gen.tolist():
            n = 0
            for x in row:
                n += 1
                if x in pol.eos_ids:
                    break
            real += n
        return dt, real, steps

    # update rows: one rollout's rows, reused by every timed update (advantages ±1)
    _, _, _, roll = worker_rollout(1000)
    samples = [s for g in roll["groups"] for s in g["samples"]]
    upd_rows = [{"promptTokens": s["promptTokens"], "tokens": s["tokens"], "oldLogprobs": s["logprobs"],
                 "advantage": 1.0 if k % 2 == 0 else -1.0, "clipLo": 0.8, "clipHi": 1.28, "onPolicy": True}
                for k, s in enumerate(samples)]
    pk = w.engine.pack([(np.frombuffer(s["promptTokens"], "<i4").astype(np.int64),
                         np.frombuffer(s["tokens"], "<i4").astype(np.int64)) for s in samples])
    adv = torch.tensor([r["advantage"] for r in upd_rows]).unsqueeze(1)
    n_resp = int(pk.mask.sum())
    bare_opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6, weight_decay=0.0)

    def worker_update(k):
        t = time.perf_counter()
        res = ok(w, f"u{k}", "update", {"rows": upd_rows, "aggregation": "token-mean", "temperature": 1.0,
                                        "entropyCoeff": 0.0})
        return time.perf_counter() - t, res

    def bare_update(k):
        t = time.perf_counter()
        logits = model(input_ids=pk.ids, attention_mask=pk.key_mask.long(), position_ids=pk.positions).logits
        lr = logits.gather(1, pk.resp_idx.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
        logp = torch.log_softmax(lr.float(), -1).gather(-1, pk.targets.unsqueeze(-1)).squeeze(-1)
        loss = -(adv * logp * pk.mask).sum() / n_resp
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        bare_opt.step()
        bare_opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t

    wr, br, wu, bu, parity = [], [], [], [], []
    for k in range(o.repeats + 1):
        a = worker_rollout(k)
        b = bare_rollout(k)
        c = worker_update(k)
        d = bare_update(k)
        if k == 0:
            # the warm-up's worker update is the only on-policy one: the rows were sampled by the weights it
            # starts from (every update after it, the worker's and the bare one's, moves the shared model)
            parity.append((c[1]["logprobDiffMax"], c[1]["logprobDiffMean"], c[1]["logprobDiffTokens"]))
            continue
        wr.append(a), br.append(b), wu.append(c[0]), bu.append(d)
    med = statistics.median
    w_rs = med([n_rows * a[2] / a[0] for a in wr])
    b_rs = med([n_rows * b[2] / b[0] for b in br])
    w_tok = med([a[1] / a[0] for a in wr])
    b_tok = med([b[1] / b[0] for b in br])
    w_up = n_resp / med(wu)
    b_up = n_resp / med(bu)
    print(f"hf worker vs bare transformers, {info['params'] / 1e6:.1f} M params, torch {torch.__version__}, "
          f"transformers {transformers.__version__}, attention {info['attnImplementation']}, "
          f"{torch.get_num_threads()} threads")
    print(f"shapes: {o.prompts} prompts x {o.samples} samples = {n_rows} rows, prompts {P} tokens (left-padded), "
          f"<= {o.new_tokens} new tokens; update {n_rows} rows, {n_resp} response tokens; median of {o.repeats}")
    print(f"rollout  worker {w_rs:8.1f} row-steps/s ({w_tok:6.1f} generated tokens/s)   "
          f"bare generate {b_rs:8.1f} row-steps/s ({b_tok:6.1f} tokens/s)   ratio {w_rs / b_rs:.2f}")
    print(f"update   worker {w_up:8.1f} tokens/s   bare forward-backward-AdamW {b_up:8.1f} tokens/s   ratio {w_up / b_up:.2f}")
    mx = max(p[0] for p in parity)
    mean = statistics.fmean(p[1] for p in parity)
    print(f"logprob parity (rollout vs training forward, CPU float32, {parity[0][2]} tokens per update): "
          f"max |Δ| {mx:.3g}, mean |Δ| {mean:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
