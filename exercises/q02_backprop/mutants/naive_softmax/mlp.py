"""Reference solution for q02_backprop: a two-layer MLP with hand-written backpropagation.

Shapes (N samples, D inputs, H hidden units, C classes):

    X  [N, D]      W1 [D, H]   b1 [H]      W2 [H, C]   b2 [C]
    z1 = X @ W1 + b1           [N, H]   pre-activation
    h  = relu(z1)              [N, H]
    logits = h @ W2 + b2       [N, C]
    loss = mean_i( logsumexp(logits_i) - logits_i[y_i] )

Backward pass (chain rule, from the loss down):

    dlogits = (softmax(logits) - onehot(y)) / N
    dW2 = h.T @ dlogits        db2 = dlogits.sum(0)
    dh  = dlogits @ W2.T
    dz1 = dh * (z1 > 0)        (ReLU passes the gradient only where it was active)
    dW1 = X.T @ dz1            db1 = dz1.sum(0)
"""

from __future__ import annotations

import torch


def _log_softmax(logits: torch.Tensor) -> torch.Tensor:
    # Subtract the row maximum before exponentiating: exp never overflows, even for logits ~1e3.
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    return probs.log()


class TwoLayerMLP:
    """Linear -> ReLU -> Linear, trained with softmax cross-entropy and plain SGD."""

    def __init__(self, W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor) -> None:
        # Own copies: the model updates its parameters in sgd_step and must not touch the caller's tensors.
        self.W1 = W1.detach().clone()
        self.b1 = b1.detach().clone()
        self.W2 = W2.detach().clone()
        self.b2 = b2.detach().clone()
        self._cache: dict | None = None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits [N, C]."""
        z1 = X @ self.W1 + self.b1
        h = torch.clamp(z1, min=0)
        return h @ self.W2 + self.b2

    def loss(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """Mean softmax cross-entropy; remembers what backward() needs."""
        z1 = X @ self.W1 + self.b1
        h = torch.clamp(z1, min=0)
        logits = h @ self.W2 + self.b2
        log_probs = _log_softmax(logits)
        y = y.long()
        n = X.shape[0]
        loss = -log_probs[torch.arange(n), y].mean()
        self._cache = {"X": X, "y": y, "z1": z1, "h": h, "probs": log_probs.exp()}
        return float(loss)

    def backward(self) -> dict[str, torch.Tensor]:
        """Gradients of the last loss() call with respect to W1, b1, W2, b2."""
        if self._cache is None:
            raise RuntimeError("call loss(X, y) before backward()")
        c = self._cache
        X, y, z1, h, probs = c["X"], c["y"], c["z1"], c["h"], c["probs"]
        n = X.shape[0]
        # d(mean CE)/d(logits) = (softmax - onehot) / N
        dlogits = probs.clone()
        dlogits[torch.arange(n), y] -= 1
        dlogits /= n
        dW2 = h.T @ dlogits
        db2 = dlogits.sum(dim=0)
        dh = dlogits @ self.W2.T
        dz1 = dh * (z1 > 0).to(dh.dtype)
        dW1 = X.T @ dz1
        db1 = dz1.sum(dim=0)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    def sgd_step(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """Plain gradient descent: p <- p - lr * grad, for each parameter."""
        for name in ("W1", "b1", "W2", "b2"):
            setattr(self, name, getattr(self, name) - lr * grads[name])
