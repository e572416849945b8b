"""Alternative solution: per-sample backpropagation with explicit outer products, accumulated
over the batch, and log-sum-exp via torch.logsumexp."""

from __future__ import annotations

import torch


class TwoLayerMLP:
    def __init__(self, W1, b1, W2, b2):
        self.params = {"W1": W1.clone(), "b1": b1.clone(), "W2": W2.clone(), "b2": b2.clone()}
        self.last = None

    def __getattr__(self, name):
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def forward(self, X):
        p = self.params
        return torch.relu(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]

    def loss(self, X, y):
        logits = self.forward(X)
        total = 0.0
        for i in range(X.shape[0]):
            row = logits[i]
            total += float(torch.logsumexp(row, dim=0) - row[int(y[i])])
        self.last = (X.clone(), [int(v) for v in y])
        return total / X.shape[0]

    def backward(self):
        if self.last is None:
            raise RuntimeError("no loss computed yet")
        X, ys = self.last
        p = self.params
        n = X.shape[0]
        grads = {k: torch.zeros_like(v) for k, v in p.items()}
        for i in range(n):
            x = X[i]
            a = x @ p["W1"] + p["b1"]
            h = torch.relu(a)
            z = h @ p["W2"] + p["b2"]
            s = torch.exp(z - torch.logsumexp(z, dim=0))
            s[ys[i]] -= 1.0
            g = s / n
            grads["W2"] += torch.outer(h, g)
            grads["b2"] += g
            gh = p["W2"] @ g
            ga = torch.where(a > 0, gh, torch.zeros_like(gh))
            grads["W1"] += torch.outer(x, ga)
            grads["b1"] += ga
        return grads

    def sgd_step(self, grads, lr):
        for k in self.params:
            self.params[k] = self.params[k] - lr * grads[k]
