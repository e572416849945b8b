"""Alternative: explicit formulas and loops."""

import math
import random

import torch


def compute_mean_std(images):
    n, c, h, w = images.shape
    flat = images.double().permute(1, 0, 2, 3).reshape(c, -1)
    mean = flat.sum(1) / flat.shape[1]
    var = ((flat - mean[:, None]) ** 2).sum(1) / flat.shape[1]
    return mean.to(images.dtype), var.sqrt().to(images.dtype)


def normalize(images, mean, std):
    out = images.clone()
    for ch in range(mean.numel()):
        out[..., ch, :, :] = (images[..., ch, :, :] - mean[ch]) / std[ch]
    return out


def stratified_split(labels, fractions=(0.8, 0.1, 0.1), seed=0):
    if len(fractions) != 3 or min(fractions) < 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError("bad fractions")
    rnd = random.Random(seed)
    by_class = {}
    for i, y in enumerate(labels.tolist()):
        by_class.setdefault(y, []).append(i)
    out = [[], [], []]
    for y in sorted(by_class):
        idx = by_class[y][:]
        rnd.shuffle(idx)
        n = len(idx)
        n_train = round(fractions[0] * n)
        n_val = round((fractions[0] + fractions[1]) * n) - n_train
        # cumulative rounding keeps each count within 1 of its share
        out[0] += idx[:n_train]
        out[1] += idx[n_train:n_train + n_val]
        out[2] += idx[n_train + n_val:]
    return tuple(torch.tensor(sorted(o), dtype=torch.long) for o in out)


def random_flip_crop(images, crop_size, padding, generator):
    n, c, h, w = images.shape
    big = torch.zeros(n, c, h + 2 * padding, w + 2 * padding, dtype=images.dtype)
    big[:, :, padding:padding + h, padding:padding + w] = images
    res = []
    for i in range(n):
        top = int(torch.randint(0, h + 2 * padding - crop_size + 1, (1,), generator=generator))
        left = int(torch.randint(0, w + 2 * padding - crop_size + 1, (1,), generator=generator))
        img = big[i, :, top:top + crop_size, left:left + crop_size]
        if float(torch.rand(1, generator=generator)) < 0.5:
            img = img[:, :, torch.arange(crop_size - 1, -1, -1)]
        res.append(img)
    return torch.stack(res) if res else torch.empty(0, c, crop_size, crop_size, dtype=images.dtype)


def topk_accuracy(logits, labels, ks=(1, 5)):
    res = {}
    L = logits.tolist()
    Y = labels.tolist()
    for k in ks:
        ok = 0
        for row, y in zip(L, Y):
            if sum(1 for v in row if v > row[y]) < k:
                ok += 1
        res[int(k)] = ok / len(Y)
    return res
