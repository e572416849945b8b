"""Reference solution for q22: fine-tuning schedules for transfer learning."""
from __future__ import annotations

import torch
from torch import nn


def layerwise_lr_groups(model: nn.Module, layer_names: list[str], base_lr: float, decay: float) -> list[dict]:
    """One optimiser parameter group per named layer (input -> output order).

    The last named layer gets base_lr and each earlier layer decay times the rate of the next one,
    so layer i of n gets base_lr * decay ** (n - 1 - i): layers near the input, which hold the most
    generic features, move the least.
    """
    n = len(layer_names)
    groups = []
    for i, name in enumerate(layer_names):
        layer = model.get_submodule(name)
        groups.append({"params": list(layer.parameters()), "lr": base_lr * decay ** (n - 1 - i), "name": name})
    return groups


def gradual_unfreeze(model: nn.Module, layer_names: list[str], epoch: int) -> None:
    """Epoch e: the head (every parameter outside the named layers) and the last e named layers train."""
    # start from "everything trainable", then freeze the named layers that are not yet released
    for p in model.parameters():
        p.requires_grad_(True)
    n_frozen = max(len(layer_names) - epoch - 1, 0)
    for name in layer_names[:n_frozen]:
        for p in model.get_submodule(name).parameters():
            p.requires_grad_(False)


def extract_features(backbone: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Features of ``images`` in eval mode (BatchNorm running stats, no dropout), without autograd.

    The backbone's previous mode is restored afterwards.
    """
    was_training = backbone.training
    backbone.eval()
    chunks = []
    try:
        with torch.no_grad():                       # no graph: features are constants for the probe
            for start in range(0, images.shape[0], batch_size):
                chunks.append(backbone(images[start:start + batch_size]))
    finally:
        backbone.train(was_training)
    return torch.cat(chunks, dim=0)


def train_linear_probe(features: torch.Tensor, labels: torch.Tensor, num_classes: int, epochs: int, lr: float,
                       seed: int) -> nn.Linear:
    """A linear classifier on frozen features: full-batch gradient descent on cross-entropy."""
    torch.manual_seed(seed)
    probe = nn.Linear(features.shape[1], num_classes)
    opt = torch.optim.SGD(probe.parameters(), lr=lr)
    x, y = features.detach(), labels.long()
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(probe(x), y).backward()
        opt.step()
    return probe
