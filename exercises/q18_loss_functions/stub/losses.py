"""Loss functions written by hand with elementary torch operations.

Every loss takes ``reduction`` in "mean", "sum", "none" and returns a ``torch.Tensor`` of the
input's dtype: 0-dim for "mean" and "sum", the unreduced per-element (or per-sample) losses for
"none". Results must be differentiable (autograd), with values and gradients equal to
torch.nn.functional's. Do not use torch's loss functions or loss modules.
"""

from __future__ import annotations

import torch


def mse(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Squared error (pred - target)^2, elementwise, then reduced (as F.mse_loss)."""
    raise NotImplementedError


def mae(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Absolute error |pred - target|, elementwise, then reduced (as F.l1_loss)."""
    raise NotImplementedError


def huber(pred: torch.Tensor, target: torch.Tensor, delta: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """Huber loss (as F.huber_loss): 0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta)."""
    raise NotImplementedError


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> torch.Tensor:
    """Softmax cross-entropy (as F.cross_entropy) for logits [N, C] and int64 class indices [N].

    Targets equal to ``ignore_index`` contribute 0 ("none" gives 0 there) and "mean" averages over
    the other samples only. With label smoothing eps the target distribution is
    (1 - eps) * one_hot + eps / C. Must be numerically stable (logits of +-1e4).
    """
    raise NotImplementedError


def binary_cross_entropy_with_logits(logits: torch.Tensor, target: torch.Tensor, pos_weight: torch.Tensor | None = None,
                                     reduction: str = "mean") -> torch.Tensor:
    """-[pos_weight * y * log sigmoid(x) + (1 - y) * log(1 - sigmoid(x))], elementwise, then reduced.

    ``target`` holds probabilities in [0, 1] (same shape as logits); ``pos_weight`` (optional)
    broadcasts along the last dimension. Must be numerically stable (logits of +-1e4).
    """
    raise NotImplementedError


def multiclass_hinge(logits: torch.Tensor, target: torch.Tensor, margin: float = 1.0,
                     reduction: str = "mean") -> torch.Tensor:
    """Multi-class hinge, as F.multi_margin_loss with p=1, for logits [N, C], targets [N]:
    loss_i = sum over j != y_i of max(0, margin - x[i, y_i] + x[i, j]), divided by C."""
    raise NotImplementedError


def kl_divergence(log_p: torch.Tensor, log_q: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Pointwise KL(p || q) = p * (log p - log q) from log-probabilities of the same shape.

    "mean" averages over every element (torch's "mean", not "batchmean").
    """
    raise NotImplementedError
