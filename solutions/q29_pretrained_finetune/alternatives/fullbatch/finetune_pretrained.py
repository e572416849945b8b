"""Alternative for q29: explicit key loop with copy_, full-batch training of the trainable tensors."""

import torch
from torch import nn


def load_pretrained(model, state_dict):
    report = {"missing": [], "unexpected": [], "mismatched": []}
    targets = dict(model.named_parameters())
    targets.update(dict(model.named_buffers()))
    for name in state_dict:
        if name not in targets:
            report["unexpected"].append(name)
    for name, tensor in targets.items():
        if name not in state_dict:
            report["missing"].append(name)
        elif tensor.shape != state_dict[name].shape:
            report["mismatched"].append(name)
        else:
            with torch.no_grad():
                tensor.copy_(state_dict[name])
    return {k: sorted(v) for k, v in report.items()}


def finetune(model, images, labels, epochs, lr, seed, freeze_backbone=True):
    torch.manual_seed(seed)
    if freeze_backbone:
        trainable = list(model.head.parameters())
        for p in model.backbone.parameters():
            p.requires_grad = False
    else:
        trainable = list(model.parameters())
        for p in trainable:
            p.requires_grad = True
    opt = torch.optim.Adam(trainable, lr=lr)
    model.train()
    # Full batch: one step per epoch, the data set is tiny.
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        opt.step()
    return model
