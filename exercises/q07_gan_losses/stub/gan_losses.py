"""GAN losses and one adversarial training step. Fill in the three functions."""

from __future__ import annotations

import torch
from torch import nn


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       label_smoothing: float = 0.0) -> torch.Tensor:
    """Binary cross-entropy of the discriminator, from logits (before the sigmoid).

    mean over real samples of BCE(real_logits, 1 - label_smoothing)
    + mean over fake samples of BCE(fake_logits, 0).
    Returns a 0-dim float tensor that can be back-propagated; must stay finite for logits of +-1e4.
    """
    raise NotImplementedError


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: mean of -log(sigmoid(fake_logits)), a 0-dim tensor."""
    raise NotImplementedError


def gan_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
             real: torch.Tensor, z: torch.Tensor) -> dict:
    """One discriminator update (on detached fakes G(z)), then one generator update.

    Returns {"d_loss": float, "g_loss": float}: the losses that were back-propagated
    (g_loss is computed with the discriminator after its update).
    """
    raise NotImplementedError
