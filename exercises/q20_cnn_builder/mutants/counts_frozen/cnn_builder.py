"""Reference solution for q20_cnn_builder: build a small CNN and reason about its architecture.

Layer layout of build_cnn (one flat nn.Sequential, so state_dict keys are "0.weight", "1.weight", ...):

    for each width w:  Conv2d(c_prev, w, k, padding=k // 2, bias=not use_bn)
                       [BatchNorm2d(w)]            if use_bn
                       ReLU()
                       MaxPool2d(2)
    AdaptiveAvgPool2d(1), Flatten(), [Dropout(dropout)] if dropout > 0, Linear(c_last, num_classes)

Closed-form parameter count (trainable):
    conv: k*k*c_in*c_out (+ c_out bias without BN);  BN: 2*c_out (gamma, beta; running stats are
    buffers, not parameters);  Linear: c_last*num_classes + num_classes.
"""

from __future__ import annotations

import torch
from torch import nn


def build_cnn(in_channels: int, num_classes: int, widths: list[int], kernel_size: int = 3,
              use_bn: bool = True, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    c = in_channels
    for w in widths:
        # "same" padding for odd kernels; a conv followed by BN needs no bias (BN's beta replaces it)
        layers.append(nn.Conv2d(c, w, kernel_size, padding=kernel_size // 2, bias=not use_bn))
        if use_bn:
            layers.append(nn.BatchNorm2d(w))
        layers.append(nn.ReLU())
        layers.append(nn.MaxPool2d(2))
        c = w
    layers.append(nn.AdaptiveAvgPool2d(1))   # global average pooling: any input size works
    layers.append(nn.Flatten())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(c, num_classes))
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters; model.parameters() yields shared tensors once."""
    return sum(p.numel() for p in model.parameters() )


def receptive_field(layers: list[tuple[str, int, int]]) -> int:
    """Receptive field (in input pixels, along one dimension) of one output unit of a layer stack.

    Walking from the input: r_0 = 1, jump j_0 = 1; a layer with kernel k and stride s gives
    r <- r + (k - 1) * j, then j <- j * s (j is the distance, in input pixels, between
    neighbouring units of the current layer).
    """
    r, j = 1, 1
    for kind, k, s in layers:
        if kind not in ("conv", "pool"):
            raise ValueError(f"unknown layer kind {kind!r}")
        if k < 1 or s < 1:
            raise ValueError("kernel and stride must be positive")
        r += (k - 1) * j
        j *= s
    return r


def feature_map_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Output shape of each direct child of model, in call order, for a zero input of input_shape.

    Uses forward hooks; runs in eval mode without gradients (nothing in the model changes: no
    running statistics are updated), then restores the previous mode and removes the hooks.
    """
    shapes: list[tuple[int, ...]] = []

    def hook(module, inputs, output):
        shapes.append(tuple(output.shape))

    handles = [child.register_forward_hook(hook) for child in model.children()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return shapes
