"""q27: train a GAN on the 8-Gaussian ring of helpers.py (see README.md)."""

from torch import nn


def train_gan(steps: int, seed: int) -> nn.Module:
    """Train a generator and a discriminator for ``steps`` steps (one discriminator update and one
    generator update each), with fresh noise at every step and detached fakes in the
    discriminator update; seed all randomness from ``seed``.

    Returns the generator: an ``nn.Module`` with an int attribute ``z_dim`` that maps noise
    ``torch.randn(n, z_dim)`` to points ``[n, 2]`` (float32).
    """
    raise NotImplementedError
