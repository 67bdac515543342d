"""Math answer checking with math-verify (the library verl and TRL use), for the Python side of scoring.

`MathVerifier().correct(response, ground_truth)` follows verl's `math_verify` reward: the ground truth is
wrapped in \\boxed{} and parsed with LaTeX extraction; the response with expression + LaTeX extraction (the
last \\boxed{} first); `verify` compares them symbolically (sympy). Timeouts of math-verify are disabled
(it implements them with SIGALRM, which only works in the main thread); a parse error is "wrong".
"""
from __future__ import annotations


class MathVerifier:
    def __init__(self):
        try:
            from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
        except ImportError as e:
            raise RuntimeError(f"math-verify is not importable by this Python: {e}") from e
        self._parse, self._verify = parse, verify
        self._gold_cfg = (LatexExtractionConfig(),)
        self._pred_cfg = (ExprExtractionConfig(), LatexExtractionConfig())

    def correct(self, response: str, ground_truth: str) -> bool:
        try:
            gold = self._parse("\\boxed{" + ground_truth + "}", extraction_config=self._gold_cfg,
                               parsing_timeout=None)
            pred = self._parse(response, extraction_config=self._pred_cfg, parsing_timeout=None)
            if not gold or not pred:
                return False
            return bool(self._verify(gold, pred, timeout_seconds=None))
        except Exception:  # noqa: BLE001 - math-verify raises on some inputs; verl counts those as wrong
            return False
