"""Reference solution: BERT's WordPiece tokenizer, written to match transformers' BertTokenizer.

Pipeline (as in the `tokenizers` library that backs transformers' BertTokenizer):
  1. normalise: clean the text, put spaces around CJK characters, strip accents and lower-case;
  2. pre-tokenise: split on whitespace, every punctuation character is its own word;
  3. WordPiece: greedy longest-match-first inside each word, continuation pieces start with "##".
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

SPECIAL = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")


def _is_control(ch: str) -> bool:
    # \t, \n and \r are whitespace, not control characters.
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    # Every non-alphanumeric ASCII character ("$", "^", "`"...) counts as punctuation, as in BERT.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _load_vocab(vocab) -> dict[str, int]:
    if isinstance(vocab, dict):
        return dict(vocab)
    if isinstance(vocab, (str, Path)):
        with open(vocab, encoding="utf-8") as f:
            vocab = [line.rstrip("\n") for line in f]
        while vocab and vocab[-1] == "":      # a trailing newline is not a token
            vocab.pop()
    return {tok: i for i, tok in enumerate(vocab)}


class WordPieceTokenizer:
    def __init__(self, vocab, do_lower_case: bool = True, unk_token: str = "[UNK]",
                 max_input_chars_per_word: int = 100) -> None:
        self.vocab = _load_vocab(vocab)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.do_lower_case = do_lower_case
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word
        self.special_tokens = set(SPECIAL) | {unk_token}

    # 1. normalisation -------------------------------------------------------------------------
    def _normalize(self, text: str) -> str:
        out = []
        for ch in text:
            if ch == "\0" or ch == "\ufffd" or _is_control(ch):
                continue                                   # drop NUL, U+FFFD and control characters
            if ch.isspace():
                out.append(" ")                            # every kind of whitespace becomes a space
            elif _is_cjk(ch):
                out.append(f" {ch} ")                      # each CJK character is its own word
            else:
                out.append(ch)
        text = "".join(out)
        if self.do_lower_case:
            # Strip accents: decompose (NFD) and drop the combining marks, then lower-case.
            text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
            text = text.lower()
        return text

    # 2. pre-tokenisation ----------------------------------------------------------------------
    @staticmethod
    def _split(text: str) -> list[str]:
        words, cur = [], []
        for ch in text:
            if ch.isspace() or _is_punctuation(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                if not ch.isspace():
                    words.append(ch)                       # punctuation is a word of its own
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
        return words

    # 3. WordPiece -----------------------------------------------------------------------------
    def _wordpiece(self, word: str) -> list[str]:
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            piece = None
            while start < end:                             # longest match first
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.vocab:
                    piece = sub
                    break
                end -= 1
            if piece is None:
                return [self.unk_token]                    # one unmatched piece: the whole word is unknown
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        return [p for word in self._split(self._normalize(text)) for p in self._wordpiece(word)]

    def _ids(self, text: str) -> list[int]:
        unk = self.vocab[self.unk_token]
        return [self.vocab.get(t, unk) for t in self.tokenize(text)]

    # encoding ---------------------------------------------------------------------------------
    def encode(self, text: str, text_pair: str | None = None, max_length: int | None = None,
               padding=False, truncation: bool = False) -> dict:
        a = self._ids(text)
        b = self._ids(text_pair) if text_pair else None        # "" counts as no pair
        n_special = 3 if b is not None else 2
        if truncation and max_length is not None:
            room = max_length - n_special
            if b is None:
                a = a[:room]
            elif len(a) + len(b) > room:
                # The `longest_first` rule of the tokenizers library: the shorter sequence keeps
                # everything if it fits in its half, otherwise both get half of the room (the
                # longer one, or the second on a tie, gets the odd token).
                while len(a) + len(b) > room:
                    if len(a) > len(b):
                        a = a[:-1]
                    else:
                        b = b[:-1]
        cls, sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        ids = [cls] + a + [sep]
        types = [0] * len(ids)
        if b is not None:
            ids += b + [sep]
            types += [1] * (len(b) + 1)
        mask = [1] * len(ids)
        if padding == "max_length" and max_length is not None and len(ids) < max_length:
            extra = max_length - len(ids)
            ids += [self.vocab["[PAD]"]] * extra
            types += [0] * extra
            mask += [0] * extra
        return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}

    # decoding ---------------------------------------------------------------------------------
    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        tokens = [self.ids_to_tokens[i] for i in ids if i in self.ids_to_tokens]
        if skip_special_tokens:
            tokens = [t for t in tokens if t not in self.special_tokens]
        out = []
        for i, tok in enumerate(tokens):
            if i > 0:
                tok = tok[2:] if tok.startswith("##") else " " + tok   # glue "##" pieces, space the rest
            # The clean-up of the tokenizers WordPiece decoder, applied to each piece.
            for old, new in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                             (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
                tok = tok.replace(old, new)
            out.append(tok)
        return "".join(out)
