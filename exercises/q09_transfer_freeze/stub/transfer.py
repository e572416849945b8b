"""q09_transfer_freeze: prepare a pretrained CNN for transfer learning."""

from __future__ import annotations

from torch import nn


def prepare_for_transfer(model: nn.Module, num_classes: int, head_attr: str = "fc",
                         train_bn: bool = False) -> nn.Module:
    """Replace ``getattr(model, head_attr)`` (a Linear layer) by a new ``nn.Linear(in_features,
    num_classes)`` keeping the old in_features, and freeze every other parameter.

    train_bn=False: BatchNorm layers are frozen completely: their weight and bias do not require
    gradients and they keep using, without updating, their running statistics, also after a
    later ``model.train()``.
    train_bn=True: BatchNorm weight and bias stay trainable and BatchNorm behaves normally.
    Modifies the model in place and returns it.
    """
    raise NotImplementedError


def trainable_parameter_names(model: nn.Module) -> list[str]:
    """Names of the parameters with requires_grad=True, in ``model.named_parameters()`` order."""
    raise NotImplementedError


def param_groups(model: nn.Module, head_lr: float, backbone_lr: float) -> list[dict]:
    """Optimizer parameter groups: ``[{"params": [...head...], "lr": head_lr},
    {"params": [...backbone...], "lr": backbone_lr}]``.

    The head is the model's last child module (``list(model.children())[-1]``), all its
    parameters in order; the backbone group holds the other parameters that require gradients,
    in ``named_parameters()`` order (it may be empty).
    """
    raise NotImplementedError
