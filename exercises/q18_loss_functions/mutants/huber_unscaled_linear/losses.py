"""Reference solution for q18_loss_functions: common losses written with elementary torch ops.

Every loss builds an elementwise (or per-sample) loss tensor and hands it to ``_reduce``. All
computations are differentiable with autograd, and the log-probability computations are written
in a numerically stable way (no ``log(softmax(x))``, no ``log(sigmoid(x))``), so logits of
+-1e4 give finite values and gradients.
"""

from __future__ import annotations

import torch

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def mse(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error: (pred - target)^2 elementwise."""
    return _reduce((pred - target) ** 2, reduction)


def mae(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error (L1): |pred - target| elementwise."""
    return _reduce((pred - target).abs(), reduction)


def huber(pred: torch.Tensor, target: torch.Tensor, delta: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """Huber loss: quadratic 0.5 d^2 for |d| < delta, linear delta (|d| - delta / 2) beyond."""
    d = (pred - target).abs()
    loss = torch.where(d < delta, 0.5 * d ** 2, d - 0.5 * delta)
    return _reduce(loss, reduction)


def _log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Stable log-softmax over the last dim: shift by the row max before exponentiating."""
    shifted = logits - logits.max(dim=-1, keepdim=True).values.detach()
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> torch.Tensor:
    """Softmax cross-entropy for logits [N, C] and class indices target [N].

    With label smoothing eps the target distribution is (1 - eps) one-hot + eps / C uniform.
    Samples whose target is ``ignore_index`` contribute 0 and are left out of the mean.
    """
    n, num_classes = logits.shape
    logp = _log_softmax(logits)
    keep = target != ignore_index
    safe_target = torch.where(keep, target, torch.zeros_like(target))  # any valid index; masked below
    nll = -logp.gather(1, safe_target.unsqueeze(1)).squeeze(1)
    loss = nll
    if label_smoothing > 0:
        smooth = -logp.mean(dim=1)  # cross-entropy with the uniform distribution
        loss = (1 - label_smoothing) * nll + label_smoothing * smooth
    loss = torch.where(keep, loss, torch.zeros_like(loss))
    if reduction == "mean":
        # Average over the kept samples only (0 / 0 = nan when every target is ignored, as torch).
        return loss.sum() / keep.sum()
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(logits: torch.Tensor, target: torch.Tensor, pos_weight: torch.Tensor | None = None,
                                     reduction: str = "mean") -> torch.Tensor:
    """-[w y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], with w = pos_weight (1 by default).

    log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x), and
    softplus(z) = max(z, 0) + log(1 + exp(-|z|)) never overflows.
    """
    def softplus(z: torch.Tensor) -> torch.Tensor:
        return z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))

    w = 1.0 if pos_weight is None else pos_weight
    loss = w * target * softplus(-logits) + (1 - target) * softplus(logits)
    return _reduce(loss, reduction)


def multiclass_hinge(logits: torch.Tensor, target: torch.Tensor, margin: float = 1.0,
                     reduction: str = "mean") -> torch.Tensor:
    """Multi-class hinge (Crammer-Singer style, as torch's multi_margin_loss with p=1):
    loss_i = sum_{j != y_i} max(0, margin - x[i, y_i] + x[i, j]) / C."""
    n, num_classes = logits.shape
    correct = logits.gather(1, target.unsqueeze(1))  # [N, 1]
    hinge = (margin - correct + logits).clamp(min=0)
    not_target = torch.ones_like(hinge, dtype=torch.bool).scatter(1, target.unsqueeze(1), False)
    loss = (hinge * not_target).sum(dim=1) / num_classes
    return _reduce(loss, reduction)


def kl_divergence(log_p: torch.Tensor, log_q: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Pointwise KL(p || q) = p (log p - log q), from log-probabilities; "mean" averages every element."""
    return _reduce(log_p.exp() * (log_p - log_q), reduction)
