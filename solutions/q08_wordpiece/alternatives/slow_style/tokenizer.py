"""Alternative: structured like the original BERT code (BasicTokenizer, then WordpieceTokenizer)."""

import unicodedata


def _cjk(cp):
    return any(lo <= cp <= hi for lo, hi in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                             (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def _punct(c):
    cp = ord(c)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(c)[0] == "P"


class WordPieceTokenizer:
    def __init__(self, vocab, do_lower_case=True, unk_token="[UNK]", max_input_chars_per_word=100):
        if isinstance(vocab, dict):
            self.vocab = dict(vocab)
        else:
            if isinstance(vocab, str):
                vocab = open(vocab, encoding="utf-8").read().split("\n")
                if vocab and vocab[-1] == "":
                    vocab = vocab[:-1]
            self.vocab = {}
            for i, t in enumerate(vocab):
                self.vocab[t] = i
        self.inv = {i: t for t, i in self.vocab.items()}
        self.lower = do_lower_case
        self.unk = unk_token
        self.maxc = max_input_chars_per_word

    def _basic(self, text):
        cleaned = ""
        for c in text:
            if ord(c) == 0 or ord(c) == 0xFFFD:
                continue
            if c not in "\t\n\r" and unicodedata.category(c)[0] == "C":
                continue
            cleaned += " " if c.isspace() else c
        spaced = "".join(" " + c + " " if _cjk(ord(c)) else c for c in cleaned)
        result = []
        for tok in spaced.split():
            if self.lower:
                tok = tok.lower()
                tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
            piece = ""
            for c in tok:
                if _punct(c):
                    if piece:
                        result.append(piece)
                    result.append(c)
                    piece = ""
                else:
                    piece += c
            if piece:
                result.append(piece)
        return result

    def _wp(self, tok):
        if len(tok) > self.maxc:
            return [self.unk]
        out = []
        i = 0
        while i < len(tok):
            for j in range(len(tok), i, -1):
                cand = ("##" if i else "") + tok[i:j]
                if cand in self.vocab:
                    out.append(cand)
                    i = j
                    break
            else:
                return [self.unk]
        return out

    def tokenize(self, text):
        res = []
        for w in self._basic(text):
            res.extend(self._wp(w))
        return res

    def encode(self, text, text_pair=None, max_length=None, padding=False, truncation=False):
        conv = lambda s: [self.vocab.get(t, self.vocab[self.unk]) for t in self.tokenize(s)]
        first = conv(text)
        second = conv(text_pair) if text_pair not in (None, "") else None
        if truncation and max_length is not None:
            if second is None:
                first = first[:max(max_length - 2, 0)]
            else:
                room = max_length - 3
                la, lb = len(first), len(second)
                if la + lb > room:
                    if 2 * min(la, lb) <= room:          # the shorter one fits in its half: cut the longer
                        if la < lb:
                            lb = room - la
                        else:
                            la = room - lb
                    else:                                # both cut to half; the longer (or the pair on a tie) gets the odd one
                        half = room // 2
                        if la > lb:
                            la, lb = room - half, half
                        else:
                            la, lb = half, room - half
                    first, second = first[:la], second[:lb]
        ids = [self.vocab["[CLS]"]] + first + [self.vocab["[SEP]"]]
        tt = [0] * len(ids)
        if second is not None:
            ids = ids + second + [self.vocab["[SEP]"]]
            tt = tt + [1] * (len(second) + 1)
        am = [1] * len(ids)
        if padding == "max_length" and max_length is not None:
            while len(ids) < max_length:
                ids.append(self.vocab["[PAD]"])
                tt.append(0)
                am.append(0)
        return {"input_ids": ids, "token_type_ids": tt, "attention_mask": am}

    def decode(self, ids, skip_special_tokens=True):
        special = {"[PAD]", "[CLS]", "[SEP]", "[MASK]", self.unk}
        toks = [self.inv[i] for i in ids if i in self.inv and not (skip_special_tokens and self.inv[i] in special)]
        text = ""
        for k, t in enumerate(toks):
            if k and t.startswith("##"):
                text += t[2:]
                continue
            piece = (" " if k else "") + t
            for a, b in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                         (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]:
                piece = piece.replace(a, b)
            text += piece
        return text
