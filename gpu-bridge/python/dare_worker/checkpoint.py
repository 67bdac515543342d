"""Checkpoint files of the PyTorch workers (the `save` / `load` jobs; docs/worker-protocol.md): a torch.save of
the engine's state (format CHECKPOINT_FORMAT) written to a temporary file, hashed while it is written,
fsynced and renamed over the target (then the directory fsynced), so a crash never leaves a half-written
checkpoint and the sha256 the bridge logs needs no second read; and read back with the sha256, format and
keys checked before anything of it is applied. What the state holds and how it is applied is the Engine's
(engine.py save / load).
"""
from __future__ import annotations

import hashlib
import os

import torch

from .protocol import BadRequest

CHECKPOINT_FORMAT = "dare-worker-checkpoint/1"


def write_checkpoint(path: str, state: dict) -> tuple[str, int]:
    """torch.save `state` to `path` atomically; returns the file's sha256 (hex) and size in bytes."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise BadRequest(f"path: directory {directory} does not exist")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        writer = _HashingWriter(f)
        torch.save(state, writer)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(directory)
    return writer.sha256.hexdigest(), writer.size


def read_checkpoint(path: str, sha256: str | None, device: torch.device) -> dict:
    """The state saved at `path` (its sha256 checked when given), with every key the Engine applies."""
    if not os.path.isfile(path):
        raise BadRequest(f"path: no checkpoint file at {path}")
    if sha256 is not None:
        actual = file_sha256(path)
        if actual != sha256.lower():
            raise BadRequest(f"sha256: checkpoint {path} has sha256 {actual}, expected {sha256}")
    try:
        state = _torch_load(path, device)
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file
        raise BadRequest(f"path: cannot read {path} as a checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise BadRequest(f"path: {path} is not a {CHECKPOINT_FORMAT} file")
    missing = [k for k in ("describe", "model", "optimizer", "reference", "policyVersion") if k not in state]
    if missing:
        raise BadRequest(f"path: checkpoint {path} lacks {', '.join(missing)}")
    return state


class _HashingWriter:
    """A write-only file wrapper that hashes what torch.save writes (no second read of a large file)."""

    def __init__(self, f):
        self.f = f
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        mv = memoryview(data)
        self.sha256.update(mv)
        self.size += mv.nbytes
        return self.f.write(mv)

    def flush(self) -> None:
        self.f.flush()


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _torch_load(path: str, device: torch.device):
    """Checkpoints are our own files (sha256-checked when the caller gives one). torch >= 2 loads them with
    the restricted unpickler; torch 1.13's cannot read floats (optimiser hyper-parameters), so fall back."""
    import pickle

    try:
        return torch.load(path, map_location=device, weights_only=True)
    except (TypeError, pickle.UnpicklingError):
        return torch.load(path, map_location=device, weights_only=False)
