"""Public helpers for q11_cnn_training: the synthetic 16x16 shapes dataset.

Four classes of grey-level images [1, 16, 16] with a random position, size and intensity, plus
Gaussian noise:
    0  filled square      1  hollow square (outline)      2  plus sign "+"      3  diagonal cross "x"
Deterministic given a seed; nothing is downloaded.
"""

import torch

CLASSES = ("filled square", "hollow square", "plus", "cross")


def _draw(kind, size, g):
    img = torch.zeros(size, size)
    s = int(torch.randint(6, 11, (1,), generator=g))            # side of the shape's box
    r = int(torch.randint(0, size - s + 1, (1,), generator=g))   # top row
    c = int(torch.randint(0, size - s + 1, (1,), generator=g))   # left column
    v = 0.6 + 0.4 * float(torch.rand(1, generator=g))           # intensity
    if kind == 0:
        img[r:r + s, c:c + s] = v
    elif kind == 1:
        img[r:r + s, c:c + s] = v
        img[r + 1:r + s - 1, c + 1:c + s - 1] = 0
    elif kind == 2:
        m = s // 2
        img[r + m, c:c + s] = v
        img[r:r + s, c + m] = v
    else:
        idx = torch.arange(s)
        img[r + idx, c + idx] = v
        img[r + idx, c + s - 1 - idx] = v
    return img


def make_shapes(n, seed=0, size=16, noise=0.1):
    """``n`` images [n, 1, size, size] (float32) and labels [n] (int64), classes balanced-ish."""
    g = torch.Generator().manual_seed(int(seed))
    labels = torch.randint(0, 4, (n,), generator=g)
    images = torch.stack([_draw(int(k), size, g) for k in labels]).unsqueeze(1)
    images = images + noise * torch.randn(images.shape, generator=g)
    return images.float(), labels.long()


def count_parameters(model):
    """Number of parameters of ``model`` (trainable or not)."""
    return int(sum(p.numel() for p in model.parameters()))
