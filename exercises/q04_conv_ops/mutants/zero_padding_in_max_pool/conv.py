"""Reference solution for q04_conv_ops: 2-D convolution and pooling written with tensor slicing.

The idea: for an output of size Ho x Wo, the input pixels that kernel tap (i, j) sees form a
strided slice of the (padded) input,

    x_pad[:, :, i*dh : i*dh + sh*(Ho-1) + 1 : sh,  j*dw : j*dw + sw*(Wo-1) + 1 : sw]   -> [N, C, Ho, Wo]

so a convolution is a sum over the kh*kw taps of (slice contracted with weight[:, :, i, j]) and a
pooling is a max or mean over the taps. This is cross-correlation, like every deep-learning
library: the kernel is not flipped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _pair(v) -> tuple[int, int]:
    """An int or a (height, width) pair -> (height, width)."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"expected an int or a pair, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1; ValueError if it is not positive."""
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out <= 0:
        raise ValueError(f"output size would be {out} (input {size}, kernel {kernel}, stride {stride}, "
                         f"padding {padding}, dilation {dilation})")
    return out


def _taps(xp: torch.Tensor, k, s, d, out_hw):
    """Yield (i, j, slice) for every kernel tap: slice is [N, C, Ho, Wo]."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = k, s, d, out_hw
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            yield i, j, xp[:, :, r0: r0 + sh * (ho - 1) + 1: sh, c0: c0 + sw * (wo - 1) + 1: sw]


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Cross-correlation of x [N, C, H, W] with weight [O, C, kh, kw] (zero padding), plus bias [O]."""
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, w = x.shape
    o, c_w, kh, kw = weight.shape
    if c != c_w:
        raise ValueError(f"input has {c} channels but the weight expects {c_w}")
    ho = conv_output_size(h, kh, s[0], p[0], d[0])
    wo = conv_output_size(w, kw, s[1], p[1], d[1])
    xp = F.pad(x, (p[1], p[1], p[0], p[0]))  # zero padding: (left, right, top, bottom)
    out = x.new_zeros(n, o, ho, wo)
    for i, j, patch in _taps(xp, (kh, kw), s, d, (ho, wo)):
        # sum over input channels: [N, C, Ho, Wo] x [O, C] -> [N, O, Ho, Wo]
        out += torch.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    if bias is not None:
        out += bias.view(1, o, 1, 1)
    return out


def max_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """Max over kernel windows; padding counts as -inf, so it never wins."""
    k = _pair(kernel_size)
    s = _pair(stride) if stride is not None else k
    p = _pair(padding)
    if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
        raise ValueError(f"padding {p} exceeds half the kernel size {k}")
    n, c, h, w = x.shape
    ho = conv_output_size(h, k[0], s[0], p[0])
    wo = conv_output_size(w, k[1], s[1], p[1])
    xp = F.pad(x, (p[1], p[1], p[0], p[0]))
    out = None
    for _, _, patch in _taps(xp, k, s, (1, 1), (ho, wo)):
        out = patch.clone() if out is None else torch.maximum(out, patch)
    return out


def avg_pool2d(x: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Mean over kernel windows (no padding)."""
    k = _pair(kernel_size)
    s = _pair(stride) if stride is not None else k
    n, c, h, w = x.shape
    ho = conv_output_size(h, k[0], s[0])
    wo = conv_output_size(w, k[1], s[1])
    total = x.new_zeros(n, c, ho, wo)
    for _, _, patch in _taps(x, k, s, (1, 1), (ho, wo)):
        total += patch
    return total / (k[0] * k[1])
