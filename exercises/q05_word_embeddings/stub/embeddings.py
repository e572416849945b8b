"""Word vectors from counts: vocabulary, bag of words, TF-IDF, skip-gram pairs, cosine similarity.

Fill in every function. See README.md for the exact conventions the grader checks.
"""

from __future__ import annotations

import torch


def build_vocab(docs: list[list[str]], min_count: int = 1) -> dict[str, int]:
    """Map each token seen at least `min_count` times (over all documents) to an id.

    Ids 0, 1, 2, ... go by descending total count; tokens with equal counts are ordered by the
    token itself (Python string order). No special tokens.
    """
    raise NotImplementedError


def bag_of_words(docs: list[list[str]], vocab: dict[str, int]) -> torch.Tensor:
    """Count matrix, float32 of shape [len(docs), len(vocab)]; unknown tokens are ignored."""
    raise NotImplementedError


def tfidf(docs: list[list[str]], vocab: dict[str, int], smooth_idf: bool = True,
          sublinear_tf: bool = False, norm: str | None = "l2") -> torch.Tensor:
    """TF-IDF matrix (float32 [len(docs), len(vocab)]) with scikit-learn's TfidfVectorizer conventions.

    tf = raw count (1 + ln(count) when `sublinear_tf`, for counts > 0);
    idf = ln((1 + n) / (1 + df)) + 1 when `smooth_idf`, else ln(n / df) + 1;
    each row is then divided by its L2 or L1 norm (`norm` = "l2", "l1" or None; all-zero rows stay zero).
    Words of the vocabulary that occur in no document have an all-zero column.
    ValueError for any other `norm`.
    """
    raise NotImplementedError


def skipgram_pairs(tokens: list[int], window: int) -> list[tuple[int, int]]:
    """(center, context) pairs: every context at most `window` positions from its center.

    Ordered by center position, then by context position. ValueError if window < 1.
    """
    raise NotImplementedError


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarity [N, M] between the rows of a [N, D] and b [M, D].

    Any pair involving an all-zero row has similarity 0. Same dtype as the inputs.
    """
    raise NotImplementedError


def most_similar(embeddings: torch.Tensor, vocab: dict[str, int], word: str, k: int) -> list[tuple[str, float]]:
    """The k words (with their cosine similarity, as Python floats) closest to `word`.

    `embeddings[i]` is the vector of the word with id i. The word itself is excluded; ties are
    broken by the lower id; fewer than k items if the vocabulary is too small. KeyError for an
    unknown word.
    """
    raise NotImplementedError
