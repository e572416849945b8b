"""Correct numbers, but the gradients come from autograd instead of the chain rule."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class TwoLayerMLP:
    def __init__(self, W1, b1, W2, b2):
        self.W1, self.b1, self.W2, self.b2 = (p.detach().clone() for p in (W1, b1, W2, b2))
        self._last = None

    def forward(self, X):
        return torch.relu(X @ self.W1 + self.b1) @ self.W2 + self.b2

    def loss(self, X, y):
        self._last = (X, y)
        return float(F.cross_entropy(self.forward(X), y.long()))

    def backward(self):
        if self._last is None:
            raise RuntimeError("call loss first")
        X, y = self._last
        leaves = [p.clone().requires_grad_(True) for p in (self.W1, self.b1, self.W2, self.b2)]
        logits = torch.relu(X @ leaves[0] + leaves[1]) @ leaves[2] + leaves[3]
        grads = torch.autograd.grad(F.cross_entropy(logits, y.long()), leaves)
        return dict(zip(("W1", "b1", "W2", "b2"), grads))

    def sgd_step(self, grads, lr):
        self.W1 = self.W1 - lr * grads["W1"]
        self.b1 = self.b1 - lr * grads["b1"]
        self.W2 = self.W2 - lr * grads["W2"]
        self.b2 = self.b2 - lr * grads["b2"]
