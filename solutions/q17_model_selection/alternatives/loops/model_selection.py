"""Alternative: plain Python loops, Johnk's algorithm for the Beta draw, log-sum-exp by hand."""

import math

import torch


def k_fold_indices(n, k, shuffle=True, seed=0):
    if not 2 <= k <= n:
        raise ValueError("bad k")
    g = torch.Generator()
    g.manual_seed(seed + 12345)
    idx = torch.randperm(n, generator=g).tolist() if shuffle else list(range(n))
    q, r = divmod(n, k)
    out, pos = [], 0
    for f in range(k):
        m = q + (f < r)
        val = idx[pos:pos + m]
        pos += m
        vs = set(val)
        train = [i for i in range(n) if i not in vs]
        out.append((torch.tensor(train, dtype=torch.long), torch.tensor(sorted(val), dtype=torch.long)))
    return out


def best_epoch(val_losses, min_delta=0.0):
    losses = [float(v) for v in val_losses]
    if not losses:
        raise ValueError("empty")
    best = 0
    for i in range(1, len(losses)):
        if losses[best] - losses[i] > min_delta:
            best = i
    return best


def mixup(x, y_onehot, alpha, generator):
    while True:  # Johnk: X = U^(1/a), Y = V^(1/a), accept when X + Y <= 1
        u, v = torch.rand(2, generator=generator, dtype=torch.float64).tolist()
        a, b = u ** (1 / alpha), v ** (1 / alpha)
        if 0 < a + b <= 1:
            lam = a / (a + b)
            break
    perm = torch.randperm(len(x), generator=generator)
    return x * lam + x[perm] * (1 - lam), y_onehot * lam + y_onehot[perm] * (1 - lam), float(lam)


def cutout(images, size, generator):
    n, c, h, w = images.shape
    if not 1 <= size <= min(h, w):
        raise ValueError("bad size")
    mask = torch.ones(n, 1, h, w, dtype=images.dtype)
    for i in range(n):
        y = int(torch.randint(h - size + 1, (1,), generator=generator))
        x = int(torch.randint(w - size + 1, (1,), generator=generator))
        mask[i, 0, y:y + size, x:x + size] = 0
    return images * mask


def ensemble_probs(logits_list):
    if not logits_list:
        raise ValueError("empty")
    total = None
    for l in logits_list:
        m = l.max(dim=-1, keepdim=True).values
        p = torch.exp(l - m)
        p = p / p.sum(dim=-1, keepdim=True)
        total = p if total is None else total + p
    return total / len(logits_list)
