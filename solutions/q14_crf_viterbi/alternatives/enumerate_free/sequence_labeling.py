"""Alternative: Viterbi that carries, per state, the best score and the smallest best path."""

import math

import torch


def viterbi_decode(emissions, transitions, start, end):
    E = emissions.double().tolist()
    A = transitions.double().tolist()
    S = start.double().tolist()
    F = end.double().tolist()
    K = len(S)
    best = [(S[j] + E[0][j], [j]) for j in range(K)]
    for t in range(1, len(E)):
        new = []
        for j in range(K):
            cands = [(best[i][0] + A[i][j] + E[t][j], best[i][1] + [j]) for i in range(K)]
            top = max(c[0] for c in cands)
            new.append(min((c for c in cands if c[0] == top), key=lambda c: c[1]))
        best = new
    finals = [(best[j][0] + F[j], best[j][1]) for j in range(K)]
    top = max(f[0] for f in finals)
    score, path = min((f for f in finals if f[0] == top), key=lambda f: f[1])
    return path, float(score)


def viterbi_decode_batch(emissions, mask, transitions, start, end):
    out = []
    for b in range(emissions.shape[0]):
        n = int(mask[b].sum())
        out.append(viterbi_decode(emissions[b, :n], transitions, start, end)[0])
    return out


def _lse(values):
    m = max(values)
    if m == -math.inf:
        return m
    return m + math.log(sum(math.exp(v - m) for v in values))


def _logz_one(em, tr, st, en):
    E, A, S, F = em.tolist(), tr.tolist(), st.tolist(), en.tolist()
    K = len(S)
    alpha = [S[j] + E[0][j] for j in range(K)]
    for t in range(1, len(E)):
        alpha = [_lse([alpha[i] + A[i][j] for i in range(K)]) + E[t][j] for j in range(K)]
    return _lse([alpha[j] + F[j] for j in range(K)])


def crf_log_partition(emissions, transitions, start, end):
    if emissions.dim() == 2:
        return torch.tensor(_logz_one(emissions.double(), transitions.double(), start.double(), end.double()),
                            dtype=emissions.dtype)
    return torch.tensor([_logz_one(e.double(), transitions.double(), start.double(), end.double()) for e in emissions],
                        dtype=emissions.dtype)


def _score(em, tags, tr, st, en):
    s = st[tags[0]] + en[tags[-1]]
    for t, y in enumerate(tags):
        s += em[t][y]
        if t:
            s += tr[tags[t - 1]][y]
    return s


def crf_nll(emissions, tags, transitions, start, end):
    tr, st, en = transitions.double().tolist(), start.double().tolist(), end.double().tolist()
    if emissions.dim() == 2:
        v = _logz_one(emissions.double(), transitions.double(), start.double(), end.double()) - \
            _score(emissions.double().tolist(), tags.tolist(), tr, st, en)
        return torch.tensor(v, dtype=emissions.dtype)
    vals = []
    for e, tg in zip(emissions, tags):
        vals.append(_logz_one(e.double(), transitions.double(), start.double(), end.double())
                    - _score(e.double().tolist(), tg.tolist(), tr, st, en))
    return torch.tensor(vals, dtype=emissions.dtype)


def bio_to_spans(tags):
    # Mark chunk boundaries conlleval-style: (prev, cur) pairs decide starts and ends.
    out = []
    prev_p, prev_t = "O", ""
    begin = None
    for i, tag in enumerate(list(tags) + ["O"]):
        p, t = ("O", "") if tag == "O" else (tag[:1], tag[2:])
        end_chunk = prev_p != "O" and (p == "O" or p == "B" or t != prev_t)
        start_chunk = p == "B" or (p == "I" and (prev_p == "O" or t != prev_t))
        if end_chunk:
            out.append((prev_t, begin, i))
        if start_chunk:
            begin = i
        prev_p, prev_t = p, t
    return out


def span_f1(true_tags, pred_tags):
    if (true_tags and isinstance(true_tags[0], str)) or (pred_tags and isinstance(pred_tags[0], str)):
        true_tags, pred_tags = [true_tags], [pred_tags]
    if len(true_tags) != len(pred_tags) or any(len(a) != len(b) for a, b in zip(true_tags, pred_tags)):
        raise ValueError("length mismatch")
    tp = fp = fn = 0
    for a, b in zip(true_tags, pred_tags):
        ta, tb = bio_to_spans(a), bio_to_spans(b)
        hit = len(set(ta) & set(tb))
        tp += hit
        fp += len(tb) - hit
        fn += len(ta) - hit
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": p, "recall": r, "f1": f}
