"""Public helpers for q29_pretrained_finetune: bar images, a small CNN and its pretraining.

Images are grey-level [1, 12, 12] tensors with thin bars (length 5..8) at random positions and
intensities, plus Gaussian noise. Two tasks share these bars:

* source task (4 classes, plenty of data):  0 horizontal bar, 1 vertical bar, 2 diagonal "\\",
  3 anti-diagonal "/";
* target task (3 classes, few labels):      0 plus "+" (a horizontal and a vertical bar),
  1 cross "x" (both diagonals), 2 equals "=" (two horizontal bars).

``TransferNet`` is the model of the exercise: ``backbone`` (convolutions, global max-pooling,
flatten: images to 32 features) and ``head`` (a Linear layer to the classes). ``pretrain`` trains
one on the source task and returns its state dict. Deterministic given a seed; nothing downloads.
"""

import functools

import torch
from torch import nn

SOURCE_CLASSES = ("horizontal", "vertical", "diagonal", "anti-diagonal")
TARGET_CLASSES = ("plus", "cross", "equals")
SIZE = 12
FEATURES = 32


class TransferNet(nn.Module):
    """backbone: [N, 1, 12, 12] -> [N, 32] features; head: Linear(32, num_classes)."""

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, FEATURES, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def _bar(img, kind, g, length=None):
    """Draw one bar of ``kind`` (0 h, 1 v, 2 diag, 3 anti-diag) at a random place."""
    n = img.shape[-1]
    L = int(torch.randint(5, 9, (1,), generator=g)) if length is None else length
    r = int(torch.randint(0, n - L + 1, (1,), generator=g))
    c = int(torch.randint(0, n - L + 1, (1,), generator=g))
    v = 0.6 + 0.4 * float(torch.rand(1, generator=g))
    idx = torch.arange(L)
    if kind == 0:
        img[r + L // 2, c + idx] = v
    elif kind == 1:
        img[r + idx, c + L // 2] = v
    elif kind == 2:
        img[r + idx, c + idx] = v
    else:
        img[r + idx, c + L - 1 - idx] = v


def make_images(n, seed=0, task="source", noise=0.2):
    """``n`` images [n, 1, 12, 12] (float32) and labels [n] (int64) of the ``task`` ("source" or "target")."""
    if task not in ("source", "target"):
        raise ValueError("task must be 'source' or 'target'")
    g = torch.Generator().manual_seed(int(seed))
    k = 4 if task == "source" else 3
    labels = torch.randint(0, k, (n,), generator=g)
    images = torch.zeros(n, 1, SIZE, SIZE)
    for i, y in enumerate(labels.tolist()):
        img = images[i, 0]
        if task == "source":
            _bar(img, y, g)
        elif y == 0:
            _bar(img, 0, g), _bar(img, 1, g)
        elif y == 1:
            _bar(img, 2, g), _bar(img, 3, g)
        else:
            _bar(img, 0, g), _bar(img, 0, g)
    images = images + noise * torch.randn(images.shape, generator=g)
    return images.float(), labels.long()


@functools.lru_cache(maxsize=4)
def _pretrain(seed, n, epochs):
    torch.manual_seed(seed)
    model = TransferNet(4)
    x, y = make_images(n, seed=seed + 1000, task="source")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, 64):
            b = perm[i:i + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def pretrain(seed=0, n=1200, epochs=3):
    """State dict of a ``TransferNet(4)`` trained on ``n`` source images (keys backbone.*, head.*)."""
    return {k: v.clone() for k, v in _pretrain(int(seed), int(n), int(epochs)).items()}


def accuracy(model, images, labels):
    """Accuracy (Python float) of ``model`` on ``images`` in eval mode, without gradients."""
    model.eval()
    with torch.no_grad():
        return float((model(images).argmax(1) == labels).float().mean())
