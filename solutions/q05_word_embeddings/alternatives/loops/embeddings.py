"""Alternative solution: plain Python loops and math, tensors only at the boundary."""

import math

import torch


def build_vocab(docs, min_count=1):
    counts = {}
    for doc in docs:
        for tok in doc:
            counts[tok] = counts.get(tok, 0) + 1
    words = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], w))
    vocab = {}
    for w in words:
        vocab[w] = len(vocab)
    return vocab


def _counts(docs, vocab):
    rows = []
    for doc in docs:
        row = [0.0] * len(vocab)
        for tok in doc:
            if tok in vocab:
                row[vocab[tok]] += 1.0
        rows.append(row)
    return rows


def bag_of_words(docs, vocab):
    return torch.tensor(_counts(docs, vocab), dtype=torch.float32).reshape(len(docs), len(vocab))


def tfidf(docs, vocab, smooth_idf=True, sublinear_tf=False, norm="l2"):
    if norm not in ("l1", "l2", None):
        raise ValueError("bad norm")
    rows = _counts(docs, vocab)
    n = len(rows)
    V = len(vocab)
    df = [sum(1 for r in rows if r[j] > 0) for j in range(V)]
    out = []
    for r in rows:
        w = [0.0] * V
        for j in range(V):
            if r[j] > 0:
                t = 1 + math.log(r[j]) if sublinear_tf else r[j]
                idf = math.log((n + 1) / (df[j] + 1)) + 1 if smooth_idf else math.log(n / df[j]) + 1
                w[j] = t * idf
        if norm == "l2":
            s = math.sqrt(sum(x * x for x in w))
        elif norm == "l1":
            s = sum(abs(x) for x in w)
        else:
            s = 1.0
        if s > 0:
            w = [x / s for x in w]
        out.append(w)
    return torch.tensor(out, dtype=torch.float32).reshape(n, V)


def skipgram_pairs(tokens, window):
    if window < 1:
        raise ValueError("window < 1")
    res = []
    for i, c in enumerate(tokens):
        for j, o in enumerate(tokens):
            if j != i and abs(i - j) <= window:
                res.append((c, o))
    return res


def cosine_similarity(a, b):
    dot = a.double() @ b.double().T
    na = (a.double() ** 2).sum(1).sqrt()
    nb = (b.double() ** 2).sum(1).sqrt()
    den = na[:, None] * nb[None, :]
    sim = torch.where(den > 0, dot / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(den))
    return sim.to(a.dtype)


def most_similar(embeddings, vocab, word, k):
    i0 = vocab[word]
    sims = cosine_similarity(embeddings[i0].unsqueeze(0), embeddings)[0].tolist()
    words = {i: w for w, i in vocab.items()}
    cand = [(-sims[i], i) for i in range(len(sims)) if i != i0]
    cand.sort()
    return [(words[i], float(-s)) for s, i in cand[:k]]
