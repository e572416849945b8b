"""Alternative solution: logsumexp-based cross-entropy, one-hot targets, a max-based hinge."""

import torch


def _apply(loss, reduction, count=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / (loss.numel() if count is None else count)
    raise ValueError(reduction)


def mse(pred, target, reduction="mean"):
    d = pred - target
    return _apply(d * d, reduction)


def mae(pred, target, reduction="mean"):
    return _apply(torch.abs(pred - target), reduction)


def huber(pred, target, delta=1.0, reduction="mean"):
    a = torch.abs(pred - target)
    quad = torch.clamp(a, max=delta)        # the part of |d| inside the quadratic zone
    lin = a - quad                          # the rest, penalised linearly
    return _apply(0.5 * quad * quad + delta * lin, reduction)


def cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    n, c = logits.shape
    valid = target != ignore_index
    idx = target.clone()
    idx[~valid] = 0
    onehot = torch.zeros_like(logits).scatter_(1, idx[:, None], 1.0)
    q = onehot * (1 - label_smoothing) + label_smoothing / c
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    loss = -(q * logp).sum(dim=1) * valid.to(logits.dtype)
    return _apply(loss, reduction, count=valid.sum())


def binary_cross_entropy_with_logits(logits, target, pos_weight=None, reduction="mean"):
    # log(1 + exp(-|x|)) + max(x, 0) - x*y, generalised with the positive weight:
    # loss = (1 - y) x + (1 + (w - 1) y) * log(1 + exp(-x)),  log(1 + exp(-x)) = log1p(exp(-|x|)) + max(-x, 0)
    log1pexp_neg = torch.log1p(torch.exp(-torch.abs(logits))) + torch.relu(-logits)
    if pos_weight is None:
        coeff = torch.ones_like(target)
    else:
        coeff = 1 + (pos_weight - 1) * target
    loss = (1 - target) * logits + coeff * log1pexp_neg
    return _apply(loss, reduction)


def multiclass_hinge(logits, target, margin=1.0, reduction="mean"):
    n, c = logits.shape
    rows = []
    for i in range(n):
        y = int(target[i])
        terms = torch.relu(margin - logits[i, y] + logits[i])
        rows.append((terms.sum() - terms[y]) / c)
    return _apply(torch.stack(rows), reduction)


def kl_divergence(log_p, log_q, reduction="mean"):
    p = torch.exp(log_p)
    return _apply(p * log_p - p * log_q, reduction)
