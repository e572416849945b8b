"""Alternative solution: Bernoulli mask via torch.bernoulli, penalty via torch.stack of norms,
and early stopping written with a history list."""

import torch


def dropout(x, p, training, generator=None):
    if p < 0 or p >= 1:
        raise ValueError("p must satisfy 0 <= p < 1")
    out = x.clone()
    if training and p > 0:
        keep_prob = 1.0 - p
        mask = torch.bernoulli(torch.full(x.shape, keep_prob, dtype=torch.float64), generator=generator)
        out = out * mask.to(x.dtype) * (1.0 / keep_prob)
    return out


def l2_penalty(parameters, weight_decay):
    params = list(parameters)
    if not params:
        return torch.tensor(0.0)
    squares = torch.stack([torch.linalg.vector_norm(p.reshape(-1)) ** 2 for p in params])
    return squares.sum() * (weight_decay / 2)


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        if mode not in {"min", "max"} or patience < 0 or min_delta < 0:
            raise ValueError("bad EarlyStopping arguments")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.history = []
        self.best = float("inf") if mode == "min" else float("-inf")
        self.best_epoch = -1
        self.num_bad_epochs = 0

    def step(self, metric):
        value = float(metric)
        sign = 1.0 if self.mode == "min" else -1.0
        self.history.append(value)
        # compare in "lower is better" space
        if len(self.history) == 1 or sign * value < sign * self.best - self.min_delta:
            self.best, self.best_epoch, self.num_bad_epochs = value, len(self.history) - 1, 0
        else:
            self.num_bad_epochs += 1
        return not self.num_bad_epochs <= self.patience
