"""The `tiny` worker's character tokenizer, built from scratch (nothing is downloaded).

Ids: 0 PAD, 1 BOS, 2 EOS, then the arithmetic characters `0123456789+-*=` (ids 3..16, stable and small),
then the rest of printable ASCII and newline, so hint prompts and free text also encode. Any other
character is a bad_request naming the character and its position.
"""
from __future__ import annotations

import string

from .protocol import BadRequest

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")
ARITH_CHARS = "0123456789+-*="


def _alphabet() -> str:
    rest = [c for c in string.printable if c not in ARITH_CHARS and c not in "\t\r\x0b\x0c"]
    return ARITH_CHARS + "".join(rest)


class CharTokenizer:
    def __init__(self, alphabet: str | None = None):
        self.alphabet = _alphabet() if alphabet is None else alphabet
        if len(set(self.alphabet)) != len(self.alphabet):
            raise ValueError("tokenizer alphabet has repeated characters")
        self.char_to_id = {c: i + len(SPECIALS) for i, c in enumerate(self.alphabet)}
        self.id_to_char = {i: c for c, i in self.char_to_id.items()}
        self.pad_id, self.bos_id, self.eos_id = PAD, BOS, EOS

    @property
    def vocab_size(self) -> int:
        return len(SPECIALS) + len(self.alphabet)

    def encode_text(self, text: str, field: str = "text") -> list[int]:
        ids = []
        for pos, c in enumerate(text):
            i = self.char_to_id.get(c)
            if i is None:
                raise BadRequest(f"{field}: character {c!r} at position {pos} is not in the tiny tokenizer's vocabulary")
            ids.append(i)
        return ids

    def encode_prompt(self, text: str, field: str = "text", system: str | None = None) -> list[int]:
        """BOS + characters. A system text (generate job) is prepended on its own line: the tiny model
        has no chat template."""
        if system:
            text = system + "\n" + text
        return [BOS] + self.encode_text(text, field)

    def encode_completion(self, text: str, field: str = "completion") -> list[int]:
        """Characters of a target completion, without EOS."""
        return self.encode_text(text, field)

    def decode(self, ids) -> str:
        """Characters only; specials (PAD, BOS, EOS) are dropped."""
        return "".join(self.id_to_char.get(int(i), "") for i in ids)
