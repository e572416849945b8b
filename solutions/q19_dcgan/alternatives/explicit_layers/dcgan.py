"""Alternative: named layers, a Linear-free generator with an upsampling stack built in a loop,
biases kept in the convolutions, isinstance-based initialisation."""

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    def __init__(self, z_dim=32, base_channels=32):
        super().__init__()
        self.z_dim = z_dim
        c = base_channels
        self.project = nn.ConvTranspose2d(z_dim, 2 * c, kernel_size=2)  # 1x1 -> 2x2
        self.bn0 = nn.BatchNorm2d(2 * c)
        ups = []
        chans = [2 * c, 2 * c, c, c // 2 if c >= 2 else 1]
        for i in range(3):  # 2 -> 4 -> 8 -> 16
            ups += [nn.ConvTranspose2d(chans[i], chans[i + 1], 4, 2, 1), nn.BatchNorm2d(chans[i + 1]), nn.ReLU()]
        self.ups = nn.Sequential(*ups)
        self.to_image = nn.Conv2d(chans[-1], 1, 3, padding=1)
        self.act0, self.squash = nn.ReLU(), nn.Tanh()

    def forward(self, z):
        h = self.act0(self.bn0(self.project(z.view(-1, self.z_dim, 1, 1))))
        return self.squash(self.to_image(self.ups(h)))


class Discriminator(nn.Module):
    def __init__(self, base_channels=32):
        super().__init__()
        c = base_channels
        self.c1 = nn.Conv2d(1, c, 3, 2, 1)          # 8x8
        self.c2 = nn.Conv2d(c, 2 * c, 3, 2, 1)      # 4x4
        self.bn2 = nn.BatchNorm2d(2 * c)
        self.c3 = nn.Conv2d(2 * c, 4 * c, 3, 2, 1)  # 2x2
        self.bn3 = nn.BatchNorm2d(4 * c)
        self.out = nn.Conv2d(4 * c, 1, 2)           # 1x1
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x):
        h = self.act(self.c1(x))
        h = self.act(self.bn2(self.c2(h)))
        h = self.act(self.bn3(self.c3(h)))
        return self.out(h).flatten()


def weights_init(m):
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        with torch.no_grad():
            m.weight.normal_(0.0, 0.02)
            if m.bias is not None:
                m.bias.zero_()
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and m.affine:
        with torch.no_grad():
            m.weight.normal_(1.0, 0.02)
            m.bias.zero_()
