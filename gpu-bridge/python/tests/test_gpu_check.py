"""gpu_check.py --small on the CPU, so the CUDA host's check cannot rot: over the protocol, in a subprocess,
with the msgpack package hidden (the CUDA hosts may lack it: the worker's own codec takes over)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gpu_check_small_runs_over_the_protocol_without_msgpack(tmp_path):
    blocker = tmp_path / "block" / "msgpack"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('msgpack hidden by the test')\n")
    out = tmp_path / "check.json"
    env = dict(os.environ, PYTHONPATH=str(blocker.parent), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "gpu_check.py"), "--small", "--json", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "logprob parity" in proc.stdout
    r = json.loads(out.read_text())
    assert r["device"] == "cpu" and r["dtype"] == "float32"
    assert r["shape"] == {"prompts": 4, "samples": 2, "newTokens": 16, "promptTokens": 12}
    assert 0 < r["rollout"]["tokens"] <= 4 * 2 * 16 and r["rollout"]["tokensPerSecond"] > 0
    assert len(r["updates"]) == 2 and all(u["tokens"] == r["rollout"]["tokens"] for u in r["updates"])
    assert all(u["memory"]["rssBytes"] > 0 for u in r["updates"])
    lp = r["logprobParity"]
    assert lp["tokens"] == r["rollout"]["tokens"] and 0 <= lp["meanAbs"] <= lp["maxAbs"] < 1e-4
    assert "logprobParity" not in r["updates"][1]  # second update: rows not flagged on-policy
