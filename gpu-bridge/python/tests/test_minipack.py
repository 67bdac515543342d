"""The fallback MessagePack codec writes msgpack's bytes and reads what msgpack writes."""
import math
import random

import msgpack
import pytest

from dare_worker import minipack


def _random_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1, -1, -32, -33, -128,
                           -129, -32768, -32769, -2**31, -2**31 - 1, -2**63, rng.randrange(-2**40, 2**40)])
    if kind == 3:
        return rng.choice([0.0, -0.5, 1e300, math.inf, rng.random()])
    if kind == 4:
        return "".join(rng.choice("ab€𝄞\n") for _ in range(rng.choice([0, 5, 31, 32, 255, 256, 70000])))
    if kind == 5:
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 3, 255, 256, 70000])))
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.choice([0, 2, 15, 16, 20]))]
    return {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.choice([0, 3, 15, 16, 17]))}


def test_same_bytes_as_msgpack_both_ways():
    rng = random.Random(7)
    for _ in range(300):
        v = {"id": "x", "args": _random_value(rng)}
        ours = minipack.packb(v, use_bin_type=True)
        assert ours == msgpack.packb(v, use_bin_type=True)
        assert minipack.unpackb(ours) == msgpack.unpackb(ours, raw=False, strict_map_key=False)


def test_malformed_input_raises():
    good = minipack.packb({"a": [1, 2, b"xy"]})
    for bad in (good[:-1], good + b"\x00", b"\xc1", b"\xd9\x05ab"):
        with pytest.raises(ValueError):
            minipack.unpackb(bad)
    with pytest.raises(TypeError):
        minipack.packb({"a": object()})
