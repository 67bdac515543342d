"""Typed access to job args; every failure is a BadRequest naming the field (e.g. `rows[3].tokens`)."""
from __future__ import annotations

import math
from typing import Any

from .protocol import BadRequest, f4_from, i4_from

_MISSING = object()


def _get(d: dict, key: str, path: str, default: Any) -> Any:
    if not isinstance(d, dict):
        raise BadRequest(f"{path or 'args'} must be a map")
    if key in d and d[key] is not None:
        return d[key]
    if default is _MISSING:
        raise BadRequest(f"{_join(path, key)} is required")
    return default


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def get_float(d: dict, key: str, path: str = "", default: Any = _MISSING, lo: float | None = None,
              hi: float | None = None, lo_open: bool = False) -> float:
    v = _get(d, key, path, default)
    if v is default:
        return v
    name = _join(path, key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadRequest(f"{name} must be a number, got {type(v).__name__}")
    v = float(v)
    if not math.isfinite(v):
        raise BadRequest(f"{name} must be finite, got {v}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise BadRequest(f"{name} must be {'>' if lo_open else '>='} {lo}, got {v}")
    if hi is not None and v > hi:
        raise BadRequest(f"{name} must be <= {hi}, got {v}")
    return v


def get_int(d: dict, key: str, path: str = "", default: Any = _MISSING, lo: int | None = None,
            hi: int | None = None) -> int:
    v = _get(d, key, path, default)
    if v is default:
        return v
    name = _join(path, key)
    # MessagePack encoders in JavaScript may send an integral float (3.0) for an integer.
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadRequest(f"{name} must be an integer, got {type(v).__name__}")
    if lo is not None and v < lo:
        raise BadRequest(f"{name} must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise BadRequest(f"{name} must be <= {hi}, got {v}")
    return v


def get_uint(d: dict, key: str, path: str = "", default: Any = _MISSING, hi: int | None = None,
             lo: int = 0) -> int:
    return get_int(d, key, path, default, lo=lo, hi=hi)


def get_bool(d: dict, key: str, path: str = "", default: Any = _MISSING) -> bool:
    v = _get(d, key, path, default)
    if v is default:
        return v
    if not isinstance(v, bool):
        raise BadRequest(f"{_join(path, key)} must be a boolean, got {type(v).__name__}")
    return v


def get_str(d: dict, key: str, path: str = "", default: Any = _MISSING, choices: tuple | None = None) -> str:
    v = _get(d, key, path, default)
    if v is default:
        return v
    name = _join(path, key)
    if not isinstance(v, str):
        raise BadRequest(f"{name} must be a string, got {type(v).__name__}")
    if choices is not None and v not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}; got {v!r}")
    return v


def get_list(d: dict, key: str, path: str = "", default: Any = _MISSING, min_len: int = 0) -> list:
    v = _get(d, key, path, default)
    name = _join(path, key)
    if not isinstance(v, (list, tuple)):
        raise BadRequest(f"{name} must be an array, got {type(v).__name__}")
    if len(v) < min_len:
        raise BadRequest(f"{name} must have at least {min_len} entries, got {len(v)}")
    return list(v)


def get_map(d: dict, key: str, path: str = "", default: Any = _MISSING) -> dict:
    v = _get(d, key, path, default)
    if v is default and default is not _MISSING:
        return v
    if not isinstance(v, dict):
        raise BadRequest(f"{_join(path, key)} must be a map, got {type(v).__name__}")
    return v


def get_i4(d: dict, key: str, path: str = "", default: Any = _MISSING):
    v = _get(d, key, path, default)
    if v is default and default is not _MISSING:
        return v
    return i4_from(v, _join(path, key))


def get_f4(d: dict, key: str, path: str = "", default: Any = _MISSING):
    v = _get(d, key, path, default)
    if v is default and default is not _MISSING:
        return v
    return f4_from(v, _join(path, key))


def item_path(path: str, key: str, i: int) -> str:
    return f"{_join(path, key)}[{i}]"
