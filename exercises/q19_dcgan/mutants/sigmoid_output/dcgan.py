"""Reference solution for q19_dcgan: a small DCGAN for 16 x 16 single-channel images.

DCGAN guidelines (Radford et al., 2015): no pooling or fully connected hidden layers, transposed
convolutions to upsample in G and strided convolutions to downsample in D, batch norm in both
(but not on G's output or D's input), ReLU in G with tanh at the output, LeakyReLU(0.2) in D.
"""

from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, z_dim: int = 32, base_channels: int = 32) -> None:
        super().__init__()
        self.z_dim = z_dim
        c = base_channels
        self.net = nn.Sequential(
            # (N, z_dim, 1, 1) -> (N, 4c, 4, 4): kernel 4, stride 1, no padding
            nn.ConvTranspose2d(z_dim, 4 * c, 4, 1, 0, bias=False),
            nn.BatchNorm2d(4 * c),
            nn.ReLU(True),
            # -> (N, 2c, 8, 8): out = (in - 1) * 2 - 2 * 1 + 4 = 2 * in
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * c),
            nn.ReLU(True),
            # -> (N, 1, 16, 16), squashed into [-1, 1] like the normalised training images
            nn.ConvTranspose2d(2 * c, 1, 4, 2, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # accept (N, z_dim) as well as (N, z_dim, 1, 1)
        return self.net(z.reshape(z.shape[0], self.z_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, base_channels: int = 32) -> None:
        super().__init__()
        c = base_channels
        self.net = nn.Sequential(
            # (N, 1, 16, 16) -> (N, c, 8, 8); no batch norm on the input layer
            nn.Conv2d(1, c, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (N, 2c, 4, 4)
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * c),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (N, 1, 1, 1): one logit per image, no sigmoid (use BCE-with-logits)
            nn.Conv2d(2 * c, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).reshape(x.shape[0])


def weights_init(module: nn.Module) -> None:
    """DCGAN initialisation, meant for model.apply(weights_init)."""
    name = type(module).__name__
    if "Conv" in name:  # Conv1d/2d/3d and ConvTranspose*
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif "BatchNorm" in name and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
