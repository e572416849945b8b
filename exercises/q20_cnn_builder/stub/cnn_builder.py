"""q20_cnn_builder: build a small image-classification CNN and reason about its architecture."""

from __future__ import annotations

import torch
from torch import nn


def build_cnn(in_channels: int, num_classes: int, widths: list[int], kernel_size: int = 3,
              use_bn: bool = True, dropout: float = 0.0) -> nn.Sequential:
    """A flat nn.Sequential: for each width w, Conv2d(c_prev, w, kernel_size, padding=kernel_size // 2,
    bias=not use_bn), BatchNorm2d(w) if use_bn, ReLU(), MaxPool2d(2); then AdaptiveAvgPool2d(1),
    Flatten(), Dropout(dropout) if dropout > 0, Linear(c_last, num_classes).
    """
    raise NotImplementedError


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters of model (shared tensors once; buffers never);
    with trainable_only, only those with requires_grad."""
    raise NotImplementedError


def receptive_field(layers: list[tuple[str, int, int]]) -> int:
    """Receptive field, in input pixels along one dimension, of one unit after the stack of
    (kind, kernel, stride) layers, kind "conv" or "pool". ValueError for another kind or a
    kernel or stride below 1."""
    raise NotImplementedError


def feature_map_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Output shape of each direct child of model, in call order, for one forward pass of
    torch.zeros(input_shape), recorded with forward hooks. Runs in eval mode without gradients,
    restores the model's mode, leaves no hook behind and changes nothing in the model."""
    raise NotImplementedError
