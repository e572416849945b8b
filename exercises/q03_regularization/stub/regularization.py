"""q03_regularization: dropout, an L2 penalty and early stopping, written by hand."""

from __future__ import annotations

from typing import Iterable

import torch


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout.

    In training (and p > 0), each entry is zeroed independently with probability p and the kept
    entries are multiplied by 1 / (1 - p). When not training, or when p == 0, return a tensor equal
    to x. Random numbers come only from `generator` when one is given. Raises ValueError unless
    0 <= p < 1. The result has x's shape and dtype; x itself is not modified.
    """
    raise NotImplementedError


def l2_penalty(parameters: Iterable[torch.Tensor], weight_decay: float) -> torch.Tensor:
    """weight_decay / 2 * (sum of the squares of all entries of all parameters), as a 0-dim tensor.

    The result must stay connected to the parameters' autograd graph, so that
    l2_penalty(model.parameters(), wd).backward() adds wd * p to each p.grad.
    """
    raise NotImplementedError


class EarlyStopping:
    """Say when to stop training from a validation metric seen once per epoch.

    Attributes (updated by step): best (float), best_epoch (int, 0-based index of the step call
    that set best), num_bad_epochs (int, consecutive epochs without improvement).
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min") -> None:
        raise NotImplementedError

    def step(self, metric: float) -> bool:
        """Record one epoch's metric; return True when training should stop."""
        raise NotImplementedError
