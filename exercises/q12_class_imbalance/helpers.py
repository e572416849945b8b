"""Public helpers for q12_class_imbalance (used by the tests on both sides; you may use them too)."""

import torch


def imbalanced_labels(counts, seed=0):
    """A shuffled LongTensor with ``counts[c]`` samples of class c (deterministic given seed)."""
    labels = torch.cat([torch.full((int(n),), c, dtype=torch.long) for c, n in enumerate(counts)])
    g = torch.Generator().manual_seed(int(seed))
    return labels[torch.randperm(labels.numel(), generator=g)]


def draw(sampler):
    """All the indices one pass over ``sampler`` yields, as a LongTensor."""
    return torch.tensor(list(iter(sampler)), dtype=torch.long)
