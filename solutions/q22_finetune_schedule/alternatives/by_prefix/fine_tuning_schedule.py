"""Alternative q22 solution: works from parameter names (prefix matching) instead of submodules."""
import torch
from torch import nn


def _params_under(model, name):
    prefix = name + "."
    return [p for n, p in model.named_parameters() if n.startswith(prefix)]


def layerwise_lr_groups(model, layer_names, base_lr, decay):
    groups = []
    lr = float(base_lr)
    for name in reversed(layer_names):          # walk from the output, multiplying by decay
        groups.append({"params": _params_under(model, name), "lr": lr})
        lr = lr * decay
    groups.reverse()
    return groups


def gradual_unfreeze(model, layer_names, epoch):
    k = min(epoch, len(layer_names))
    frozen = layer_names[: len(layer_names) - k]
    for n, p in model.named_parameters():
        p.requires_grad = not any(n.startswith(f + ".") for f in frozen)


@torch.no_grad()
def extract_features(backbone, images, batch_size):
    mode = backbone.training
    backbone.train(False)
    out = torch.cat([backbone(chunk) for chunk in torch.split(images, batch_size)])
    backbone.train(mode)
    return out


def train_linear_probe(features, labels, num_classes, epochs, lr, seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    probe = nn.Linear(features.size(1), num_classes)
    opt = torch.optim.Adam(probe.parameters(), lr=lr * 0.1)
    n = features.size(0)
    for _ in range(epochs):
        for idx in torch.randperm(n, generator=g).split(50):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(probe(features[idx]), labels[idx])
            loss.backward()
            opt.step()
    return probe
