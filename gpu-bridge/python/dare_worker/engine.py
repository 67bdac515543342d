"""The model math shared by every worker kind: sampling with a KV cache, scoring, the clipped-surrogate
update, supervised warm start, and what a checkpoint holds (the file itself: checkpoint.py). It talks to the
model only through `policy.Policy`.

Units: lengths in tokens; log-probs in nats under the temperature-scaled distribution softmax(logits / T).
"""
from __future__ import annotations

import contextlib
import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .checkpoint import CHECKPOINT_FORMAT, read_checkpoint, write_checkpoint
from .losses import clipped_surrogate, k3, token_coefficients
from .noise import uniforms
from .policy import Policy
from .protocol import BadRequest


@dataclass
class OptimConfig:
    lr: float
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    grad_clip: float = 1.0  # max global grad norm; 0 = no clipping


@dataclass
class Sample:
    tokens: np.ndarray  # int64 [n], includes the EOS token when finish == "eos"
    logprobs: np.ndarray  # float32 [n]
    entropies: np.ndarray | None  # float32 [n] full-distribution entropy per generated token
    finish: str  # "eos" | "length"


@dataclass
class UpdateRow:
    prompt: np.ndarray  # int64
    tokens: np.ndarray  # int64
    old_logprobs: np.ndarray  # float32, len == len(tokens)
    advantage: float
    clip_lo: float
    clip_hi: float
    weight: float = 1.0
    bin: int = -1
    truncated: bool = False
    ref_logprobs: np.ndarray | None = None
    on_policy: bool = False  # old_logprobs came from the current weights: counts for the logprob parity


@dataclass
class Packed:
    """Right-padded prompt+response rows. resp_idx[i, j] is the position whose logits predict response
    token j of row i (prompt length − 1 + j)."""
    ids: torch.Tensor  # long [B, L]
    key_mask: torch.Tensor  # bool [B, L]
    positions: torch.Tensor  # long [B, L]
    resp_idx: torch.Tensor  # long [B, R]
    targets: torch.Tensor  # long [B, R]
    mask: torch.Tensor  # float [B, R]
    lengths: list = field(default_factory=list)  # response tokens per row


def token_logprobs_from_logits(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """log softmax(logits / T) in float32 — the one definition used by sampling, score and update."""
    logits = logits.float()
    if temperature != 1.0:
        logits = logits / temperature
    return torch.log_softmax(logits, dim=-1)


def entropy_from_logp(logp_all: torch.Tensor) -> torch.Tensor:
    """−Σ_v π(v) log π(v) (nats) over the last dim."""
    return -(logp_all.exp() * logp_all).sum(-1)


class Engine:
    def __init__(self, policy: Policy, optim: OptimConfig, max_prompt_tokens: int, max_response_tokens: int,
                 batch_tokens: int = 65536, rollout_rows: int = 1024):
        self.policy = policy
        self.optim_cfg = optim
        self.max_prompt_tokens = max_prompt_tokens
        self.max_response_tokens = max_response_tokens
        self.batch_tokens = batch_tokens  # score/update/sft: token budget of one forward pass (rows x padded length)
        self.rollout_rows = rollout_rows  # sampling: rows decoded together (their KV cache is the memory cost)
        self.policy_version = 0
        self.dist = None  # ranks.DataParallel when the update runs over several ranks
        self.params = [p for p in policy.model.parameters() if p.requires_grad]
        self.optimizer = self._make_optimizer(optim.lr)
        policy.model.eval()  # dropout is never used: behaviour and update log-probs must agree
        # The KL reference π_ref: the policy at init, replaced by the policy at the end of each sft (the
        # warm-started model). A CPU copy; saved in checkpoints so resume restores it.
        self.ref_state = self._snapshot()
        # Pipelined mode (run.offPolicySteps = 1): the trainable weights before the last update, (version, tensors
        # on the model's device), so the next step's rollouts and scores run one update behind as the log says.
        # Off: None, no copy made. On, it costs one more copy of the trainable weights in device memory.
        self.previous: tuple[int, dict] | None = None

    @contextlib.contextmanager
    def at_version(self, version: int | None):
        """Run the body with the weights of `version`: the current ones (None or the current version), or the
        ones before the last update (their storage swapped in and back). Anything else is a BadRequest naming
        the versions held."""
        if version is None or version == self.policy_version:
            yield
            return
        if self.previous is None or self.previous[0] != version:
            held = f" and {self.previous[0]}" if self.previous is not None else ""
            raise BadRequest(f"policyVersion: {version} is not held (the worker has {self.policy_version}{held})")
        # swap the tensors' storage in and back (no copy: a job one version behind costs what a current one does)
        params = self._trainable()
        held = self.previous[1]
        self._swap(params, held)
        try:
            yield
        finally:
            self._swap(params, held)

    def _trainable(self) -> dict:
        """The parameters the optimiser changes, by name, each once (tied weights are one Parameter)."""
        return {k: p for k, p in self.policy.model.named_parameters() if p.requires_grad}

    @staticmethod
    def _swap(params: dict, held: dict) -> None:
        for k, t in held.items():
            p = params[k]
            held[k], p.data = p.data, t

    def _previous_copy(self) -> dict:
        """A copy of the trainable weights on their device, for at_version."""
        return {k: p.detach().clone() for k, p in self._trainable().items()}

    def _snapshot(self) -> dict:
        """CPU copy of what the optimiser changes: the whole state dict, or only the trainable parameters
        when some are frozen (LoRA: the adapters; the frozen base is the same in π and π_ref)."""
        model = self.policy.model
        if all(p.requires_grad for p in model.parameters()):
            return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return {k: p.detach().to("cpu", copy=True) for k, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def reference_logprobs(self, rows: list[tuple[np.ndarray, np.ndarray]], temperature: float) -> list[np.ndarray]:
        """Log-probs of the given tokens under π_ref: swap the reference weights in, score, swap back
        (load_state_dict copies in place, so the optimiser's parameters stay the same objects)."""
        model = self.policy.model
        full = model.state_dict()
        current = {k: full[k].detach().clone() for k in self.ref_state}
        strict = len(current) == len(full)
        model.load_state_dict(self.ref_state, strict=strict)
        try:
            return self.score(rows, temperature)
        finally:
            model.load_state_dict(current, strict=strict)

    def _make_optimizer(self, lr: float) -> torch.optim.Optimizer:
        c = self.optim_cfg
        return torch.optim.AdamW(self.params, lr=lr, betas=(c.beta1, c.beta2), eps=c.eps,
                                 weight_decay=c.weight_decay, foreach=False)

    @property
    def device(self) -> torch.device:
        return self.policy.device

    # ------------------------------------------------------------------ validation

    def check_tokens(self, ids: np.ndarray, field: str) -> None:
        if ids.size and (ids.min() < 0 or ids.max() >= self.policy.vocab_size):
            bad = int(ids[(ids < 0) | (ids >= self.policy.vocab_size)][0])
            raise BadRequest(f"{field} holds token id {bad}, outside [0, {self.policy.vocab_size})")

    def check_prompt_len(self, n: int, field: str) -> None:
        if n < 1:
            raise BadRequest(f"{field} is empty: a prompt needs at least one token")
        if n > self.max_prompt_tokens:
            raise BadRequest(f"{field} has {n} tokens, more than maxPromptTokens = {self.max_prompt_tokens}")

    def check_max_tokens(self, max_tokens: int, field: str = "maxTokens") -> None:
        if max_tokens < 1 or max_tokens > self.max_response_tokens:
            raise BadRequest(f"{field} = {max_tokens} must be in [1, maxResponseTokens = {self.max_response_tokens}]")

    def check_row_len(self, n_prompt: int, n_resp: int, field: str) -> None:
        if n_prompt + n_resp > self.policy.max_len:
            raise BadRequest(f"{field}: prompt + response = {n_prompt + n_resp} tokens exceeds the model's "
                             f"{self.policy.max_len} positions")

    # ------------------------------------------------------------------ sampling

    def _chunks(self, n_rows: int, row_tokens: int, max_rows: int | None = None):
        per = max(1, self.batch_tokens // max(1, row_tokens))
        if max_rows:
            per = min(per, max_rows)
        for start in range(0, n_rows, per):
            yield start, min(n_rows, start + per)

    @torch.no_grad()
    def sample(self, prompts: list[list[int]], row_keys: np.ndarray, temperature: float, max_tokens: int,
               seed: int, greedy: bool = False, want_entropy: bool = False) -> list[Sample]:
        """Generates up to max_tokens per row. prompts: token ids per row (already validated);
        row_keys: uint64 per row, the row's index in the request (keys the sampling noise, noise.py).
        greedy: argmax (log-probs then under T = 1)."""
        out: list[Sample] = []
        for a in range(0, len(prompts), self.rollout_rows):
            b = min(len(prompts), a + self.rollout_rows)
            out.extend(self._sample_chunk(prompts[a:b], row_keys[a:b], temperature, max_tokens, seed, greedy,
                                          want_entropy))
        return out

    def _sample_chunk(self, prompts, row_keys, temperature, max_tokens, seed, greedy, want_entropy):
        pol = self.policy
        dev = pol.device
        b = len(prompts)
        p_len = max(len(p) for p in prompts)
        ids = np.full((b, p_len), pol.pad_id, dtype=np.int64)
        mask = np.zeros((b, p_len), dtype=bool)
        for i, p in enumerate(prompts):
            ids[i, p_len - len(p):] = p  # left padding: every row's next token goes in the same column
            mask[i, p_len - len(p):] = True
        ids_t = torch.from_numpy(ids).to(dev)
        key_mask = torch.from_numpy(mask).to(dev)
        positions = (key_mask.long().cumsum(1) - 1).clamp(min=0)
        next_pos = key_mask.long().sum(1)
        eos = torch.tensor(sorted(pol.eos_ids), device=dev)
        temp = 1.0 if greedy else temperature

        with pol.autocast():
            h, cache = pol.hidden(ids_t, key_mask, positions, None, use_cache=True)
        logits = pol.logits(h[:, -1])

        toks = torch.full((b, max_tokens), pol.pad_id, dtype=torch.long, device=dev)
        lps = torch.zeros((b, max_tokens), dtype=torch.float32, device=dev)
        ents = torch.zeros((b, max_tokens), dtype=torch.float32, device=dev) if want_entropy else None
        lengths = torch.zeros(b, dtype=torch.long, device=dev)
        done = torch.zeros(b, dtype=torch.bool, device=dev)
        ended = torch.zeros(b, dtype=torch.bool, device=dev)
        for t in range(max_tokens):
            logp = token_logprobs_from_logits(logits, temp)
            if greedy:
                tok = logits.argmax(-1)
            else:
                # Inverse-CDF sampling with one counter-based uniform per row (noise.py).
                probs = torch.softmax(logits.double() / temperature, dim=-1)
                cdf = probs.cumsum(-1)
                u = torch.from_numpy(uniforms(seed, row_keys, t)).to(dev)
                target = (u * cdf[:, -1]).unsqueeze(1)  # strictly below the total: never a zero-prob token
                tok = torch.searchsorted(cdf, target, right=True).squeeze(1).clamp(max=cdf.shape[1] - 1)
            active = ~done
            toks[:, t] = torch.where(active, tok, torch.full_like(tok, pol.pad_id))
            lps[:, t] = torch.where(active, logp.gather(1, tok.unsqueeze(1)).squeeze(1), torch.zeros_like(lps[:, t]))
            if ents is not None:
                ents[:, t] = torch.where(active, entropy_from_logp(logp), torch.zeros_like(ents[:, t]))
            lengths += active.long()
            is_eos = torch.isin(tok, eos) & active
            ended |= is_eos
            done |= is_eos
            if t == max_tokens - 1 or bool(done.all()):
                break
            feed = torch.where(done, torch.full_like(tok, pol.pad_id), tok).unsqueeze(1)
            key_mask = torch.cat([key_mask, (~done).unsqueeze(1)], dim=1)
            with pol.autocast():
                h, cache = pol.hidden(feed, key_mask, next_pos.unsqueeze(1), cache, use_cache=True)
            logits = pol.logits(h[:, -1])
            next_pos = next_pos + (~done).long()

        toks_np, lps_np = toks.cpu().numpy(), lps.cpu().numpy()
        ents_np = ents.cpu().numpy() if ents is not None else None
        lengths_np, ended_np = lengths.cpu().numpy(), ended.cpu().numpy()
        res = []
        for i in range(b):
            n = int(lengths_np[i])
            res.append(Sample(tokens=toks_np[i, :n].copy(), logprobs=lps_np[i, :n].astype(np.float32),
                              entropies=None if ents_np is None else ents_np[i, :n].astype(np.float32),
                              finish="eos" if ended_np[i] else "length"))
        return res

    # ------------------------------------------------------------------ scoring

    def pack(self, rows: list[tuple[np.ndarray, np.ndarray]]) -> Packed:
        dev = self.device
        b = len(rows)
        lp = [len(p) for p, _ in rows]
        lr = [len(r) for _, r in rows]
        L = max(p + r for p, r in zip(lp, lr))
        R = max(1, max(lr))
        ids = np.full((b, L), self.policy.pad_id, dtype=np.int64)
        key_mask = np.zeros((b, L), dtype=bool)
        resp_idx = np.zeros((b, R), dtype=np.int64)
        targets = np.zeros((b, R), dtype=np.int64)
        mask = np.zeros((b, R), dtype=np.float32)
        for i, (p, r) in enumerate(rows):
            n = len(p) + len(r)
            ids[i, :len(p)] = p
            ids[i, len(p):n] = r
            key_mask[i, :n] = True
            resp_idx[i, :len(r)] = np.arange(len(p) - 1, n - 1)
            targets[i, :len(r)] = r
            mask[i, :len(r)] = 1.0
        positions = np.broadcast_to(np.arange(L, dtype=np.int64), (b, L)).copy()
        t = lambda x: torch.from_numpy(x).to(dev)  # noqa: E731
        return Packed(t(ids), t(key_mask), t(positions), t(resp_idx), t(targets), t(mask), lr)

    def forward_tokens(self, pk: Packed, temperature: float, with_entropy: bool, entropy_grad: bool = True):
        """(logp [B, R], entropy [B, R] | None) of the packed response tokens; differentiable unless under no_grad."""
        pol = self.policy
        with pol.autocast():
            h, _ = pol.hidden(pk.ids, pk.key_mask, pk.positions, None, use_cache=False)
        hr = h.gather(1, pk.resp_idx.unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        logp_all = token_logprobs_from_logits(pol.logits(hr), temperature)
        logp = logp_all.gather(-1, pk.targets.unsqueeze(-1)).squeeze(-1)
        ent = None
        if with_entropy:
            ent = entropy_from_logp(logp_all if entropy_grad else logp_all.detach())
        return logp, ent

    def _row_chunks(self, rows_lens: list[int], micro_batch: int | None):
        longest = max(rows_lens) if rows_lens else 1
        return list(self._chunks(len(rows_lens), longest, micro_batch))

    @torch.no_grad()
    def score(self, rows: list[tuple[np.ndarray, np.ndarray]], temperature: float) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for a, b in self._row_chunks([len(p) + len(r) for p, r in rows], None):
            pk = self.pack(rows[a:b])
            logp, _ = self.forward_tokens(pk, temperature, with_entropy=False)
            lp = logp.float().cpu().numpy()
            out.extend(lp[i, :n].astype(np.float32) for i, n in enumerate(pk.lengths))
        return out

    # ------------------------------------------------------------------ update

    def update(self, rows: list[UpdateRow], aggregation: str, l_const: int | None, mask_truncated: bool,
               entropy_coeff: float, kl_coeff: float, temperature: float, micro_batch: int | None,
               dual_clip: float | None = None) -> dict:
        """One optimiser step on the clipped surrogate (docs/worker-protocol.md `update`)."""
        included = [not (mask_truncated and r.truncated) for r in rows]
        n_tok = [len(r.tokens) for r in rows]
        coefs = token_coefficients(n_tok, [r.weight for r in rows], included, aggregation, l_const)
        total_tokens = sum(n for n, inc in zip(n_tok, included) if inc)
        idx = [i for i in range(len(rows)) if included[i] and n_tok[i] > 0]
        if self.dist is not None:  # data-parallel: this rank's rows; coefs and total_tokens stay global
            idx = self.dist.shard(idx, [len(rows[i].prompt) + n_tok[i] for i in idx])

        if kl_coeff != 0.0:
            need = [i for i in idx if rows[i].ref_logprobs is None]
            if need:
                ref_lps = self.reference_logprobs([(rows[i].prompt, rows[i].tokens) for i in need], temperature)
                for i, lp in zip(need, ref_lps):
                    rows[i].ref_logprobs = lp

        self.optimizer.zero_grad(set_to_none=True)
        sums = {"pg": 0.0, "clip": 0.0, "kl": 0.0, "ent": 0.0, "refkl": 0.0}
        parity = {"max": 0.0, "sum": 0.0, "n": 0}  # |logπθ − oldLogprob| over on-policy rows' tokens
        bin_sum: dict[int, float] = {}
        bin_cnt: dict[int, int] = {}
        dev = self.device
        if total_tokens > 0 and idx:
            lens = [len(rows[i].prompt) + n_tok[i] for i in idx]
            for a, b in self._row_chunks(lens, micro_batch):
                part = [rows[i] for i in idx[a:b]]
                pk = self.pack([(r.prompt, r.tokens) for r in part])
                R = pk.mask.shape[1]
                old = torch.zeros((len(part), R), dtype=torch.float32)
                for j, r in enumerate(part):
                    old[j, :len(r.tokens)] = torch.from_numpy(r.old_logprobs)
                old = old.to(dev)
                adv = torch.tensor([r.advantage for r in part], dtype=torch.float32, device=dev)
                lo = torch.tensor([r.clip_lo for r in part], dtype=torch.float32, device=dev)
                hi = torch.tensor([r.clip_hi for r in part], dtype=torch.float32, device=dev)
                coef = torch.tensor([coefs[i] for i in idx[a:b]], dtype=torch.float32, device=dev).unsqueeze(1)

                with self.policy.train_mode():
                    logp, ent = self.forward_tokens(pk, temperature, with_entropy=True,
                                                    entropy_grad=entropy_coeff != 0.0)
                loss_tok, clipped = clipped_surrogate(logp, old, adv, lo, hi, dual_clip)
                m = pk.mask
                pg = (loss_tok * coef * m).sum()
                obj = pg
                if entropy_coeff != 0.0:
                    obj = obj - entropy_coeff * (ent * m).sum() / total_tokens
                if kl_coeff != 0.0:
                    ref = torch.zeros((len(part), R), dtype=torch.float32)
                    for j, r in enumerate(part):
                        ref[j, :len(r.tokens)] = torch.from_numpy(r.ref_logprobs)
                    kl_tok = k3(logp, ref.to(dev))
                    obj = obj + kl_coeff * (kl_tok * m).sum() / total_tokens
                    sums["refkl"] += float((kl_tok.detach() * m).sum())
                with self.policy.train_mode():
                    obj.backward()

                on = torch.tensor([r.on_policy for r in part], dtype=torch.float32, device=dev).unsqueeze(1) * m
                if float(on.sum()) > 0:
                    diff = (logp.detach() - old).abs() * on
                    parity["max"] = max(parity["max"], float(diff.max()))
                    parity["sum"] += float(diff.double().sum())
                    parity["n"] += int(on.sum())
                sums["pg"] += float(pg.detach())
                sums["clip"] += float((clipped.float() * m).sum())
                sums["kl"] += float((k3(logp.detach(), old) * m).sum())
                sums["ent"] += float((ent.detach() * m).sum())
                per_row = (loss_tok.detach() * m).sum(1).cpu().numpy()
                for j, r in enumerate(part):
                    if r.bin >= 0:
                        bin_sum[r.bin] = bin_sum.get(r.bin, 0.0) + float(per_row[j])
                        bin_cnt[r.bin] = bin_cnt.get(r.bin, 0) + len(r.tokens)

        if self.dist is not None and total_tokens > 0:  # Σ over ranks = the full-batch gradient (ranks.py)
            self.dist.all_reduce_grads(self.params)
            sums, parity, bin_sum, bin_cnt = self.dist.merge_stats(sums, parity, bin_sum, bin_cnt)
        if self.keep_previous:
            self.previous = (self.policy_version, self._previous_copy())
        grad_norm, skipped = self._step(self.optimizer, stepped=total_tokens > 0)
        self.policy_version += 1
        n = max(total_tokens, 1)
        mean_ent = sums["ent"] / n
        result = {
            "policyVersion": self.policy_version,
            "loss": sums["pg"] - entropy_coeff * mean_ent + kl_coeff * sums["refkl"] / n,
            "pgLoss": sums["pg"],
            "clipFrac": sums["clip"] / n,
            "kl": sums["kl"] / n,
            "entropy": mean_ent,
            "gradNorm": grad_norm,
            "tokens": int(total_tokens),
            "binLosses": {str(k): bin_sum[k] / bin_cnt[k] for k in sorted(bin_sum) if bin_cnt[k] > 0},
            "skipped": skipped,
        }
        if kl_coeff != 0.0:
            result["refKl"] = sums["refkl"] / n
        if parity["n"] > 0:
            result["logprobDiffMax"] = parity["max"]
            result["logprobDiffMean"] = parity["sum"] / parity["n"]
            result["logprobDiffTokens"] = parity["n"]
        return result

    def _step(self, optimizer: torch.optim.Optimizer, stepped: bool) -> tuple[float, bool]:
        """Grad-norm clip + step. Returns (pre-clip global grad norm, skipped). A non-finite norm skips the
        step (verl does the same) rather than writing NaN into the weights."""
        if not stepped:
            optimizer.zero_grad(set_to_none=True)
            return 0.0, True
        grads = [p for p in self.params if p.grad is not None]
        if not grads:
            return 0.0, True
        max_norm = self.optim_cfg.grad_clip if self.optim_cfg.grad_clip > 0 else float("inf")
        norm = float(torch.nn.utils.clip_grad_norm_(grads, max_norm))
        if not math.isfinite(norm):
            optimizer.zero_grad(set_to_none=True)
            return norm, True
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return norm, False

    # ------------------------------------------------------------------ supervised warm start

    def sft(self, examples: list[tuple[list[int], list[int]]], steps: int, batch_size: int, lr: float,
            seed: int) -> dict:
        """Cross-entropy on completion tokens (+ end token), token-mean per batch, with a fresh AdamW
        (the RL optimiser's moments are left untouched). Batches: successive slices of seeded permutations."""
        opt = self._make_optimizer(lr)
        gen = torch.Generator().manual_seed(seed)
        order: list[int] = []
        losses: list[float] = []
        for _ in range(steps):
            batch = []
            while len(batch) < batch_size:
                if not order:
                    order = torch.randperm(len(examples), generator=gen).tolist()
                batch.append(examples[order.pop(0)])
            rows = [(np.asarray(p, dtype=np.int64), np.asarray(c, dtype=np.int64)) for p, c in batch]
            total = sum(len(c) for _, c in rows)
            opt.zero_grad(set_to_none=True)
            loss_sum = 0.0
            for a, b in self._row_chunks([len(p) + len(c) for p, c in rows], None):
                pk = self.pack(rows[a:b])
                with self.policy.train_mode():
                    logp, _ = self.forward_tokens(pk, 1.0, with_entropy=False)
                    loss = -(logp * pk.mask).sum() / total
                    loss.backward()
                loss_sum += float(loss.detach())
            self._step(opt, stepped=True)
            losses.append(loss_sum)
        self.ref_state = self._snapshot()
        self.previous = None
        self.policy_version += 1
        return {"loss": losses[-1] if losses else 0.0, "meanLoss": float(np.mean(losses)) if losses else 0.0,
                "steps": steps, "policyVersion": self.policy_version}

    # ------------------------------------------------------------------ checkpoints

    def state_hash(self) -> str:
        """sha256 over the model's state_dict (names, dtypes, shapes, bytes) — for determinism checks."""
        h = hashlib.sha256()
        for name, t in sorted(self.policy.model.state_dict().items()):
            h.update(name.encode())
            h.update(str(t.dtype).encode())
            h.update(str(tuple(t.shape)).encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes() if t.dtype != torch.bfloat16
                     else t.detach().cpu().float().numpy().tobytes())
        return h.hexdigest()

    def save(self, path: str) -> dict:
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        state = {
            "format": CHECKPOINT_FORMAT,
            "describe": self.policy.describe(),
            "policyVersion": self.policy_version,
            "model": self.policy.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "reference": self.ref_state,
            "rng": rng,
        }
        sha256, size = write_checkpoint(path, state)
        return {"path": path, "sha256": sha256, "bytes": size, "policyVersion": self.policy_version}

    def load(self, path: str, sha256: str | None) -> dict:
        state = read_checkpoint(path, sha256, self.device)
        mine = self.policy.describe()
        if state["describe"] != mine:
            raise BadRequest(f"path: checkpoint was written by a different model ({state['describe']}); "
                             f"this worker has {mine}")
        self.policy.model.load_state_dict(state["model"], strict=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.ref_state = {k: v.to("cpu") for k, v in state["reference"].items()}
        self.policy_version = int(state["policyVersion"])
        self.previous = None
        rng = state.get("rng", {})
        if "torch" in rng:
            torch.set_rng_state(rng["torch"].cpu())
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])
        return {"policyVersion": self.policy_version}
