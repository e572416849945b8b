"""q04_conv_ops: 2-D convolution and pooling by hand (NCHW tensors).

Do not call torch's convolution or pooling functions or modules (F.conv2d, torch.conv2d, nn.Conv2d,
F.max_pool2d, nn.MaxPool2d, F.avg_pool2d, ...). Padding with F.pad, slicing, Tensor.unfold,
einsum and matmul are all fine.
"""

from __future__ import annotations

import torch

IntOrPair = int | tuple[int, int]


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1) -> torch.Tensor:
    """Cross-correlation of x [N, C, H, W] with weight [O, C, kh, kw], plus bias [O] if given.

    Zero padding; stride, padding and dilation are ints or (height, width) pairs. Returns
    [N, O, Ho, Wo] in x's dtype, exactly like torch.nn.functional.conv2d.
    """
    raise NotImplementedError


def max_pool2d(x: torch.Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0) -> torch.Tensor:
    """Max over windows; stride defaults to kernel_size; padding counts as -inf.

    Raises ValueError when padding exceeds half the kernel size (in either dimension).
    """
    raise NotImplementedError


def avg_pool2d(x: torch.Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> torch.Tensor:
    """Mean over windows (no padding); stride defaults to kernel_size."""
    raise NotImplementedError


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one dimension: floor((size + 2p - d(k - 1) - 1) / s) + 1.

    Raises ValueError if the result is not positive.
    """
    raise NotImplementedError
