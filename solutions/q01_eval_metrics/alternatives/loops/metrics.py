"""Alternative solution: plain Python loops over lists, a rank-sum ROC AUC, kappa from probabilities."""

import math

import torch


def _lists(a, b):
    a, b = a.tolist(), b.tolist()
    if len(a) != len(b):
        raise ValueError("length mismatch")
    return a, b


def confusion_matrix(y_true, y_pred, num_classes=None):
    t, p = _lists(y_true, y_pred)
    if num_classes is None:
        num_classes = max(t + p) + 1 if t else 0
    rows = [[0] * num_classes for _ in range(num_classes)]
    for a, b in zip(t, p):
        if not (0 <= a < num_classes and 0 <= b < num_classes):
            raise ValueError("label out of range")
        rows[a][b] += 1
    return torch.tensor(rows, dtype=torch.long).reshape(num_classes, num_classes)


def accuracy(y_true, y_pred):
    t, p = _lists(y_true, y_pred)
    if not t:
        raise ValueError("empty")
    return sum(1 for a, b in zip(t, p) if a == b) / len(t)


def error_rate(y_true, y_pred):
    return 1.0 - accuracy(y_true, y_pred)


def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
    t, p = _lists(y_true, y_pred)
    labels = sorted(set(t) | set(p))
    if average == "binary":
        if len(labels) > 2:
            raise ValueError("binary average with more than two labels")
        labels = [pos_label]
    elif average not in ("micro", "macro", "weighted"):
        raise ValueError(f"unknown average {average!r}")
    zd = float(zero_division)

    def div(n, d):
        return n / d if d else zd

    stats = {}
    for c in labels:
        tp = sum(1 for a, b in zip(t, p) if a == c and b == c)
        fp = sum(1 for a, b in zip(t, p) if a != c and b == c)
        fn = sum(1 for a, b in zip(t, p) if a == c and b != c)
        stats[c] = (tp, fp, fn)
    if average == "micro":
        tp = sum(s[0] for s in stats.values())
        fp = sum(s[1] for s in stats.values())
        fn = sum(s[2] for s in stats.values())
        return div(tp, tp + fp), div(tp, tp + fn), div(2 * tp, 2 * tp + fp + fn)
    per = {c: (div(tp, tp + fp), div(tp, tp + fn), div(2 * tp, 2 * tp + fp + fn)) for c, (tp, fp, fn) in stats.items()}
    if average == "binary":
        return per[pos_label]
    w = {c: (1 if average == "macro" else stats[c][0] + stats[c][2]) for c in labels}
    total = sum(w.values())
    if total == 0:
        return zd, zd, zd
    out = [0.0, 0.0, 0.0]
    for c in labels:
        for i in range(3):
            out[i] += w[c] * per[c][i]
    return out[0] / total, out[1] / total, out[2] / total


def roc_auc(y_true, scores):
    t, s = y_true.tolist(), [float(x) for x in scores.double().tolist()]
    classes = sorted(set(t))
    if len(classes) != 2:
        raise ValueError("need two classes")
    pos_label = classes[1]
    # Average ranks (1-based), ties sharing the mean of their rank positions.
    order = sorted(range(len(s)), key=lambda i: s[i])
    ranks = [0.0] * len(s)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and s[order[j + 1]] == s[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    n_pos = sum(1 for x in t if x == pos_label)
    n_neg = len(t) - n_pos
    rank_sum = sum(r for r, x in zip(ranks, t) if x == pos_label)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def cohen_kappa(y_true, y_pred):
    t, p = _lists(y_true, y_pred)
    n = len(t)
    labels = set(t) | set(p)
    po = sum(1 for a, b in zip(t, p) if a == b) / n
    pe = sum((t.count(c) / n) * (p.count(c) / n) for c in labels)
    if pe == 1.0:
        return math.nan
    return (po - pe) / (1 - pe)
