"""q02_backprop: a two-layer MLP with forward and backward passes written by hand.

Do not use autograd (no ``.backward()``, ``torch.autograd``, ``requires_grad``): derive the gradients
with the chain rule.
"""

from __future__ import annotations

import torch


class TwoLayerMLP:
    """Linear -> ReLU -> Linear classifier.

    logits = relu(X @ W1 + b1) @ W2 + b2, with X [N, D], W1 [D, H], b1 [H], W2 [H, C], b2 [C].
    The model keeps its own copies of the parameters (attributes ``W1``, ``b1``, ``W2``, ``b2``)
    and works in their dtype.
    """

    def __init__(self, W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor) -> None:
        raise NotImplementedError

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The logits, a tensor of shape [N, C]."""
        raise NotImplementedError

    def loss(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """Mean softmax cross-entropy of the logits of X against integer labels y [N], as a Python float.

        Must stay finite for large logits (around 1e3). Remembers what backward() needs.
        """
        raise NotImplementedError

    def backward(self) -> dict[str, torch.Tensor]:
        """Gradients of the last loss() value: {"W1": ..., "b1": ..., "W2": ..., "b2": ...}.

        Each gradient has the shape and dtype of its parameter. Raises RuntimeError if loss() was
        never called.
        """
        raise NotImplementedError

    def sgd_step(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """Update every parameter in place of the model: p <- p - lr * grads[name]. Returns None."""
        raise NotImplementedError
