"""math-verify's verdicts on the cases bench/mathverify/cases.ts wrote, against the TypeScript verifier's and the
expected ones (BENCHMARKS.md, "math-verify against tasks/verifiers").

    .venv/bin/python bench/mathverify/agreement.py /tmp/mv-cases.jsonl [--show 20]

math-verify is called as verl's math_verify reward does: the ground truth wrapped in \\boxed{}, gold extraction
LaTeX, prediction extraction expression + LaTeX (dare_worker/mathverify.py).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "gpu-bridge", "python"))

from dare_worker.mathverify import MathVerifier  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--show", type=int, default=15)
    o = ap.parse_args(argv)
    cases = [json.loads(line) for line in open(o.cases)]
    mv = MathVerifier()
    t = time.perf_counter()
    for c in cases:
        c["mv"] = mv.correct(c["response"], c["answer"])
    dt = time.perf_counter() - t
    by = collections.defaultdict(list)
    for c in cases:
        by[c["set"]].append(c)
    print(f"{len(cases)} cases, math-verify {dt / len(cases) * 1e3:.2f} ms per case")
    print(f"{'set':24} {'n':>5} {'agree':>7} {'TS right':>9} {'mv right':>9}  both wrong  TS only right  mv only right")
    for name, cs in by.items():
        agree = sum(c["ts"] == c["mv"] for c in cs)
        ts_ok = sum(c["ts"] == c["expected"] for c in cs)
        mv_ok = sum(c["mv"] == c["expected"] for c in cs)
        both_bad = sum(c["ts"] != c["expected"] and c["mv"] != c["expected"] for c in cs)
        ts_only = sum(c["ts"] == c["expected"] and c["mv"] != c["expected"] for c in cs)
        mv_only = sum(c["mv"] == c["expected"] and c["ts"] != c["expected"] for c in cs)
        n = len(cs)
        print(f"{name:24} {n:5d} {agree / n:7.1%} {ts_ok / n:9.1%} {mv_ok / n:9.1%}  {both_bad:10d}  {ts_only:13d}  {mv_only:13d}")
    for name, cs in by.items():
        bad = [c for c in cs if c["ts"] != c["mv"] or c["ts"] != c["expected"]]
        if not bad:
            continue
        print(f"\n{name}: disagreements or misses ({len(bad)}), first {min(o.show, len(bad))}:")
        for c in bad[:o.show]:
            print(f"  expected {str(c['expected']):5} TS {str(c['ts']):5} ({c['tsVerdict']:9}) mv {str(c['mv']):5}  "
                  f"gt {c['answer'][:40]!r:44} resp {c['response'][:60]!r}  {c.get('note', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
