"""Reference for q27_gan_training: a small GAN on the 8-Gaussian ring, with the seed's loop fixed.

The seed's sample loop has two bugs: it draws the noise once, outside the loop (the generator
only ever sees the same 64 points, so it learns 64 outputs, not a distribution), and it trains the
discriminator on generator(z) without detaching (the discriminator loss back-propagates into
the generator). Here fresh noise is drawn at every step and fakes are detached for the D step.
"""

import torch
from torch import nn

import helpers

Z_DIM = 8


class Generator(nn.Module):
    def __init__(self, z_dim=Z_DIM, hidden=64):
        super().__init__()
        self.latent_dim = z_dim
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2))

    def forward(self, z):
        return self.net(z)


def _discriminator(hidden=64):
    # outputs a logit; BCEWithLogits is the numerically stable form of Sigmoid + BCELoss
    return nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, 1))


def train_gan(steps: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    G, D = Generator(), _discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    batch = 128
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    for _ in range(steps):
        # --- discriminator step: real vs DETACHED fakes, fresh noise every step ---
        real = helpers.sample_ring(batch, g).requires_grad_(True)
        fake = G(torch.randn(batch, G.latent_dim, generator=g)).detach()
        d_real = D(real)
        # R1 penalty (gradient of D on real data): keeps D smooth, which stabilises training
        (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        d_loss = bce(d_real, ones) + bce(D(fake), zeros) + 0.5 * grad.pow(2).sum(1).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # --- generator step: non-saturating loss, new noise ---
        fake = G(torch.randn(batch, G.latent_dim, generator=g))
        g_loss = bce(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    G.eval()
    return G
