"""Reference solution for q03_regularization: three tools against overfitting.

* dropout: randomly zero activations during training ("inverted" dropout scales the survivors by
  1 / (1 - p) so the expected activation is unchanged and evaluation needs no rescaling);
* l2_penalty: weight decay as an explicit loss term, wd / 2 * sum of squared parameters;
* EarlyStopping: stop when the validation metric has not improved for `patience` epochs.
"""

from __future__ import annotations

import math
from typing import Iterable

import torch


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout: zero each entry with probability p, scale the rest by 1 / (1 - p)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0:
        return x.clone()  # evaluation mode: identity (a copy, the input is never modified)
    # One uniform number per entry, drawn only from `generator` when one is given.
    keep = torch.rand(x.shape, generator=generator) >= p   # P(keep) = 1 - p
    return x * keep.to(x.dtype) / (1 - p)


def l2_penalty(parameters: Iterable[torch.Tensor], weight_decay: float) -> torch.Tensor:
    """wd / 2 * sum of squares of every parameter, as a 0-dim tensor that autograd can differentiate.

    Its gradient with respect to a parameter p is weight_decay * p, which is exactly what SGD's
    weight_decay option adds to the gradient.
    """
    total = None
    for p in parameters:
        sq = (p * p).sum()
        total = sq if total is None else total + sq
    if total is None:  # no parameters: the penalty is zero
        return torch.zeros(())
    return 0.5 * weight_decay * total


class EarlyStopping:
    """Track a validation metric and say when to stop.

    An epoch improves on the best value if, in mode "min", metric < best - min_delta (in mode "max",
    metric > best + min_delta); the first epoch always improves. Otherwise it is a bad epoch.
    step() returns True once more than `patience` consecutive bad epochs have been seen.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if patience < 0 or min_delta < 0:
            raise ValueError("patience and min_delta must be non-negative")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.num_bad_epochs = 0
        self._epoch = -1

    def _improves(self, metric: float) -> bool:
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric: float) -> bool:
        """Record one epoch's metric; True when training should stop."""
        metric = float(metric)
        self._epoch += 1
        if self._epoch == 0 or self._improves(metric):
            self.best = metric
            self.best_epoch = self._epoch
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        return self.num_bad_epochs > self.patience
