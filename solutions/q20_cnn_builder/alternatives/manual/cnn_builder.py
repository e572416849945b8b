"""Alternative solution: OrderedDict-free building from a layer spec, parameter counting via
named_parameters with explicit de-duplication, receptive field computed backwards from the
output, and shapes recorded with hooks stored in a dict keyed by module id."""

import torch
import torch.nn as nn


def build_cnn(in_channels, num_classes, widths, kernel_size=3, use_bn=True, dropout=0.0):
    spec = []
    prev = in_channels
    for width in widths:
        spec.append(nn.Conv2d(prev, width, kernel_size=(kernel_size, kernel_size),
                              stride=1, padding=(kernel_size // 2, kernel_size // 2), bias=(not use_bn)))
        spec += [nn.BatchNorm2d(width)] if use_bn else []
        spec += [nn.ReLU(inplace=False), nn.MaxPool2d(kernel_size=2, stride=2)]
        prev = width
    spec += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(start_dim=1)]
    spec += [nn.Dropout(p=dropout)] if dropout > 0 else []
    spec.append(nn.Linear(prev, num_classes))
    return nn.Sequential(*spec)


def count_parameters(model, trainable_only=True):
    seen = set()
    total = 0
    for _, p in model.named_parameters(remove_duplicate=False):
        if id(p) in seen:
            continue
        seen.add(id(p))
        if trainable_only and not p.requires_grad:
            continue
        total += p.numel()
    return int(total)


def receptive_field(layers):
    for kind, k, s in layers:
        if kind not in {"conv", "pool"} or k <= 0 or s <= 0:
            raise ValueError("bad layer")
    # backwards: a window of r units at layer l+1 covers s*(r-1)+k units at layer l
    r = 1
    for _, k, s in reversed(layers):
        r = s * (r - 1) + k
    return r


def feature_map_shapes(model, input_shape):
    mode = model.training
    model.train(False)
    records = []
    hooks = []
    for child in model.children():
        hooks.append(child.register_forward_hook(lambda m, i, o: records.append(tuple(int(d) for d in o.shape))))
    try:
        with torch.inference_mode():
            model.forward(torch.zeros(*input_shape))
    finally:
        for h in hooks:
            h.remove()
        model.train(mode)
    return records
