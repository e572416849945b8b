"""The data side of an image-classification pipeline. See README.md for the conventions."""

from __future__ import annotations

import torch


def compute_mean_std(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean [C] and population std [C] (divide by N*H*W) of images [N, C, H, W]."""
    raise NotImplementedError


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(images - mean) / std per channel, for images [N, C, H, W] or [C, H, W]."""
    raise NotImplementedError


def stratified_split(labels: torch.Tensor, fractions=(0.8, 0.1, 0.1), seed: int = 0):
    """(train, val, test) LongTensors of indices: disjoint, covering every index, each class
    split in the given proportions (within one sample), shuffled by `seed`."""
    raise NotImplementedError


def random_flip_crop(images: torch.Tensor, crop_size: int, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Per image: zero-pad by `padding`, random crop_size x crop_size crop (every position equally
    likely), horizontal flip with probability 1/2; randomness only from `generator`."""
    raise NotImplementedError


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> dict[int, float]:
    """{k: fraction of samples whose true class is in the top k}; ties count in the sample's favour."""
    raise NotImplementedError
