"""Reference solution for q01_eval_metrics: classification metrics with scikit-learn's semantics.

Every function takes 1-D integer label tensors (and, for ``roc_auc``, a float score tensor) and
returns plain Python numbers, except ``confusion_matrix`` which returns an int64 tensor.
"""

from __future__ import annotations

import math

import torch

_AVERAGES = ("binary", "micro", "macro", "weighted")


def _check_labels(y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    if y_true.dim() != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length, got {tuple(y_true.shape)} "
                         f"and {tuple(y_pred.shape)}")


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """C x C counts: entry [i, j] is the number of samples of true class i predicted as class j."""
    _check_labels(y_true, y_pred)
    t, p = y_true.long(), y_pred.long()
    if num_classes is None:
        num_classes = int(torch.cat([t, p]).max()) + 1 if t.numel() else 0
    if t.numel() and (min(int(t.min()), int(p.min())) < 0 or max(int(t.max()), int(p.max())) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    # One bincount over the flattened (true, predicted) pair index counts every cell at once.
    flat = t * num_classes + p
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Fraction of samples whose prediction equals the label."""
    _check_labels(y_true, y_pred)
    if y_true.numel() == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return int((y_true == y_pred).sum()) / y_true.numel()


def error_rate(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """1 - accuracy (computed from the error count, so it is exact)."""
    _check_labels(y_true, y_pred)
    if y_true.numel() == 0:
        raise ValueError("error rate of an empty set is undefined")
    return int((y_true != y_pred).sum()) / y_true.numel()


def _ratio(num: int, den: int, zero_division: float) -> float:
    """num / den, or ``zero_division`` for 0/0 (the only way den can be 0 here)."""
    return num / den if den else float(zero_division)


def precision_recall_f1(y_true: torch.Tensor, y_pred: torch.Tensor, average: str = "binary", pos_label: int = 1,
                        zero_division: float = 0.0) -> tuple[float, float, float]:
    """Precision, recall and F1 (F1 = 2TP / (2TP + FP + FN)), averaged as in scikit-learn."""
    _check_labels(y_true, y_pred)
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    labels = torch.unique(torch.cat([y_true, y_pred])).tolist()  # the union, sorted
    if average == "binary":
        if len(labels) > 2:
            raise ValueError(f"average='binary' needs at most 2 labels, got {len(labels)}; choose another average")
        labels = [pos_label]

    # Per-label counts of true positives, false positives and false negatives.
    tp, fp, fn = [], [], []
    for label in labels:
        is_true, is_pred = y_true == label, y_pred == label
        tp.append(int((is_true & is_pred).sum()))
        fp.append(int((~is_true & is_pred).sum()))
        fn.append(int((is_true & ~is_pred).sum()))

    if average == "micro":
        # Pool the counts over all labels, then compute the ratios once.
        TP, FP, FN = sum(tp), sum(fp), sum(fn)
        return (_ratio(TP, TP + FP, zero_division), _ratio(TP, TP + FN, zero_division),
                _ratio(2 * TP, 2 * TP + FP + FN, zero_division))

    precision = [_ratio(a, a + b, zero_division) for a, b in zip(tp, fp)]
    recall = [_ratio(a, a + c, zero_division) for a, c in zip(tp, fn)]
    f1 = [_ratio(2 * a, 2 * a + b + c, zero_division) for a, b, c in zip(tp, fp, fn)]

    if average == "binary":
        return precision[0], recall[0], f1[0]
    if average == "macro":
        weights = [1] * len(labels)
    else:  # weighted: by support, the number of true samples of each label
        weights = [a + c for a, c in zip(tp, fn)]
    total = sum(weights)
    if total == 0:
        return float(zero_division), float(zero_division), float(zero_division)
    return tuple(sum(w * v for w, v in zip(weights, values)) / total for values in (precision, recall, f1))  # type: ignore[return-value]


def roc_auc(y_true: torch.Tensor, scores: torch.Tensor) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative).

    The positive class is the larger of the two labels; a tied (positive, negative) pair counts 1/2.
    """
    if y_true.dim() != 1 or y_true.shape != scores.shape:
        raise ValueError("y_true and scores must be 1-D of the same length")
    classes = torch.unique(y_true)
    if len(classes) != 2:
        raise ValueError(f"roc_auc needs exactly 2 classes in y_true, got {len(classes)}")
    positive = y_true == classes[1]
    s = scores.double()
    pos, neg = s[positive], s[~positive]
    # Compare every (positive, negative) pair: wins count 1, ties 1/2 (Mann-Whitney U statistic).
    wins = int((pos[:, None] > neg[None, :]).sum())
    ties = int((pos[:, None] == neg[None, :]).sum())
    return (wins + 0.5 * ties) / (pos.numel() * neg.numel())


def cohen_kappa(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Cohen's kappa (po - pe) / (1 - pe); nan when pe == 1 (both raters use one same label)."""
    _check_labels(y_true, y_pred)
    labels = torch.unique(torch.cat([y_true, y_pred]))
    # Re-index the labels 0..K-1 so any label values work.
    t = torch.searchsorted(labels, y_true)
    p = torch.searchsorted(labels, y_pred)
    cm = confusion_matrix(t, p, num_classes=len(labels))
    n = int(cm.sum())
    agree = int(cm.trace())
    chance = int((cm.sum(1) * cm.sum(0)).sum())
    # Multiply through by n^2 so the undefined case (pe == 1) is detected exactly, in integers.
    den = n * n - chance
    if den == 0:
        return math.nan
    return (n * agree - chance) / den
