"""Alternative solution: Python counting, logsumexp by hand, numpy-free loops for resampling."""

import random

import torch
from torch.utils.data import WeightedRandomSampler


def class_weights(labels, num_classes, scheme="inverse", beta=0.999):
    counts = [0] * num_classes
    for y in labels.tolist():
        if 0 <= y < num_classes:
            counts[y] += 1
    counts = [max(n, 1) for n in counts]
    if scheme == "inverse":
        raw = [1.0 / n for n in counts]
    elif scheme == "effective":
        raw = [(1.0 - beta) / (1.0 - beta ** n) for n in counts]
    else:
        raise ValueError("scheme must be 'inverse' or 'effective'")
    total = sum(raw)
    return torch.tensor([r * num_classes / total for r in raw], dtype=torch.float32)


def focal_loss(logits, targets, gamma=2.0, alpha=None, reduction="mean"):
    m = logits.max(dim=1, keepdim=True).values
    shifted = logits - m
    lse = shifted.exp().sum(dim=1).log()
    log_pt = shifted[torch.arange(logits.shape[0]), targets] - lse
    loss = -torch.pow(1 - torch.exp(log_pt), gamma) * log_pt
    if isinstance(alpha, torch.Tensor):
        loss = alpha.to(logits.dtype).index_select(0, targets) * loss
    elif alpha is not None:
        loss = alpha * loss
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / loss.shape[0]
    raise ValueError("bad reduction")


def _groups(labels):
    groups = {}
    for i, y in enumerate(labels.tolist()):
        groups.setdefault(y, []).append(i)
    return groups


def oversample_indices(labels, seed):
    r = random.Random(seed)
    groups = _groups(labels)
    biggest = max((len(v) for v in groups.values()), default=0)
    out = list(range(len(labels)))
    for members in groups.values():
        out += [r.choice(members) for _ in range(biggest - len(members))]
    r.shuffle(out)
    return torch.tensor(out, dtype=torch.long)


def undersample_indices(labels, seed):
    r = random.Random(seed)
    groups = _groups(labels)
    smallest = min((len(v) for v in groups.values()), default=0)
    out = []
    for members in groups.values():
        out += r.sample(members, smallest)
    return torch.tensor(sorted(out), dtype=torch.long)


def balanced_sampler(labels, num_samples, seed):
    groups = _groups(labels)
    w = [1.0 / len(groups[y]) for y in labels.tolist()]
    return WeightedRandomSampler(w, num_samples, replacement=True, generator=torch.Generator().manual_seed(seed))
