"""Tools against over-fitting: k-fold validation, early stopping, mixup, cutout, ensembles."""

from __future__ import annotations

import torch


def k_fold_indices(n: int, k: int, shuffle: bool = True, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Split range(n) into k folds; return [(train_idx, val_idx)] * k as 1-D int64 tensors.

    Every index is in exactly one validation fold; train_idx is the complement of val_idx.
    Fold sizes differ by at most one, the first n % k folds being the larger ones.
    shuffle=False: folds are consecutive blocks of 0..n-1. shuffle=True: the order is a random
    permutation that depends only on `seed`. Raises ValueError unless 2 <= k <= n.
    """
    raise NotImplementedError


def best_epoch(val_losses: list[float], min_delta: float = 0.0) -> int:
    """0-based index of the epoch to keep (early stopping).

    An epoch improves on the best so far only if its loss is lower than best - min_delta;
    ties keep the earlier epoch. Raises ValueError on an empty list.
    """
    raise NotImplementedError


def mixup(x: torch.Tensor, y_onehot: torch.Tensor, alpha: float,
          generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mixup: lam ~ Beta(alpha, alpha) and a random permutation perm, both drawn with `generator`.

    Returns (lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm], lam) with lam a Python float.
    """
    raise NotImplementedError


def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Zero one size x size square per image of an (N, C, H, W) batch, in all channels.

    The square lies fully inside the image, its top-left corner uniform over the valid positions,
    drawn independently per image with `generator`. Returns a new tensor (input unchanged).
    Raises ValueError unless 1 <= size <= min(H, W).
    """
    raise NotImplementedError


def ensemble_probs(logits_list: list[torch.Tensor]) -> torch.Tensor:
    """Average of softmax(logits, dim=-1) over the members. Raises ValueError on an empty list."""
    raise NotImplementedError
