"""Framing, binary payloads, the reply cache, and the worker end to end through a real subprocess."""
import io
import os
import struct
import subprocess
import sys

import msgpack
import numpy as np
import pytest

from conftest import PKG_ROOT, arith_prompts, f4, i4, init_args
from dare_worker.protocol import (BadRequest, FrameReader, ProtocolError, ReplyCache, encode_frame, f4_bytes,
                                  f4_from, i4_bytes, i4_from, parse_request)


def frame_of(obj) -> bytes:
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


# ------------------------------------------------------------------ framing, in process

def test_reader_reads_frames_and_clean_eof():
    data = frame_of({"id": "a", "job": "x", "args": {}}) + frame_of({"id": "b", "job": "y", "args": {"k": 1}})
    r = FrameReader(io.BytesIO(data), max_frame=1000)
    assert r.read() == {"id": "a", "job": "x", "args": {}}
    assert r.read() == {"id": "b", "job": "y", "args": {"k": 1}}
    assert r.read() is None  # end of stream between frames is a clean end


def test_reader_rejects_oversized_frame_without_reading_it():
    r = FrameReader(io.BytesIO(struct.pack(">I", 2000) + b"\x00" * 10), max_frame=1000)
    with pytest.raises(ProtocolError, match="frame of 2000 bytes exceeds the limit of 1000 bytes"):
        r.read()


def test_reader_rejects_truncated_body_and_header():
    with pytest.raises(ProtocolError, match="truncated frame: expected 100 bytes, got 7"):
        FrameReader(io.BytesIO(struct.pack(">I", 100) + b"1234567"), max_frame=1000).read()
    with pytest.raises(ProtocolError, match="truncated frame header: expected 4 bytes, got 2"):
        FrameReader(io.BytesIO(b"\x00\x01"), max_frame=1000).read()


def test_reader_rejects_malformed_bodies():
    bad = b"\xc1\xc1"  # 0xc1 is never used in MessagePack
    with pytest.raises(ProtocolError, match="malformed frame: body is not valid MessagePack"):
        FrameReader(io.BytesIO(struct.pack(">I", len(bad)) + bad), max_frame=1000).read()
    with pytest.raises(ProtocolError, match="malformed frame: body is not a MessagePack map"):
        FrameReader(io.BytesIO(frame_of([1, 2, 3])), max_frame=1000).read()
    with pytest.raises(ProtocolError, match="`id`"):
        parse_request({"job": "init", "args": {}})
    with pytest.raises(ProtocolError, match="`args`"):
        parse_request({"id": "x", "job": "init", "args": [1]})


def test_binary_payloads_are_little_endian_and_checked():
    assert i4_bytes([1, 258]) == b"\x01\x00\x00\x00\x02\x01\x00\x00"
    assert f4_bytes([1.0]) == struct.pack("<f", 1.0)
    assert i4_from(i4_bytes([5, -1, 7]), "x").tolist() == [5, -1, 7]
    np.testing.assert_array_equal(f4_from(f4_bytes([0.5, -2.25]), "x"), np.array([0.5, -2.25], dtype=np.float32))
    with pytest.raises(BadRequest, match=r"rows\[2\].tokens has 5 bytes"):
        i4_from(b"12345", "rows[2].tokens")
    with pytest.raises(BadRequest, match=r"rows\[0\].tokens must be MessagePack bin"):
        i4_from([1, 2, 3], "rows[0].tokens")


def test_reply_cache_keeps_mutating_replies_and_bounds_the_rest():
    c = ReplyCache(max_entries=3, max_bytes=10_000, min_entries=1)
    c.put("u1", "update", b"U1")
    for k in range(5):
        c.put(f"r{k}", "rollout", b"R" * 10)
    assert c.get("u1") == ("update", b"U1")  # pinned regardless of later traffic
    assert c.get("r0") is None and c.get("r1") is None  # only the last 3 read-only replies remain
    assert c.get("r4") == ("rollout", b"R" * 10)
    small = ReplyCache(max_entries=100, max_bytes=25, min_entries=1)
    for k in range(4):
        small.put(f"r{k}", "score", b"S" * 10)
    assert [k for k in ("r0", "r1", "r2", "r3") if small.get(k)] == ["r2", "r3"]  # 2 x 10 bytes <= 25


# ------------------------------------------------------------------ subprocess end to end

def spawn(extra_env=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_ROOT
    env.update(extra_env or {})
    return subprocess.Popen([sys.executable, "-m", "dare_worker", "--kind", "tiny"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def read_reply(p) -> bytes:
    header = p.stdout.read(4)
    assert len(header) == 4, p.stderr.read().decode()
    (n,) = struct.unpack(">I", header)
    body = p.stdout.read(n)
    assert len(body) == n
    return header + body


def request(p, rid, job, args):
    p.stdin.write(encode_frame({"id": rid, "job": job, "args": args}))
    p.stdin.flush()
    raw = read_reply(p)
    return msgpack.unpackb(raw[4:], raw=False), raw


def test_subprocess_jobs_cache_and_shutdown():
    p = spawn()
    try:
        msg, _ = request(p, "r0", "rollout", {})
        assert msg == {"id": "r0", "ok": False, "error": msg["error"]} and msg["error"]["code"] == "not_initialised"
        msg, _ = request(p, "i1", "init", init_args(seed=3))
        assert msg["ok"] and msg["result"]["policyVersion"] == 0 and msg["result"]["device"] == "cpu"
        msg, _ = request(p, "x1", "frobnicate", {})
        assert msg["error"]["code"] == "unknown_job"

        roll_args = {"prompts": arith_prompts(3, reps=2), "temperature": 1.0, "maxTokens": 6, "seed": 11}
        first, raw1 = request(p, "roll-1", "rollout", roll_args)
        assert first["ok"] and len(first["result"]["groups"]) == 3
        again, raw2 = request(p, "roll-1", "rollout", roll_args)
        assert raw2 == raw1  # answered from the cache, byte for byte

        sample = first["result"]["groups"][0]["samples"][0]
        assert isinstance(sample["tokens"], bytes) and isinstance(sample["logprobs"], bytes)
        assert len(i4(sample["tokens"])) == len(f4(sample["logprobs"])) >= 1
        row = {"promptTokens": sample["promptTokens"], "tokens": sample["tokens"], "oldLogprobs": sample["logprobs"],
               "advantage": 1.0, "clipLo": 0.8, "clipHi": 1.28, "weight": 1.0, "bin": -1, "truncated": False}
        upd = {"rows": [row], "aggregation": "token-mean", "entropyCoeff": 0.0, "klCoeff": 0.0, "temperature": 1.0}
        u1, raw_u1 = request(p, "upd-1", "update", upd)
        assert u1["ok"] and u1["result"]["policyVersion"] == 1
        u1b, raw_u1b = request(p, "upd-1", "update", upd)  # re-sent: not applied twice
        assert raw_u1b == raw_u1 and u1b["result"]["policyVersion"] == 1
        u2, _ = request(p, "upd-2", "update", upd)
        assert u2["result"]["policyVersion"] == 2

        bad, _ = request(p, "b1", "update", dict(upd, rows=[dict(row, tokens=b"123")]))
        assert bad["error"]["code"] == "bad_request" and "rows[0].tokens" in bad["error"]["message"]
        bad, _ = request(p, "b2", "rollout", dict(roll_args, prompts=[{"promptId": "q", "text": "1+é=", "n": 1}]))
        assert bad["error"]["code"] == "bad_request" and "prompts[0].text" in bad["error"]["message"]
        # the failed request left no state behind: the next update is version 3
        u3, _ = request(p, "upd-3", "update", upd)
        assert u3["result"]["policyVersion"] == 3

        bye, _ = request(p, "s1", "shutdown", {})
        assert bye == {"id": "s1", "ok": True, "result": {}}
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def run_raw(data: bytes, extra_env=None):
    p = spawn(extra_env)
    out, errb = p.communicate(data, timeout=60)
    return p.returncode, out, errb.decode()


def test_subprocess_malformed_oversized_truncated_exit_3():
    bad = b"\xc1\xc1\xc1"
    code, out, errtext = run_raw(struct.pack(">I", len(bad)) + bad)
    assert code == 3 and out == b"" and "malformed frame: body is not valid MessagePack" in errtext

    body = msgpack.packb([1, 2])
    code, out, errtext = run_raw(struct.pack(">I", len(body)) + body)
    assert code == 3 and "malformed frame: body is not a MessagePack map" in errtext

    code, out, errtext = run_raw(struct.pack(">I", 5000) + b"x" * 10, {"DARE_MAX_FRAME": "4096"})
    assert code == 3 and out == b"" and "frame of 5000 bytes exceeds the limit of 4096 bytes" in errtext

    code, out, errtext = run_raw(struct.pack(">I", 100) + b"y" * 40)
    assert code == 3 and "truncated frame: expected 100 bytes, got 40" in errtext

    code, out, errtext = run_raw(b"")  # closed before any frame: a clean end
    assert code == 0 and out == b""
