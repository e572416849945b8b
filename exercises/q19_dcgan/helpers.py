"""Public helpers for q19_dcgan: inspect a model (used by the tests; you may use them too)."""

from __future__ import annotations

from torch import nn


def describe_model(model: nn.Module) -> dict:
    """Class names of every submodule (in model.modules() order) and parameter counts."""
    return {
        "types": [type(m).__name__ for m in model.modules()],
        "params": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def init_tensors(model: nn.Module) -> dict:
    """All weights and biases grouped the way DCGAN initialises them (flattened, concatenated)."""
    import torch

    groups: dict[str, list] = {"conv_weight": [], "bn_weight": [], "bias": [], "other": []}
    for m in model.modules():
        name = type(m).__name__
        if "Conv" in name:
            groups["conv_weight"].append(m.weight.detach().flatten())
            if m.bias is not None:
                groups["bias"].append(m.bias.detach().flatten())
        elif "BatchNorm" in name:
            if m.weight is not None:
                groups["bn_weight"].append(m.weight.detach().flatten())
                groups["bias"].append(m.bias.detach().flatten())
        else:
            for p in m.parameters(recurse=False):
                groups["other"].append(p.detach().flatten())
    return {k: (torch.cat(v) if v else torch.zeros(0)) for k, v in groups.items()}


def params_without_grad(model: nn.Module) -> list:
    """Names of parameters whose .grad is missing or entirely zero."""
    return [name for name, p in model.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
