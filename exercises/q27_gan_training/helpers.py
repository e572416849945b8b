"""Public helpers for q27_gan_training: the 8-Gaussian ring and mode-coverage metrics.

The target distribution is a mixture of 8 Gaussians (std 0.05) with equal weights, centred on a
circle of radius 2: mode j sits at (2 cos(2 pi j / 8), 2 sin(2 pi j / 8)). Neighbouring modes are
about 1.53 apart. Deterministic given a seed; nothing is downloaded.
"""

import math

import torch

NUM_MODES = 8
RADIUS = 2.0
STD = 0.05
NEAR = 0.4           # a sample "lies near a mode" when its distance to the closest centre is below this


def modes():
    """The 8 centres, a float32 tensor [8, 2]."""
    angles = torch.arange(NUM_MODES, dtype=torch.float64) * (2 * math.pi / NUM_MODES)
    return (RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def sample_ring(n, generator=None):
    """``n`` points [n, 2] (float32) from the ring mixture; ``generator`` is a torch.Generator or an int seed."""
    if generator is None or isinstance(generator, int):
        generator = torch.Generator().manual_seed(0 if generator is None else int(generator))
    idx = torch.randint(0, NUM_MODES, (n,), generator=generator)
    return modes()[idx] + STD * torch.randn(n, 2, generator=generator)


def mode_stats(samples, near=NEAR, min_share=0.02):
    """Quality of ``samples`` [n, 2]: a dict with
    ``near_fraction`` (share of samples within ``near`` of their closest centre),
    ``modes_covered`` (modes holding at least ``min_share`` of all samples among the near ones) and
    ``counts`` (near samples per mode, a list of 8 ints)."""
    samples = torch.as_tensor(samples, dtype=torch.float32).reshape(-1, 2)
    d = torch.cdist(samples, modes())
    dist, idx = d.min(dim=1)
    ok = dist < near
    counts = torch.bincount(idx[ok], minlength=NUM_MODES)
    n = max(len(samples), 1)
    return {"near_fraction": float(ok.float().mean()) if len(samples) else 0.0,
            "modes_covered": int((counts >= min_share * n).sum()),
            "counts": [int(c) for c in counts]}
