"""Reference solution for q11_cnn_training: a small CNN for the 16x16 shapes of helpers.py.

Architecture: two conv blocks (conv 3x3, BatchNorm, ReLU, max-pool 2x2) extract local features
(edges, corners, line crossings), then a small fully connected classifier. About 21k parameters.
"""

from __future__ import annotations

import torch
from torch import nn


def build_model(num_classes: int = 4) -> nn.Module:
    """A CNN mapping [N, 1, 16, 16] images to [N, num_classes] logits (under 100k parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 8 x 8
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 4 x 4
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(32 * 4 * 4, 256), nn.ReLU(),
        nn.Linear(256, num_classes),
    )


def train(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, epochs: int = 10,
          seed: int = 0) -> nn.Module:
    """Mini-batch training with Adam and cross-entropy; returns the trained model (in eval mode)."""
    torch.manual_seed(seed)                     # shuffling and dropout are reproducible
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = images.shape[0]
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n, 64):
            idx = perm[start:start + 64]
            opt.zero_grad()
            loss = loss_fn(model(images[idx]), labels[idx])
            loss.backward()
            opt.step()
    model.eval()
    return model


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor) -> torch.LongTensor:
    """Class predictions [N] (int64): eval mode (dropout off, BatchNorm running stats), no gradients."""
    model.eval()
    return model(images).argmax(dim=1)
