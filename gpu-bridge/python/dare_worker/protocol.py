"""Framing, binary payloads and the reply cache of the worker protocol (docs/worker-protocol.md).

Nothing here imports torch: the entry point answers protocol errors (and jobs sent before `init`)
without paying for the torch import.
"""
from __future__ import annotations

import os
import struct
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

try:
    import msgpack
except ImportError:  # a host with torch and transformers only: the built-in codec (same bytes)
    from . import minipack as msgpack  # type: ignore[no-redef]

DEFAULT_MAX_FRAME = 256 * 1024 * 1024  # bytes
PROTOCOL_EXIT_CODE = 3


class ProtocolError(Exception):
    """A frame that cannot be read: the worker reports it on stderr and exits with code 3."""


class BadRequest(Exception):
    """Args that do not fit the job: answered as `{ok:false, error:{code:"bad_request"}}`."""


def max_frame_from_env() -> int:
    raw = os.environ.get("DARE_MAX_FRAME")
    if raw is None or raw == "":
        return DEFAULT_MAX_FRAME
    try:
        value = int(raw)
    except ValueError:
        raise ProtocolError(f"DARE_MAX_FRAME must be a positive integer (bytes), got {raw!r}") from None
    if value <= 0:
        raise ProtocolError(f"DARE_MAX_FRAME must be a positive integer (bytes), got {raw!r}")
    return value


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    """Read n bytes, fewer only at end of stream (pipes return short reads)."""
    chunks = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Reads length-prefixed (uint32 big-endian) MessagePack maps."""

    def __init__(self, stream: BinaryIO, max_frame: int | None = None):
        self.stream = stream
        self.max_frame = max_frame_from_env() if max_frame is None else max_frame

    def read_body(self) -> bytes | None:
        """The next frame's body, or None at a clean end of stream (between frames)."""
        header = _read_exact(self.stream, 4)
        if len(header) == 0:
            return None
        if len(header) < 4:
            raise ProtocolError(f"truncated frame header: expected 4 bytes, got {len(header)}")
        (length,) = struct.unpack(">I", header)
        if length > self.max_frame:
            raise ProtocolError(f"frame of {length} bytes exceeds the limit of {self.max_frame} bytes")
        body = _read_exact(self.stream, length)
        if len(body) < length:
            raise ProtocolError(f"truncated frame: expected {length} bytes, got {len(body)}")
        return body

    def read(self) -> dict | None:
        body = self.read_body()
        if body is None:
            return None
        return decode_body(body)


def decode_body(body: bytes) -> dict:
    try:
        obj = msgpack.unpackb(body, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types (ExtraData, ValueError, ...)
        raise ProtocolError(f"malformed frame: body is not valid MessagePack ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"malformed frame: body is not a MessagePack map (got {type(obj).__name__})")
    return obj


def parse_request(msg: dict) -> tuple[str, str, dict]:
    """Checks the request envelope `{id, job, args}`; a missing or mistyped key is a protocol error."""
    rid = msg.get("id")
    if not isinstance(rid, str) or rid == "":
        raise ProtocolError("malformed frame: request needs a non-empty string `id`")
    job = msg.get("job")
    if not isinstance(job, str):
        raise ProtocolError(f"malformed frame: request {rid!r} needs a string `job`")
    args = msg.get("args", None)
    if not isinstance(args, dict):
        raise ProtocolError(f"malformed frame: request {rid!r} needs a map `args`")
    return rid, job, args


def encode_frame(obj: dict) -> bytes:
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def ok_reply(rid: str, result: dict) -> bytes:
    return encode_frame({"id": rid, "ok": True, "result": result})


def error_reply(rid: str, code: str, message: str) -> bytes:
    return encode_frame({"id": rid, "ok": False, "error": {"code": code, "message": message}})


class FrameWriter:
    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def write(self, frame: bytes) -> None:
        self.stream.write(frame)
        self.stream.flush()


# ---------------------------------------------------------------- binary payloads

def i4_bytes(values: Any) -> bytes:
    """Token ids as little-endian int32 bytes."""
    return np.ascontiguousarray(np.asarray(values, dtype="<i4")).tobytes()


def f4_bytes(values: Any) -> bytes:
    """Log-probs / entropies as little-endian float32 bytes."""
    return np.ascontiguousarray(np.asarray(values, dtype="<f4")).tobytes()


def _from_bin(raw: Any, dtype: str, field: str) -> np.ndarray:
    if isinstance(raw, (bytearray, memoryview)):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        raise BadRequest(f"{field} must be MessagePack bin of {dtype} little-endian bytes, got {type(raw).__name__}")
    if len(raw) % 4 != 0:
        raise BadRequest(f"{field} has {len(raw)} bytes, not a multiple of 4 ({dtype})")
    return np.frombuffer(raw, dtype="<" + dtype).astype(np.int64 if dtype == "i4" else np.float32)


def i4_from(raw: Any, field: str) -> np.ndarray:
    """int32 LE bin -> int64 numpy array (copy)."""
    return _from_bin(raw, "i4", field)


def f4_from(raw: Any, field: str) -> np.ndarray:
    """float32 LE bin -> float32 numpy array (copy)."""
    return _from_bin(raw, "f4", field)


# ---------------------------------------------------------------- reply cache

# Jobs that change the worker's state. Their replies are small and always kept (until `load`
# restores an older state), so a re-sent update is never applied twice.
MUTATING_JOBS = frozenset({"init", "update", "sft", "load", "save"})


class ReplyCache:
    """Encoded replies by request id, with the job that produced them.

    Mutating jobs' replies are kept until `clear` (they are a few hundred bytes). Read-only jobs' replies
    are kept for the last `max_entries` ids, trimmed further (oldest first, never below `min_entries`)
    while they hold more than `max_bytes` bytes: a long-context rollout reply can be tens of MiB.
    """

    def __init__(self, max_entries: int = 1024, max_bytes: int | None = None, min_entries: int = 64):
        if max_bytes is None:
            max_bytes = int(os.environ.get("DARE_REPLY_CACHE_BYTES", str(1 << 30)))
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.min_entries = min_entries
        self.pinned: dict[str, tuple[str, bytes]] = {}
        self.recent: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self.recent_bytes = 0

    def get(self, rid: str) -> tuple[str, bytes] | None:
        """(job, reply frame) or None."""
        hit = self.pinned.get(rid)
        if hit is not None:
            return hit
        return self.recent.get(rid)

    def put(self, rid: str, job: str, frame: bytes) -> None:
        if job in MUTATING_JOBS:
            self.pinned[rid] = (job, frame)
            return
        old = self.recent.pop(rid, None)
        if old is not None:
            self.recent_bytes -= len(old[1])
        self.recent[rid] = (job, frame)
        self.recent_bytes += len(frame)
        while len(self.recent) > self.max_entries or (
            self.recent_bytes > self.max_bytes and len(self.recent) > self.min_entries
        ):
            _, (_, dropped) = self.recent.popitem(last=False)
            self.recent_bytes -= len(dropped)

    def clear(self) -> None:
        self.pinned.clear()
        self.recent.clear()
        self.recent_bytes = 0

    def __len__(self) -> int:
        return len(self.pinned) + len(self.recent)
