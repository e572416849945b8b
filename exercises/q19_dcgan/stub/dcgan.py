"""A DCGAN for 16 x 16 single-channel images. Fill in the two modules and weights_init."""

from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    """Noise (N, z_dim) -> images (N, 1, 16, 16) in [-1, 1].

    Fully convolutional: upsample with nn.ConvTranspose2d (at least two), BatchNorm2d + ReLU in
    between, nn.Tanh at the output. Also accept noise shaped (N, z_dim, 1, 1).
    """

    def __init__(self, z_dim: int = 32, base_channels: int = 32) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class Discriminator(nn.Module):
    """Images (N, 1, 16, 16) -> logits of shape (N,) (no sigmoid).

    Strided nn.Conv2d layers (at least two), nn.LeakyReLU(0.2), BatchNorm2d on hidden layers.
    """

    def __init__(self, base_channels: int = 32) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def weights_init(module: nn.Module) -> None:
    """DCGAN initialisation of ONE module, for use as model.apply(weights_init).

    Conv*/ConvTranspose* weights ~ N(0, 0.02) and biases = 0; BatchNorm* weights ~ N(1, 0.02)
    and biases = 0; any other module is left unchanged.
    """
    raise NotImplementedError
