"""Reference solution for q09_transfer_freeze: adapt a pretrained CNN to a new task.

Recipe (feature extraction / linear probing):
1. replace the classification head by a fresh Linear layer with the new number of classes,
2. freeze every other parameter (requires_grad = False),
3. freeze the BatchNorm statistics: a frozen backbone must keep using the running mean/variance
   learned on the large dataset, also while the head trains in model.train() mode,
4. give the optimizer separate learning rates for the head and for whatever part of the
   backbone is trainable (discriminative learning rates when fine-tuning more layers).
"""

from __future__ import annotations

import types

import torch
from torch import nn

_BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def _train_keeping_bn_frozen(self: nn.Module, mode: bool = True) -> nn.Module:
    # nn.Module.train sets every submodule's mode; put the BatchNorm layers back to eval.
    nn.Module.train(self, mode)
    for m in self.modules():
        if isinstance(m, _BN_TYPES):
            m.eval()
    return self


def prepare_for_transfer(model: nn.Module, num_classes: int, head_attr: str = "fc",
                         train_bn: bool = False) -> nn.Module:
    """Replace ``model.<head_attr>`` by a new Linear(in_features, num_classes) and freeze the rest.

    With train_bn=False the BatchNorm layers are frozen completely: their affine parameters do not
    train and they stay in eval mode (use, never update, their running statistics), also after a
    later ``model.train()``. With train_bn=True their affine parameters stay trainable and they
    behave normally. Returns the same model, modified in place.
    """
    old_head = getattr(model, head_attr)
    # 1. freeze everything first ...
    for p in model.parameters():
        p.requires_grad_(False)
    # 2. ... then the new head, whose parameters are created trainable. Assigning to an existing
    #    attribute keeps its position among the children.
    setattr(model, head_attr, nn.Linear(old_head.in_features, num_classes))
    if train_bn:
        for m in model.modules():
            if isinstance(m, _BN_TYPES):
                for p in m.parameters():
                    p.requires_grad_(True)
    else:
        # Override train() on this instance so that model.train() keeps BatchNorm in eval mode.
        model.train = types.MethodType(_train_keeping_bn_frozen, model)
        model.train(model.training)
    return model


def trainable_parameter_names(model: nn.Module) -> list[str]:
    """Names of the parameters that require gradients, in ``named_parameters()`` order."""
    return [name for name, p in model.named_parameters()]


def param_groups(model: nn.Module, head_lr: float, backbone_lr: float) -> list[dict]:
    """Two optimizer parameter groups: the head (the model's last child module) at ``head_lr``,
    then the trainable parameters of the rest of the model at ``backbone_lr``."""
    head = list(model.children())[-1]
    head_ids = {id(p) for p in head.parameters()}
    head_params = list(head.parameters())
    backbone = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    return [{"params": head_params, "lr": head_lr}, {"params": backbone, "lr": backbone_lr}]
