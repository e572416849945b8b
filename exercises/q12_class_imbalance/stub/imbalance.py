"""q12_class_imbalance: remedies for imbalanced classification data."""

from __future__ import annotations

import torch
from torch.utils.data import WeightedRandomSampler


def class_weights(labels: torch.Tensor, num_classes: int, scheme: str = "inverse",
                  beta: float = 0.999) -> torch.Tensor:
    """Per-class loss weights, float32 tensor of shape [num_classes], normalised to sum to num_classes.

    scheme="inverse":   w_c proportional to 1 / n_c
    scheme="effective": w_c proportional to (1 - beta) / (1 - beta ** n_c)
    n_c is the number of samples of class c in ``labels``; an absent class counts as n_c = 1.
    Raise ValueError for an unknown scheme.
    """
    raise NotImplementedError


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0, alpha=None,
               reduction: str = "mean") -> torch.Tensor:
    """Multi-class focal loss FL = -alpha_t * (1 - p_t) ** gamma * log(p_t).

    logits [N, C] (float32 or float64), targets [N] class indices. ``alpha``: None, a float that
    scales every sample's loss, or a tensor [C] of per-class factors indexed by the target.
    reduction: "mean" (plain mean over the N samples), "sum", or "none" (tensor [N]).
    Same dtype as logits; must stay finite for very large logits.
    """
    raise NotImplementedError


def oversample_indices(labels: torch.Tensor, seed: int) -> torch.LongTensor:
    """Random over-sampling: every original index once plus extra random draws (with replacement)
    from the smaller classes so that every present class has as many samples as the largest.
    Returned shuffled; deterministic for a given seed."""
    raise NotImplementedError


def undersample_indices(labels: torch.Tensor, seed: int) -> torch.LongTensor:
    """Random under-sampling: a random subset of distinct indices with, for every present class,
    as many samples as the smallest class has. Returned sorted; deterministic for a given seed."""
    raise NotImplementedError


def balanced_sampler(labels: torch.Tensor, num_samples: int, seed: int) -> WeightedRandomSampler:
    """A torch.utils.data.WeightedRandomSampler drawing ``num_samples`` indices with replacement,
    every class equally likely; seeded with a torch.Generator made from ``seed``."""
    raise NotImplementedError
