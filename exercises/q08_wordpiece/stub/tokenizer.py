"""BERT's WordPiece tokenizer, by hand. See README.md for the exact behaviour graded."""

from __future__ import annotations


class WordPieceTokenizer:
    def __init__(self, vocab, do_lower_case: bool = True, unk_token: str = "[UNK]",
                 max_input_chars_per_word: int = 100) -> None:
        """`vocab`: a path to a vocabulary file (one token per line, id = line number, from 0),
        a dict token -> id, or a list of tokens (id = position). It holds [PAD], [UNK] (or
        `unk_token`), [CLS], [SEP] and [MASK]."""
        raise NotImplementedError

    def tokenize(self, text: str) -> list[str]:
        """BERT basic tokenisation (cleaning, CJK characters apart, lower-casing and accent
        stripping when `do_lower_case`, whitespace and punctuation split), then greedy
        longest-match-first WordPiece with '##' continuation pieces."""
        raise NotImplementedError

    def encode(self, text: str, text_pair: str | None = None, max_length: int | None = None,
               padding=False, truncation: bool = False) -> dict:
        """{"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]} as Python lists:
        [CLS] text [SEP] (text_pair [SEP]); `padding` is False or "max_length"."""
        raise NotImplementedError

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """Ids back to text: '##' pieces glued to the previous piece, others separated by a space."""
        raise NotImplementedError
