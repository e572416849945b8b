"""Alternative for q27: hinge-loss GAN with an R1 penalty, Tanh-free generator, explicit classes."""

import torch
from torch import nn
import torch.nn.functional as F

import helpers


class RingGenerator(nn.Module):
    z_dim = 4

    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(4, 64), nn.Linear(64, 64), nn.Linear(64, 2)

    def forward(self, z):
        return self.l3(F.relu(self.l2(F.relu(self.l1(z)))))


def train_gan(steps, seed):
    torch.manual_seed(seed)
    gen = RingGenerator()
    disc = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    og = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.9))
    od = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for _ in range(steps):
        x = helpers.sample_ring(128, torch.default_generator)
        x.requires_grad_(True)
        with torch.no_grad():
            fake = gen(torch.randn(128, gen.z_dim))
        out_real = disc(x)
        grad = torch.autograd.grad(out_real.sum(), x, create_graph=True)[0]
        loss_d = F.relu(1 - out_real).mean() + F.relu(1 + disc(fake)).mean() + 0.5 * (grad ** 2).sum(1).mean()
        od.zero_grad()
        loss_d.backward()
        od.step()
        loss_g = -disc(gen(torch.randn(128, gen.z_dim))).mean()
        og.zero_grad()
        loss_g.backward()
        og.step()
    return gen
