"""Alternative: torch's binary_cross_entropy_with_logits, and all gradients cleared up front."""

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    real_t = torch.full_like(real_logits, 1.0 - label_smoothing)
    fake_t = torch.zeros_like(fake_logits)
    return (F.binary_cross_entropy_with_logits(real_logits, real_t)
            + F.binary_cross_entropy_with_logits(fake_logits, fake_t))


def generator_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def gan_step(G, D, opt_g, opt_d, real, z):
    for p in D.parameters():
        p.grad = None
    with torch.no_grad():
        fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake))
    d_loss.backward()
    opt_d.step()
    for p in list(G.parameters()) + list(D.parameters()):
        p.grad = None
    g_loss = generator_loss(D(G(z)))
    g_loss.backward()
    opt_g.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
