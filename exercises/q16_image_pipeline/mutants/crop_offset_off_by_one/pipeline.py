"""Reference solution: the data side of an image-classification pipeline."""

from __future__ import annotations

import torch


def compute_mean_std(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and population std (divide by N*H*W) of images [N, C, H, W]."""
    x = images.double()
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3), unbiased=False)     # population std, like torchvision stats scripts
    return mean.to(images.dtype), std.to(images.dtype)


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(images - mean) / std per channel; images [N, C, H, W] or [C, H, W]."""
    shape = (-1, 1, 1)
    return (images - mean.reshape(shape)) / std.reshape(shape)


def stratified_split(labels: torch.Tensor, fractions=(0.8, 0.1, 0.1), seed: int = 0):
    """Train/val/test indices with every class split in the given proportions."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError("fractions must be three non-negative numbers summing to 1")
    g = torch.Generator().manual_seed(seed)
    parts: list[list[int]] = [[], [], []]
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n = len(idx)
        # Largest remainder: floor every share, then give the leftover samples to the splits with
        # the largest fractional parts, so each count is within 1 of fraction * n.
        exact = [f * n for f in fractions]
        counts = [int(e) for e in exact]
        order = sorted(range(3), key=lambda k: -(exact[k] - counts[k]))
        for k in order[: n - sum(counts)]:
            counts[k] += 1
        start = 0
        for k in range(3):
            parts[k] += idx[start:start + counts[k]].tolist()
            start += counts[k]
    return tuple(torch.tensor(sorted(p), dtype=torch.long) for p in parts)


def random_flip_crop(images: torch.Tensor, crop_size: int, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Per image: zero-pad by `padding`, take a random crop_size x crop_size crop, flip it
    horizontally with probability 1/2. All randomness comes from `generator`."""
    n, c, h, w = images.shape
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    max_top, max_left = h + 2 * padding - crop_size, w + 2 * padding - crop_size
    if max_top < 0 or max_left < 0:
        raise ValueError("crop_size larger than the padded image")
    tops = torch.randint(0, max(max_top, 1), (n,), generator=generator)
    lefts = torch.randint(0, max(max_left, 1), (n,), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5
    out = torch.empty(n, c, crop_size, crop_size, dtype=images.dtype)
    for i in range(n):
        crop = padded[i, :, tops[i]:tops[i] + crop_size, lefts[i]:lefts[i] + crop_size]
        out[i] = crop.flip(-1) if flips[i] else crop       # horizontal flip = reverse the width axis
    return out


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> dict[int, float]:
    """Fraction of samples whose true class is among the top k, for each k.

    Ties count in the sample's favour: correct when fewer than k classes score strictly higher."""
    true_score = logits.gather(1, labels.long().unsqueeze(1))           # [N, 1]
    higher = (logits > true_score).sum(dim=1)                           # classes strictly above
    return {int(k): float((higher < k).double().mean()) for k in ks}
