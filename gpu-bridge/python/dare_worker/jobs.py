"""Job handlers: validate args (BadRequest names the field), call the Engine, build the result map.

The Worker answers one request at a time and keeps the reply cache (idempotency by request id).
"""
from __future__ import annotations

import os
import sys
import traceback

import numpy as np
import torch

from . import args as A
from .engine import Engine, OptimConfig, UpdateRow
from .losses import AGGREGATIONS
from .protocol import BadRequest, ReplyCache, error_reply, f4_bytes, i4_bytes, ok_reply
from .ranks import MIRRORED, RanksLost


def _fault_delay(job: str) -> None:
    """Fault injection for the kill tests: DARE_WORKER_FAULT_DELAY="rollout:500,update:300" sleeps that many
    ms at the start of each job of that name (any job: rollout, score, update, save, eval, ...), so a test
    can kill the worker while the job is running."""
    spec = os.environ.get("DARE_WORKER_FAULT_DELAY", "")
    for part in filter(None, spec.split(",")):
        name, _, ms = part.partition(":")
        if name.strip() == job and ms.strip():
            import time

            time.sleep(float(ms) / 1000.0)

torch.set_num_threads(int(os.environ.get("DARE_TORCH_THREADS", "2")))

KINDS = ("tiny", "hf")


class NotInitialised(Exception):
    pass


class Worker:
    def __init__(self, kind: str, dp=None):
        """dp: a follower rank's ranks.DataParallel (set by ranks.follower_main); None on rank 0."""
        if kind not in KINDS:
            raise ValueError(f"unknown worker kind {kind!r}")
        self.kind = kind
        self.engine: Engine | None = None
        self.init_id: str | None = None
        self.cache = ReplyCache()
        self._math_verifier = None
        self.dp = dp
        self.ranks = None  # rank 0 of a data-parallel worker: ranks.Ranks (the followers)
        self.fatal: str | None = None  # set when the ranks are lost: __main__ exits after the reply
        self.handlers = {
            "init": self.job_init, "rollout": self.job_rollout, "score": self.job_score,
            "entropy": self.job_entropy, "generate": self.job_generate, "update": self.job_update,
            "sft": self.job_sft, "save": self.job_save, "load": self.job_load, "eval": self.job_eval,
            "export": self.job_export, "stats": self.job_stats, "verify": self.job_verify, "shutdown": self.job_shutdown,
        }

    # ------------------------------------------------------------------ dispatch

    def handle(self, rid: str, job: str, args: dict) -> tuple[bytes, bool]:
        """Returns (reply frame, exit after writing it)."""
        hit = self.cache.get(rid)
        if hit is not None:
            cached_job, frame = hit
            if cached_job != job:
                return error_reply(rid, "bad_request", f"id: request id {rid!r} was already used for a "
                                                       f"{cached_job!r} job, not {job!r}"), False
            return frame, False
        handler = self.handlers.get(job)
        if handler is None:
            return error_reply(rid, "unknown_job", f"unknown job {job!r}; jobs are {', '.join(self.handlers)}"), False
        try:
            if self.engine is None and job not in ("init", "shutdown"):
                raise NotInitialised(f"job {job!r} before init")
            _fault_delay(job)
            if self.fatal is not None:
                raise RuntimeError(self.fatal)
            if self.ranks is not None and job in MIRRORED:
                self.ranks.send(job, args)  # the followers run the same job on the same args (ranks.py)
            result = handler(args) if job != "init" else self.job_init(args, rid)
        except BadRequest as e:
            return error_reply(rid, "bad_request", str(e)), False
        except NotInitialised as e:
            return error_reply(rid, "not_initialised", str(e)), False
        except Exception as e:  # noqa: BLE001 - every failure becomes an `internal` reply, never a crash
            traceback.print_exc(file=sys.stderr)
            if self.ranks is not None and (isinstance(e, RanksLost) or job in MIRRORED + ("sft",)):
                # a rank is gone or a collective broke: the replicas may differ, so this worker is done
                self.fatal = self.fatal or f"data-parallel ranks lost during {job!r}: {type(e).__name__}: {e}"
                return error_reply(rid, "internal", self.fatal), False
            return error_reply(rid, "internal", f"{type(e).__name__}: {e}"), False
        frame = ok_reply(rid, result)
        if job == "load":
            # The restored state predates every reply since: re-sent updates must be applied again.
            self.cache.clear()
        if job != "shutdown":
            self.cache.put(rid, job, frame)
        return frame, job == "shutdown"

    # ------------------------------------------------------------------ init

    def job_init(self, args: dict, rid: str = "") -> dict:
        if self.engine is not None:
            raise BadRequest(f"already initialised by request {self.init_id!r}; start a new worker to re-init")
        kind = A.get_str(args, "kind", choices=KINDS)
        if kind != self.kind:
            raise BadRequest(f"kind: this worker was started with --kind {self.kind}, init asked for {kind!r}")
        seed = A.get_uint(args, "seed", hi=(1 << 64) - 1)
        device_name = A.get_str(args, "device", default="auto", choices=("auto", "cpu", "cuda"))
        deterministic = A.get_bool(args, "deterministic")
        o = A.get_map(args, "optim")
        optim = OptimConfig(
            lr=A.get_float(o, "lr", "optim", lo=0.0),
            weight_decay=A.get_float(o, "weightDecay", "optim", default=0.01, lo=0.0),
            beta1=A.get_float(o, "beta1", "optim", default=0.9, lo=0.0, hi=1.0),
            beta2=A.get_float(o, "beta2", "optim", default=0.999, lo=0.0, hi=1.0),
            eps=A.get_float(o, "eps", "optim", default=1e-8, lo=0.0),
            grad_clip=A.get_float(o, "gradClip", "optim", default=1.0, lo=0.0),
        )
        max_prompt = A.get_uint(args, "maxPromptTokens", lo=1)
        max_resp = A.get_uint(args, "maxResponseTokens", lo=1)
        # Rows x padded length per forward pass. hf: the float32 logits alone are tokens x vocab x 4 bytes
        # (8192 x 152k x 4 = 5 GB for Qwen), and log-softmax, its exp and the gradient triple that.
        batch_tokens = A.get_uint(args, "batchTokens", default=65536 if self.kind == "tiny" else 8192, lo=1)
        # Rows sampled together; their KV cache grows with maxTokens (hf: ~28 KB per token for a 1.5B GQA model).
        rollout_rows = A.get_uint(args, "rolloutRows", default=1024 if self.kind == "tiny" else 128, lo=1)
        ranks = A.get_uint(args, "ranks", default=1, lo=1, hi=64)  # data-parallel update ranks (ranks.py)

        if device_name == "cuda" and not torch.cuda.is_available():
            raise BadRequest("device: 'cuda' requested but torch sees no CUDA device")
        use_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
        device = torch.device("cuda" if use_cuda else "cpu")
        if use_cuda:
            if deterministic:
                torch.use_deterministic_algorithms(True, warn_only=True)
                torch.backends.cudnn.benchmark = False
            autocast_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        else:
            # CPU runs are the reproducible ones (resume test): always deterministic, float32.
            torch.use_deterministic_algorithms(True)
            autocast_dtype = None
        if ranks > 1 and use_cuda and self.dp is None and torch.cuda.device_count() < ranks:
            raise BadRequest(f"ranks: {ranks} ranks on CUDA need one GPU each; torch sees {torch.cuda.device_count()}")
        if ranks > 1 and self.dp is None:  # rank 0: start the followers and send them this init
            from .ranks import Ranks

            self.ranks = Ranks(ranks, self.kind, use_cuda)
            self.ranks.send("init", args)
        try:
            return self._init_engine(args, rid, seed, use_cuda, device, autocast_dtype, optim, max_prompt, max_resp,
                                     batch_tokens, rollout_rows, ranks)
        except BaseException:
            self.close()  # a failed init leaves no follower behind
            raise

    def _init_engine(self, args, rid, seed, use_cuda, device, autocast_dtype, optim, max_prompt, max_resp,
                     batch_tokens, rollout_rows, ranks) -> dict:
        torch.manual_seed(seed)
        if use_cuda:
            torch.cuda.manual_seed_all(seed)

        if self.kind == "tiny":
            from .tiny import TinyPolicy
            policy = TinyPolicy.from_init_args(args, device, autocast_dtype)
        else:
            from .hf import HFPolicy
            policy = HFPolicy.from_init_args(args, device, autocast_dtype)
        if max_prompt + max_resp > policy.max_len:
            raise BadRequest(f"maxPromptTokens + maxResponseTokens = {max_prompt + max_resp} exceeds the model's "
                             f"{policy.max_len} positions")
        self.engine = Engine(policy, optim, max_prompt, max_resp, batch_tokens, rollout_rows)
        # pipelined mode: rollouts and scores may name the version before the last update (Engine.at_version)
        self.engine.keep_previous = A.get_bool(args, "keepPrevious", default=False)
        if ranks > 1:
            self.engine.dist = self.dp or self.ranks.dp
            self.engine.dist.broadcast_model(policy.model)  # identical replicas whatever the init did
            self.engine.ref_state = self.engine._snapshot()
        self.init_id = rid
        print(f"dare_worker: {self.kind} on {device} ({policy.dtype_name}), "
              f"{sum(p.numel() for p in policy.model.parameters())} params", file=sys.stderr)
        return {
            "device": device.type,
            "dtype": policy.dtype_name,
            "params": int(sum(p.numel() for p in policy.model.parameters())),
            "vocabSize": int(policy.vocab_size),
            "policyVersion": 0,
            "torch": torch.__version__,
            "ranks": ranks,
            **policy.init_info(),
        }

    # ------------------------------------------------------------------ sampling jobs

    def _prompts(self, args: dict, with_n: bool, max_tokens: int, with_system: bool = False):
        """Encodes `prompts`; returns (per-prompt ids, promptIds, n per prompt)."""
        eng = self.engine
        prompts = A.get_list(args, "prompts", min_len=1)
        ids, pids, ns = [], [], []
        for i, p in enumerate(prompts):
            path = A.item_path("", "prompts", i)
            if not isinstance(p, dict):
                raise BadRequest(f"{path} must be a map")
            pids.append(A.get_str(p, "promptId", path))
            text = A.get_str(p, "text", path)
            system = A.get_str(p, "system", path, default=None) if with_system else None
            toks = eng.policy.encode_prompt(text, f"{path}.text", system=system)
            eng.check_prompt_len(len(toks), f"{path}.text")
            eng.check_row_len(len(toks), max_tokens, f"{path}.text")
            ids.append(toks)
            ns.append(A.get_uint(p, "n", path) if with_n else 1)
        return ids, pids, ns

    def job_rollout(self, args: dict) -> dict:
        with self.engine.at_version(A.get_uint(args, "policyVersion", default=None)):
            return self._rollout(args)

    def _rollout(self, args: dict) -> dict:
        eng = self.engine
        temperature = A.get_float(args, "temperature", lo=0.0, lo_open=True)
        max_tokens = A.get_uint(args, "maxTokens")
        eng.check_max_tokens(max_tokens)
        seed = A.get_uint(args, "seed", hi=(1 << 64) - 1)
        ids, pids, ns = self._prompts(args, with_n=True, max_tokens=max_tokens)
        rows = [p for p, n in zip(ids, ns) for _ in range(n)]
        groups = []
        if rows:
            samples = eng.sample(rows, np.arange(len(rows), dtype=np.uint64), temperature, max_tokens, seed)
        else:
            samples = []
        k = 0
        for p, pid, n in zip(ids, pids, ns):
            pt = i4_bytes(p)
            out = []
            for s in samples[k:k + n]:
                out.append({"promptTokens": pt, "tokens": i4_bytes(s.tokens), "logprobs": f4_bytes(s.logprobs),
                            "text": eng.policy.decode([t for t in s.tokens.tolist() if t not in eng.policy.eos_ids]),
                            "finish": s.finish})
            k += n
            groups.append({"promptId": pid, "samples": out})
        return {"groups": groups}

    def job_entropy(self, args: dict) -> dict:
        with self.engine.at_version(A.get_uint(args, "policyVersion", default=None)):
            return self._entropy(args)

    def _entropy(self, args: dict) -> dict:
        eng = self.engine
        max_tokens = A.get_uint(args, "maxTokens", default=min(64, eng.max_response_tokens))
        eng.check_max_tokens(max_tokens)
        temperature = A.get_float(args, "temperature", default=0.6, lo=0.0, lo_open=True)
        seed = A.get_uint(args, "seed", hi=(1 << 64) - 1)
        ids, _, _ = self._prompts(args, with_n=False, max_tokens=max_tokens)
        samples = eng.sample(ids, np.arange(len(ids), dtype=np.uint64), temperature, max_tokens, seed,
                             want_entropy=True)
        return {"entropy": [float(np.mean(s.entropies.astype(np.float64))) if len(s.entropies) else 0.0
                            for s in samples]}

    def _decode_all(self, samples) -> list[str]:
        pol = self.engine.policy
        return [pol.decode([t for t in s.tokens.tolist() if t not in pol.eos_ids]) for s in samples]

    def job_generate(self, args: dict) -> dict:
        with self.engine.at_version(A.get_uint(args, "policyVersion", default=None)):
            return self._generate(args)

    def _generate(self, args: dict) -> dict:
        eng = self.engine
        temperature = A.get_float(args, "temperature", lo=0.0)
        max_tokens = A.get_uint(args, "maxTokens")
        eng.check_max_tokens(max_tokens)
        seed = A.get_uint(args, "seed", hi=(1 << 64) - 1)
        ids, _, _ = self._prompts(args, with_n=False, max_tokens=max_tokens, with_system=True)
        samples = eng.sample(ids, np.arange(len(ids), dtype=np.uint64), temperature, max_tokens, seed,
                             greedy=temperature == 0.0)
        return {"texts": self._decode_all(samples)}

    def job_eval(self, args: dict) -> dict:
        with self.engine.at_version(A.get_uint(args, "policyVersion", default=None)):
            return self._eval(args)

    def _eval(self, args: dict) -> dict:
        eng = self.engine
        max_tokens = A.get_uint(args, "maxTokens")
        eng.check_max_tokens(max_tokens)
        ids, _, _ = self._prompts(args, with_n=False, max_tokens=max_tokens)
        samples = eng.sample(ids, np.arange(len(ids), dtype=np.uint64), 1.0, max_tokens, 0, greedy=True)
        return {"texts": self._decode_all(samples), "lengths": [int(len(s.tokens)) for s in samples]}

    # ------------------------------------------------------------------ score / update

    def _token_row(self, r, path: str):
        eng = self.engine
        if not isinstance(r, dict):
            raise BadRequest(f"{path} must be a map")
        prompt = A.get_i4(r, "promptTokens", path)
        tokens = A.get_i4(r, "tokens", path)
        eng.check_tokens(prompt, f"{path}.promptTokens")
        eng.check_tokens(tokens, f"{path}.tokens")
        if len(prompt) < 1:
            raise BadRequest(f"{path}.promptTokens is empty: a prompt needs at least one token")
        eng.check_row_len(len(prompt), len(tokens), path)
        return prompt, tokens

    def job_score(self, args: dict) -> dict:
        with self.engine.at_version(A.get_uint(args, "policyVersion", default=None)):
            return self._score(args)

    def _score(self, args: dict) -> dict:
        eng = self.engine
        temperature = A.get_float(args, "temperature", lo=0.0, lo_open=True)
        rows = A.get_list(args, "rows")
        parsed = [self._token_row(r, A.item_path("", "rows", i)) for i, r in enumerate(rows)]
        lps = eng.score(parsed, temperature) if parsed else []
        return {"logprobs": [f4_bytes(lp) for lp in lps],
                "sums": [float(lp.astype(np.float64).sum()) for lp in lps]}

    def job_update(self, args: dict) -> dict:
        eng = self.engine
        aggregation = A.get_str(args, "aggregation", choices=AGGREGATIONS)
        l_const = A.get_uint(args, "lConst", default=None, lo=1) if aggregation == "seq-mean-token-sum-norm" \
            else A.get_uint(args, "lConst", default=None)
        if aggregation == "seq-mean-token-sum-norm" and l_const is None:
            raise BadRequest("lConst is required for aggregation seq-mean-token-sum-norm")
        mask_truncated = A.get_bool(args, "maskTruncated", default=False)
        entropy_coeff = A.get_float(args, "entropyCoeff", default=0.0)
        kl_coeff = A.get_float(args, "klCoeff", default=0.0, lo=0.0)
        temperature = A.get_float(args, "temperature", lo=0.0, lo_open=True)
        micro_batch = A.get_uint(args, "microBatch", default=None, lo=1)
        dual_clip = A.get_float(args, "dualClip", default=None, lo=1.0, lo_open=True)
        rows = A.get_list(args, "rows")
        parsed = []
        for i, r in enumerate(rows):
            path = A.item_path("", "rows", i)
            prompt, tokens = self._token_row(r, path)
            old = A.get_f4(r, "oldLogprobs", path)
            if len(old) != len(tokens):
                raise BadRequest(f"{path}.oldLogprobs has {len(old)} entries for {len(tokens)} tokens")
            if not np.all(np.isfinite(old)):
                raise BadRequest(f"{path}.oldLogprobs holds a non-finite value")
            ref = A.get_f4(r, "refLogprobs", path, default=None)  # absent: the worker's own reference policy
            if ref is not None and len(ref) != len(tokens):
                raise BadRequest(f"{path}.refLogprobs has {len(ref)} entries for {len(tokens)} tokens")
            clip_lo = A.get_float(r, "clipLo", path, lo=0.0)
            clip_hi = A.get_float(r, "clipHi", path, lo=0.0)
            if clip_hi < clip_lo:
                raise BadRequest(f"{path}.clipHi ({clip_hi}) is below {path}.clipLo ({clip_lo})")
            parsed.append(UpdateRow(
                prompt=prompt, tokens=tokens, old_logprobs=old,
                advantage=A.get_float(r, "advantage", path),
                clip_lo=clip_lo, clip_hi=clip_hi,
                weight=A.get_float(r, "weight", path, default=1.0),
                bin=A.get_int(r, "bin", path, default=-1, lo=-1),
                truncated=A.get_bool(r, "truncated", path, default=False),
                ref_logprobs=ref,
                on_policy=A.get_bool(r, "onPolicy", path, default=False),
            ))
        return eng.update(parsed, aggregation, l_const, mask_truncated, entropy_coeff, kl_coeff, temperature,
                          micro_batch, dual_clip)

    def job_sft(self, args: dict) -> dict:
        eng = self.engine
        examples = A.get_list(args, "examples", min_len=1)
        steps = A.get_uint(args, "steps")
        batch_size = A.get_uint(args, "batchSize", lo=1)
        lr = A.get_float(args, "lr", lo=0.0)
        seed = A.get_uint(args, "seed", hi=(1 << 64) - 1)
        pol = eng.policy
        enc = []
        for i, ex in enumerate(examples):
            path = A.item_path("", "examples", i)
            if not isinstance(ex, dict):
                raise BadRequest(f"{path} must be a map")
            p = pol.encode_prompt(A.get_str(ex, "text", path), f"{path}.text")
            eng.check_prompt_len(len(p), f"{path}.text")
            c = pol.encode_completion(A.get_str(ex, "completion", path), f"{path}.completion") + [pol.sft_eos_id]
            eng.check_row_len(len(p), len(c), path)
            enc.append((p, c))
        out = eng.sft(enc, steps, batch_size, lr, seed)
        if self.ranks is not None:  # sft runs on rank 0 only; its weights then go to every rank
            self.ranks.send("sync", {"policyVersion": eng.policy_version})
            self.sync_from_rank0({"policyVersion": eng.policy_version})
        return out

    def sync_from_rank0(self, args: dict) -> None:
        """Every rank: rank 0's weights (after its sft) become this rank's model and reference policy."""
        eng = self.engine
        eng.dist.broadcast_model(eng.policy.model)
        eng.ref_state = eng._snapshot()
        eng.policy_version = int(args["policyVersion"])

    # ------------------------------------------------------------------ checkpoints / lifecycle

    def job_save(self, args: dict) -> dict:
        return self.engine.save(A.get_str(args, "path"))

    def job_load(self, args: dict) -> dict:
        path = A.get_str(args, "path")
        sha = A.get_str(args, "sha256", default=None)
        return self.engine.load(path, sha)

    def job_export(self, args: dict) -> dict:
        """The current weights as a Hugging Face model directory at `path` (written beside it, then renamed)."""
        path = os.path.abspath(A.get_str(args, "path"))
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            raise BadRequest(f"path: directory {parent} does not exist")
        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise BadRequest(f"path: {path} exists and is not an empty directory")
        tmp = path + ".tmp"
        if os.path.exists(tmp):
            import shutil

            shutil.rmtree(tmp)
        os.makedirs(tmp)
        files = self.engine.policy.export(tmp)
        if os.path.isdir(path):
            os.rmdir(path)
        os.replace(tmp, path)
        return {"path": path, "files": files, "policyVersion": self.engine.policy_version}

    def job_stats(self, args: dict) -> dict:
        """Memory of this process: resident set (bytes, from /proc) and, on CUDA, torch's allocator figures
        (`cudaMaxAllocated` is the peak since the last `stats` with `resetPeak: true`)."""
        out = {"rssBytes": _rss_bytes(), "policyVersion": self.engine.policy_version}
        if self.engine.device.type == "cuda":
            out["cudaAllocated"] = int(torch.cuda.memory_allocated())
            out["cudaReserved"] = int(torch.cuda.memory_reserved())
            out["cudaMaxAllocated"] = int(torch.cuda.max_memory_allocated())
            out["device"] = torch.cuda.get_device_name()
            if A.get_bool(args, "resetPeak", default=False):
                torch.cuda.reset_peak_memory_stats()
        return out

    def job_verify(self, args: dict) -> dict:
        """Math answers checked with math-verify (dare_worker/mathverify.py): {items: [{response, answer}]} ->
        {correct: [bool]}. Independent of the model; needs the math-verify package."""
        items = A.get_list(args, "items")
        pairs = []
        for i, it in enumerate(items):
            path = A.item_path("", "items", i)
            if not isinstance(it, dict):
                raise BadRequest(f"{path} must be a map")
            pairs.append((A.get_str(it, "response", path), A.get_str(it, "answer", path)))
        if self._math_verifier is None:
            from .mathverify import MathVerifier

            self._math_verifier = MathVerifier()
        return {"correct": [self._math_verifier.correct(r, a) for r, a in pairs]}

    def job_shutdown(self, args: dict) -> dict:
        self.close()
        return {}

    def close(self) -> None:
        """End the follower ranks (if any) and the process group (a broken group: killed after 2 s)."""
        if self.ranks is not None:
            ranks, self.ranks = self.ranks, None
            ranks.close(timeout_s=2.0 if self.fatal is not None else 20.0)


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
