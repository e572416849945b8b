"""Public helpers for q08_wordpiece: where the shipped vocabulary lies, and a loader."""

import os

#: Path of the vocabulary shipped with the exercise (one token per line, id = line number).
VOCAB_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vocab.txt")


def load_vocab_list(path: str = VOCAB_PATH) -> list[str]:
    """The tokens of a vocabulary file, in id order."""
    with open(path, encoding="utf-8") as f:
        tokens = [line.rstrip("\n") for line in f]
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens
