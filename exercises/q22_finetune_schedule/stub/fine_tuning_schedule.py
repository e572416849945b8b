"""q22: fine-tuning schedules for transfer learning. Fill in the bodies."""
from __future__ import annotations

import torch
from torch import nn


def layerwise_lr_groups(model: nn.Module, layer_names: list[str], base_lr: float, decay: float) -> list[dict]:
    """One parameter group per name in ``layer_names`` (ordered input -> output), for torch.optim.

    Each group is a dict with "params" (list of the parameters of ``model.get_submodule(name)``, in
    ``.parameters()`` order) and "lr": the last named layer gets ``base_lr``, each earlier one
    ``decay`` times the rate of the next (layer i of n: base_lr * decay ** (n - 1 - i))."""
    raise NotImplementedError


def gradual_unfreeze(model: nn.Module, layer_names: list[str], epoch: int) -> None:
    """Set requires_grad in place for ``epoch``: every parameter outside the named layers (the head)
    and the parameters of the last ``epoch`` named layers are trainable, all others frozen."""
    raise NotImplementedError


def extract_features(backbone: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Backbone features of ``images`` computed in batches of ``batch_size``, in eval mode and without
    autograd; the backbone's previous train/eval mode is restored."""
    raise NotImplementedError


def train_linear_probe(features: torch.Tensor, labels: torch.Tensor, num_classes: int, epochs: int, lr: float,
                       seed: int) -> nn.Linear:
    """Train nn.Linear(features.shape[1], num_classes) with cross-entropy on the (frozen) features."""
    raise NotImplementedError
