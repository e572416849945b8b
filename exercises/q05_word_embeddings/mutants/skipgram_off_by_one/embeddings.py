"""Reference solution: count-based text vectors, skip-gram pairs and cosine similarity."""

from __future__ import annotations

import math
from collections import Counter

import torch


def build_vocab(docs: list[list[str]], min_count: int = 1) -> dict[str, int]:
    """Token -> id, ids by descending total count, ties broken by the token (string order)."""
    counts = Counter(tok for doc in docs for tok in doc)
    kept = [(tok, c) for tok, c in counts.items() if c >= min_count]
    # Sort key (-count, token): frequent words first, alphabetical among equals.
    kept.sort(key=lambda item: (-item[1], item[0]))
    return {tok: i for i, (tok, _) in enumerate(kept)}


def bag_of_words(docs: list[list[str]], vocab: dict[str, int]) -> torch.Tensor:
    """Raw counts, float32 [D, V]; tokens missing from the vocabulary are ignored."""
    out = torch.zeros(len(docs), len(vocab), dtype=torch.float32)
    for d, doc in enumerate(docs):
        for tok in doc:
            j = vocab.get(tok)
            if j is not None:
                out[d, j] += 1.0
    return out


def tfidf(docs: list[list[str]], vocab: dict[str, int], smooth_idf: bool = True,
          sublinear_tf: bool = False, norm: str | None = "l2") -> torch.Tensor:
    """TF-IDF with scikit-learn's TfidfVectorizer conventions (float32 [D, V])."""
    if norm not in ("l2", "l1", None):
        raise ValueError(f"norm must be 'l2', 'l1' or None, got {norm!r}")
    # Work in float64 and cast at the end: the logs are then accurate to float32 precision.
    tf = bag_of_words(docs, vocab).double()
    n = tf.shape[0]
    df = (tf > 0).sum(dim=0).double()
    if smooth_idf:
        # As if one extra document contained every word once: no division by zero.
        idf = torch.log((1.0 + n) / (1.0 + df)) + 1.0
    else:
        idf = torch.log(n / df) + 1.0          # inf where df == 0; those columns are all zero
    if sublinear_tf:
        tf = torch.where(tf > 0, 1.0 + torch.log(tf.clamp(min=1.0)), tf)
    # Multiply only where the word occurs, so 0 * inf never produces NaN.
    w = torch.where(tf > 0, tf * idf, torch.zeros_like(tf))
    if norm is not None:
        size = w.abs().sum(dim=1, keepdim=True) if norm == "l1" else w.pow(2).sum(dim=1, keepdim=True).sqrt()
        w = torch.where(size > 0, w / size.clamp(min=1e-300), w)   # all-zero rows stay zero
    return w.float()


def skipgram_pairs(tokens: list[int], window: int) -> list[tuple[int, int]]:
    """(center, context) pairs for every context within `window` positions of the center."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    pairs = []
    n = len(tokens)
    for i in range(n):                                   # centers in order
        for j in range(max(0, i - window), min(n, i + window)):   # contexts left to right
            if j != i:
                pairs.append((tokens[i], tokens[j]))
    return pairs


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarity [N, M] between the rows of a [N, D] and b [M, D]; zero rows give 0."""
    def unit(x: torch.Tensor) -> torch.Tensor:
        norms = x.norm(dim=1, keepdim=True)
        # A zero row stays a zero row instead of becoming 0/0 = NaN.
        return torch.where(norms > 0, x / norms.clamp(min=torch.finfo(x.dtype).tiny), torch.zeros_like(x))
    return unit(a) @ unit(b).T


def most_similar(embeddings: torch.Tensor, vocab: dict[str, int], word: str, k: int) -> list[tuple[str, float]]:
    """The k words closest to `word` by cosine similarity (the word itself excluded)."""
    if word not in vocab:
        raise KeyError(word)
    idx = vocab[word]
    sims = cosine_similarity(embeddings[idx:idx + 1], embeddings)[0]
    id_to_word = {i: w for w, i in vocab.items()}
    # Descending similarity, ties by the lower id: a stable sort on -similarity over ids 0..V-1.
    order = sorted((i for i in range(embeddings.shape[0]) if i != idx), key=lambda i: -float(sims[i]))
    return [(id_to_word[i], float(sims[i])) for i in order[:max(k, 0)]]
