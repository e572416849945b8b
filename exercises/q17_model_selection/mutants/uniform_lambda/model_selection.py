"""Reference solution for q17_model_selection: tools against over-fitting.

k-fold cross-validation, early stopping (best epoch), mixup, cutout and ensembling.
All randomness comes from the generator / seed passed in, so results are reproducible.
"""

from __future__ import annotations

import numpy as np
import torch


def k_fold_indices(n: int, k: int, shuffle: bool = True, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if k < 2 or k > n:
        raise ValueError(f"need 2 <= k <= n, got k={k}, n={n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)) if shuffle else torch.arange(n)
    # The first n % k folds get one extra sample, so sizes differ by at most one (like scikit-learn).
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    folds = []
    start = 0
    for size in sizes:
        val = order[start:start + size].clone()
        in_val = torch.zeros(n, dtype=torch.bool)
        in_val[val] = True
        train = torch.arange(n)[~in_val]  # everything else, ascending
        folds.append((train, val))
        start += size
    return folds


def best_epoch(val_losses, min_delta: float = 0.0) -> int:
    if len(val_losses) == 0:
        raise ValueError("no validation losses")
    best_i, best = 0, float(val_losses[0])
    for i, loss in enumerate(val_losses):
        # An epoch counts as an improvement only if it beats the best so far by more than min_delta;
        # ties keep the earlier epoch.
        if float(loss) < best - min_delta:
            best_i, best = i, float(loss)
    return best_i


def _beta(alpha: float, generator: torch.Generator) -> float:
    # torch's Beta sampler takes no generator: seed numpy's from the torch generator instead.
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return float(np.random.default_rng(seed).beta(alpha, alpha))


def mixup(x: torch.Tensor, y_onehot: torch.Tensor, alpha: float, generator: torch.Generator):
    lam = float(torch.rand((), generator=generator))
    perm = torch.randperm(x.shape[0], generator=generator)
    # The same permutation mixes inputs and labels: example i is blended with example perm[i].
    x_mix = lam * x + (1.0 - lam) * x[perm]
    y_mix = lam * y_onehot + (1.0 - lam) * y_onehot[perm]
    return x_mix, y_mix, lam


def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    n, _, h, w = images.shape
    if size < 1 or size > min(h, w):
        raise ValueError(f"size must be in [1, min(H, W)], got {size}")
    out = images.clone()  # never modify the caller's tensor
    # Top-left corners uniform over all positions where the square fits: 0 .. H - size inclusive.
    ys = torch.randint(0, h - size + 1, (n,), generator=generator)
    xs = torch.randint(0, w - size + 1, (n,), generator=generator)
    for i in range(n):
        y, x = int(ys[i]), int(xs[i])
        out[i, :, y:y + size, x:x + size] = 0
    return out


def ensemble_probs(logits_list: list[torch.Tensor]) -> torch.Tensor:
    if len(logits_list) == 0:
        raise ValueError("empty ensemble")
    # Average the members' probabilities (not their logits).
    return torch.stack([torch.softmax(l, dim=-1) for l in logits_list]).mean(dim=0)
