"""Reference solution for q07_gan_losses.

Everything is written in terms of logits. With s = sigmoid(x):
    -log(s)     = softplus(-x)
    -log(1 - s) = softplus(x)
softplus is computed stably by torch (it never forms exp(|x|) for large |x|), so the losses and
their gradients stay finite for logits of +-1e4, where log(sigmoid(x)) would give -inf.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       label_smoothing: float = 0.0) -> torch.Tensor:
    # One-sided label smoothing: the real target becomes 1 - label_smoothing, the fake target stays 0.
    target = 1.0 - label_smoothing
    # BCE(x, t) = t * (-log s) + (1 - t) * (-log(1 - s))
    real_term = target * F.softplus(-real_logits) + (1.0 - target) * F.softplus(real_logits)
    fake_term = label_smoothing * F.softplus(-fake_logits) + (1 - label_smoothing) * F.softplus(fake_logits)
    # Each half is averaged over its own batch; the two halves are added (Goodfellow et al.).
    return real_term.mean() + fake_term.mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    # Non-saturating loss: maximise log D(G(z)) instead of minimising log(1 - D(G(z))),
    # which gives strong gradients early on when D easily rejects the fakes.
    return F.softplus(-fake_logits).mean()


def gan_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
             real: torch.Tensor, z: torch.Tensor) -> dict:
    fake = G(z)

    # 1) Discriminator: fakes are detached, so d_loss puts no gradient into G.
    opt_d.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_d.step()

    # 2) Generator: a fresh forward pass through the *updated* D. Only opt_g steps, so D keeps
    #    its weights (its .grad is filled but cleared by opt_d.zero_grad() next time).
    opt_g.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_g.step()

    return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}
