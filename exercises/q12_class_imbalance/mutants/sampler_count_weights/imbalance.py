"""Reference solution for q12_class_imbalance: class weights, focal loss and resampling.

Three families of remedies for an imbalanced training set:
* re-weighting the loss per class (inverse frequency, or the "effective number of samples" of
  Cui et al. 2019),
* a loss that down-weights easy examples (focal loss, Lin et al. 2017, from RetinaNet),
* resampling the data (over-sampling minority classes, under-sampling majority classes, or a
  weighted sampler that draws every class equally often).
"""

from __future__ import annotations

import torch
from torch.utils.data import WeightedRandomSampler


def _counts(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.bincount(labels.long(), minlength=num_classes)[:num_classes]


def class_weights(labels: torch.Tensor, num_classes: int, scheme: str = "inverse",
                  beta: float = 0.999) -> torch.Tensor:
    """Per-class loss weights (float32, shape [num_classes]) that sum to ``num_classes``.

    inverse:   w_c ∝ 1 / n_c
    effective: w_c ∝ (1 - beta) / (1 - beta ** n_c)   (the inverse of the effective number)
    A class absent from ``labels`` counts as n_c = 1 (no division by zero).
    """
    n = _counts(labels, num_classes).to(torch.float64).clamp(min=1)
    if scheme == "inverse":
        w = 1.0 / n
    elif scheme == "effective":
        w = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    else:
        raise ValueError(f"unknown scheme {scheme!r} (expected 'inverse' or 'effective')")
    # Normalise so that the weights average 1: the overall scale of the loss stays comparable.
    w = w * num_classes / w.sum()
    return w.to(torch.float32)


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0, alpha=None,
               reduction: str = "mean") -> torch.Tensor:
    """Multi-class focal loss  FL = -alpha_t * (1 - p_t) ** gamma * log(p_t).

    ``alpha`` is None, a float (scales every sample) or a per-class tensor indexed by the target.
    ``reduction``: "mean" (plain mean over samples), "sum" or "none" (shape [N]).
    """
    # log_softmax is stable for large logits (it subtracts the max internally); softmax then log
    # would give log(0) = -inf for a confidently wrong prediction.
    log_p = torch.log_softmax(logits, dim=-1)
    log_pt = log_p.gather(1, targets.long().view(-1, 1)).squeeze(1)
    pt = log_pt.exp()
    loss = -((1.0 - pt) ** gamma) * log_pt
    if alpha is not None:
        if isinstance(alpha, torch.Tensor):
            loss = loss * alpha.to(loss.dtype)[targets.long()]
        else:
            loss = loss * float(alpha)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"unknown reduction {reduction!r}")


def oversample_indices(labels: torch.Tensor, seed: int) -> torch.LongTensor:
    """Indices that contain every original index once plus random extra draws (with replacement)
    from the smaller classes, so every present class reaches the size of the largest; shuffled."""
    g = torch.Generator().manual_seed(seed)
    classes, counts = torch.unique(labels, return_counts=True)
    target = int(counts.max()) if counts.numel() else 0
    parts = [torch.arange(labels.numel())]
    for c, n in zip(classes.tolist(), counts.tolist()):
        members = torch.nonzero(labels == c).flatten()
        extra = target - n
        if extra > 0:
            parts.append(members[torch.randint(0, n, (extra,), generator=g)])
    out = torch.cat(parts)
    return out[torch.randperm(out.numel(), generator=g)]


def undersample_indices(labels: torch.Tensor, seed: int) -> torch.LongTensor:
    """A random subset (without replacement) with as many samples of every present class as the
    smallest class has; returned sorted."""
    g = torch.Generator().manual_seed(seed)
    classes, counts = torch.unique(labels, return_counts=True)
    if counts.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    keep = int(counts.min())
    parts = []
    for c in classes.tolist():
        members = torch.nonzero(labels == c).flatten()
        parts.append(members[torch.randperm(members.numel(), generator=g)[:keep]])
    return torch.cat(parts).sort().values


def balanced_sampler(labels: torch.Tensor, num_samples: int, seed: int) -> WeightedRandomSampler:
    """A WeightedRandomSampler that draws every class equally often (with replacement):
    each sample weighs 1 / (size of its class)."""
    counts = torch.bincount(labels.long())
    weights = counts[labels.long()].to(torch.float64)
    g = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(weights, num_samples=num_samples, replacement=True, generator=g)
