"""A small pure-Python MessagePack codec: the subset the worker protocol uses (nil, bool, int, float, str,
bin, array, map). protocol.py falls back to it where the `msgpack` package is not installed (a CUDA host
with torch and transformers only); the bytes it writes are what msgpack.packb(use_bin_type=True) writes."""
from __future__ import annotations

import struct

_F64 = struct.Struct(">d")
_F32 = struct.Struct(">f")


class ExtraData(ValueError):
    pass


def packb(obj, use_bin_type: bool = True) -> bytes:
    out = bytearray()
    _pack(obj, out)
    return bytes(out)


def _pack(o, out: bytearray) -> None:
    if o is None:
        out.append(0xC0)
    elif o is True:
        out.append(0xC3)
    elif o is False:
        out.append(0xC2)
    elif isinstance(o, int):
        _pack_int(o, out)
    elif isinstance(o, float):
        out.append(0xCB)
        out += _F64.pack(o)
    elif isinstance(o, str):
        b = o.encode("utf-8")
        n = len(b)
        if n < 32:
            out.append(0xA0 | n)
        elif n < 0x100:
            out += bytes((0xD9, n))
        elif n < 0x10000:
            out.append(0xDA)
            out += struct.pack(">H", n)
        else:
            out.append(0xDB)
            out += struct.pack(">I", n)
        out += b
    elif isinstance(o, (bytes, bytearray, memoryview)):
        b = bytes(o)
        n = len(b)
        if n < 0x100:
            out += bytes((0xC4, n))
        elif n < 0x10000:
            out.append(0xC5)
            out += struct.pack(">H", n)
        else:
            out.append(0xC6)
            out += struct.pack(">I", n)
        out += b
    elif isinstance(o, (list, tuple)):
        n = len(o)
        if n < 16:
            out.append(0x90 | n)
        elif n < 0x10000:
            out.append(0xDC)
            out += struct.pack(">H", n)
        else:
            out.append(0xDD)
            out += struct.pack(">I", n)
        for x in o:
            _pack(x, out)
    elif isinstance(o, dict):
        n = len(o)
        if n < 16:
            out.append(0x80 | n)
        elif n < 0x10000:
            out.append(0xDE)
            out += struct.pack(">H", n)
        else:
            out.append(0xDF)
            out += struct.pack(">I", n)
        for k, v in o.items():
            _pack(k, out)
            _pack(v, out)
    elif hasattr(o, "item") and callable(o.item):  # numpy scalars
        _pack(o.item(), out)
    else:
        raise TypeError(f"can not serialize {type(o).__name__!r} object")


def _pack_int(o: int, out: bytearray) -> None:
    if 0 <= o < 0x80:
        out.append(o)
    elif -32 <= o < 0:
        out.append(o & 0xFF)
    elif 0 <= o < 0x100:
        out += bytes((0xCC, o))
    elif 0 <= o < 0x10000:
        out.append(0xCD)
        out += struct.pack(">H", o)
    elif 0 <= o < 0x100000000:
        out.append(0xCE)
        out += struct.pack(">I", o)
    elif 0 <= o < 1 << 64:
        out.append(0xCF)
        out += struct.pack(">Q", o)
    elif -0x80 <= o < 0:
        out.append(0xD0)
        out += struct.pack(">b", o)
    elif -0x8000 <= o < 0:
        out.append(0xD1)
        out += struct.pack(">h", o)
    elif -0x80000000 <= o < 0:
        out.append(0xD2)
        out += struct.pack(">i", o)
    elif -(1 << 63) <= o < 0:
        out.append(0xD3)
        out += struct.pack(">q", o)
    else:
        raise OverflowError("Integer value out of range")


def unpackb(body, raw: bool = False, strict_map_key: bool = False):
    data = bytes(body)
    obj, pos = _unpack(data, 0)
    if pos != len(data):
        raise ExtraData(f"{len(data) - pos} bytes after the object")
    return obj


def _need(data: bytes, pos: int, n: int) -> None:
    if pos + n > len(data):
        raise ValueError("Unpack failed: incomplete input")


_FIXED = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
          0xCA: ">f", 0xCB: ">d"}


def _unpack(data: bytes, pos: int):
    _need(data, pos, 1)
    b = data[pos]
    pos += 1
    if b < 0x80:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8F:
        return _map(data, pos, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return _array(data, pos, b & 0x0F)
    if 0xA0 <= b <= 0xBF:
        return _str(data, pos, b & 0x1F)
    if b == 0xC0:
        return None, pos
    if b == 0xC2:
        return False, pos
    if b == 0xC3:
        return True, pos
    if b in _FIXED:
        fmt = _FIXED[b]
        n = struct.calcsize(fmt)
        _need(data, pos, n)
        return struct.unpack_from(fmt, data, pos)[0], pos + n
    if b in (0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF):
        fmt = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xDC: ">H", 0xDD: ">I",
               0xDE: ">H", 0xDF: ">I"}[b]
        k = struct.calcsize(fmt)
        _need(data, pos, k)
        n = struct.unpack_from(fmt, data, pos)[0]
        pos += k
        if b in (0xC4, 0xC5, 0xC6):
            _need(data, pos, n)
            return data[pos:pos + n], pos + n
        if b in (0xD9, 0xDA, 0xDB):
            return _str(data, pos, n)
        if b in (0xDC, 0xDD):
            return _array(data, pos, n)
        return _map(data, pos, n)
    raise ValueError(f"Unpack failed: unsupported type byte 0x{b:02x}")


def _str(data: bytes, pos: int, n: int):
    _need(data, pos, n)
    return data[pos:pos + n].decode("utf-8"), pos + n


def _array(data: bytes, pos: int, n: int):
    out = []
    for _ in range(n):
        v, pos = _unpack(data, pos)
        out.append(v)
    return out, pos


def _map(data: bytes, pos: int, n: int):
    out = {}
    for _ in range(n):
        k, pos = _unpack(data, pos)
        v, pos = _unpack(data, pos)
        try:
            out[k] = v
        except TypeError:
            raise ValueError(f"Unpack failed: unhashable map key {type(k).__name__}") from None
    return out, pos
