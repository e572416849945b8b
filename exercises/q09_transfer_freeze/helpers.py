"""Public helpers for q09_transfer_freeze: a tiny ResNet-like "pretrained" model and small tools
the tests use in the worker. Deterministic given a seed; nothing is downloaded."""

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + skip)


class TinyResNet(nn.Module):
    """conv-bn-relu stem, two residual blocks, global average pooling, a Linear head.

    The head is stored under ``head_attr`` ("fc" like torchvision's ResNet, or e.g. "classifier")
    and is the last child module.
    """

    def __init__(self, num_classes=10, head_attr="fc", width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = BasicBlock(width, width)
        self.layer2 = BasicBlock(width, 2 * width, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head_attr = head_attr
        setattr(self, head_attr, nn.Linear(2 * width, num_classes))

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.pool(x), 1)
        return getattr(self, self.head_attr)(x)


def tiny_resnet(num_classes=10, head_attr="fc", seed=0):
    """A "pretrained" TinyResNet: seeded weights and non-trivial BatchNorm statistics."""
    g = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng():
        torch.manual_seed(int(seed))
        model = TinyResNet(num_classes, head_attr)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=g))
                m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.num_batches_tracked.fill_(100)
    return model


def images(n=4, seed=0, size=12):
    """A batch of random 3-channel images [n, 3, size, size]."""
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(int(seed)))


def requires_grad_flags(model):
    """{parameter name: requires_grad} for every parameter of ``model``."""
    return {name: bool(p.requires_grad) for name, p in model.named_parameters()}


def set_trainable(model, prefixes):
    """Make exactly the parameters whose names start with one of ``prefixes`` trainable."""
    for name, p in model.named_parameters():
        p.requires_grad_(any(name.startswith(pre) for pre in prefixes))
    return None


def describe_groups(model, groups):
    """[{"names": [...], "lr": ...}] for a list of optimizer parameter groups over ``model``'s parameters."""
    name_of = {id(p): name for name, p in model.named_parameters()}
    return [{"names": [name_of.get(id(p), "<not a parameter of the model>") for p in g["params"]],
             "lr": float(g["lr"])} for g in groups]


def sgd_step(model, groups, x, y, steps=1):
    """``steps`` SGD steps (plain, no momentum) on cross-entropy, model in training mode."""
    opt = torch.optim.SGD(groups, lr=0.0)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return None
