"""Tiny, deterministic GAN models for q07_gan_losses (public: the judge and your code may use them)."""

from __future__ import annotations

import torch
from torch import nn


def _init(module: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module


def make_generator(z_dim: int = 4, data_dim: int = 2, hidden: int = 16, seed: int = 0) -> nn.Module:
    """An MLP generator z -> x (no dropout, no batch norm: deterministic)."""
    return _init(nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, data_dim)), seed)


def make_discriminator(data_dim: int = 2, hidden: int = 16, seed: int = 1) -> nn.Module:
    """An MLP discriminator x -> logits of shape (N, 1) (no sigmoid, no dropout)."""
    return _init(nn.Sequential(nn.Linear(data_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)), seed)
