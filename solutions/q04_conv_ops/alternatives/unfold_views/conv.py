"""Alternative solution: im2col with Tensor.unfold views and a single matrix product."""

import torch


def _two(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    effective = dilation * (kernel - 1) + 1
    n = (size + 2 * padding - effective) // stride + 1
    if n < 1:
        raise ValueError("the output would be empty")
    return n


def _pad(x, ph, pw, value):
    n, c, h, w = x.shape
    out = torch.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _windows(x, k, s, d):
    """[N, C, Ho, Wo, kh, kw] view of the dilated windows."""
    kh, kw = k
    eh, ew = d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1
    win = x.unfold(2, eh, s[0]).unfold(3, ew, s[1])   # [N, C, Ho, Wo, eh, ew]
    return win[..., ::d[0], ::d[1]]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    s, p, d = _two(stride), _two(padding), _two(dilation)
    kh, kw = weight.shape[2:]
    conv_output_size(x.shape[2], kh, s[0], p[0], d[0])
    conv_output_size(x.shape[3], kw, s[1], p[1], d[1])
    win = _windows(_pad(x, p[0], p[1], 0.0), (kh, kw), s, d)
    out = torch.einsum("nchwij,ocij->nohw", win, weight)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out.contiguous()


def max_pool2d(x, kernel_size, stride=None, padding=0):
    k = _two(kernel_size)
    s = k if stride is None else _two(stride)
    p = _two(padding)
    if p[0] > k[0] / 2 or p[1] > k[1] / 2:
        raise ValueError("padding should be at most half the kernel size")
    conv_output_size(x.shape[2], k[0], s[0], p[0])
    conv_output_size(x.shape[3], k[1], s[1], p[1])
    win = _windows(_pad(x, p[0], p[1], float("-inf")), k, s, (1, 1))
    return win.flatten(-2).max(dim=-1).values.contiguous()


def avg_pool2d(x, kernel_size, stride=None):
    k = _two(kernel_size)
    s = k if stride is None else _two(stride)
    conv_output_size(x.shape[2], k[0], s[0])
    conv_output_size(x.shape[3], k[1], s[1])
    win = _windows(x, k, s, (1, 1))
    return win.flatten(-2).sum(dim=-1) / (k[0] * k[1])
