"""Classification metrics, written by hand with scikit-learn's semantics.

Labels are 1-D integer ``torch.Tensor`` s; scores are 1-D float tensors. Every metric returns a
plain Python ``float`` (``confusion_matrix`` returns an int64 tensor). Do not modify the inputs.
"""

from __future__ import annotations

import torch


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """The C x C matrix of counts (dtype torch.int64): entry [i, j] counts samples of true class i
    predicted as class j. C is ``num_classes``, or max label (over y_true and y_pred) + 1."""
    raise NotImplementedError


def accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Fraction of correct predictions. Raises ValueError on empty input."""
    raise NotImplementedError


def error_rate(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """1 - accuracy. Raises ValueError on empty input."""
    raise NotImplementedError


def precision_recall_f1(y_true: torch.Tensor, y_pred: torch.Tensor, average: str = "binary", pos_label: int = 1,
                        zero_division: float = 0.0) -> tuple[float, float, float]:
    """(precision, recall, F1) with ``average`` in "binary", "micro", "macro", "weighted".

    "binary" scores the class ``pos_label`` only and raises ValueError when y_true and y_pred
    together hold more than 2 distinct labels. "macro" and "weighted" average per-label values
    over the union of the labels in y_true and y_pred ("weighted" by each label's support in
    y_true). F1 = 2TP / (2TP + FP + FN). Every 0/0 ratio (including a per-label one) is
    ``zero_division``.
    """
    raise NotImplementedError


def roc_auc(y_true: torch.Tensor, scores: torch.Tensor) -> float:
    """Area under the ROC curve for a binary problem; the positive class is the larger label.

    A tied (positive, negative) pair of scores counts one half. Raises ValueError unless y_true
    holds exactly two distinct labels.
    """
    raise NotImplementedError


def cohen_kappa(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Cohen's kappa (po - pe) / (1 - pe) over the union of labels; ``math.nan`` when pe == 1."""
    raise NotImplementedError
