"""Public helpers for q22: a tiny image backbone, a classifier around it, and probe data."""
from __future__ import annotations

import torch
from torch import nn


class Backbone(nn.Module):
    """[N, 1, 8, 8] images -> [N, 16] features. Has BatchNorm and Dropout, so train and eval modes differ.

    block1: conv 1->4, BN, ReLU, 2x2 max-pool; block2: conv 4->8, BN, ReLU, global average pool;
    dropout(0.5); fc: Linear(8, 16). Weights and BN running statistics are drawn from ``seed``.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(int(seed))
        self.block1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                    nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 16)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            for bn in (self.block1[1], self.block2[1]):
                bn.running_mean.copy_(torch.randn(bn.num_features, generator=g) * 0.3)
                bn.running_var.copy_(torch.rand(bn.num_features, generator=g) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.block2(self.block1(x))))


class SmallNet(nn.Module):
    """A Backbone (attribute ``backbone``) followed by a classification ``head``: Linear(16, num_classes)."""

    def __init__(self, seed: int = 0, num_classes: int = 3) -> None:
        super().__init__()
        self.backbone = Backbone(seed)
        self.head = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def trainable_flags(model: nn.Module) -> dict[str, bool]:
    """{parameter name: requires_grad} for every parameter of ``model``."""
    return {name: bool(p.requires_grad) for name, p in model.named_parameters()}


def bn_running_stats(model: nn.Module) -> list[torch.Tensor]:
    """Copies of the running means and variances of every BatchNorm layer, in module order."""
    out = []
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            out += [m.running_mean.clone(), m.running_var.clone()]
    return out


def make_images(n: int, seed: int) -> torch.Tensor:
    """``n`` random images [n, 1, 8, 8]."""
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(int(seed)))


def make_probe_data(n: int, num_classes: int, dim: int, seed: int, centres_seed: int = 0):
    """Gaussian clusters: (features float32 [n, dim], labels int64 [n]).

    Class centres depend only on ``centres_seed`` (so train and held-out sets share them), samples on ``seed``.
    """
    centres = torch.randn(num_classes, dim, generator=torch.Generator().manual_seed(int(centres_seed))) * 2.0
    g = torch.Generator().manual_seed(int(seed))
    labels = torch.randint(0, num_classes, (n,), generator=g)
    features = centres[labels] + torch.randn(n, dim, generator=g)
    return features, labels
