"""q13_iou_nms: bounding-box utilities for object-detection post-processing.

Boxes are float tensors of shape [N, 4]. Formats:
    "xyxy"    (x1, y1, x2, y2)   top-left and bottom-right corners
    "xywh"    (x1, y1, w, h)     top-left corner, width, height
    "cxcywh"  (cx, cy, w, h)     centre, width, height
Do not use torchvision.ops.
"""

from __future__ import annotations

import torch


def box_convert(boxes: torch.Tensor, in_fmt: str, out_fmt: str) -> torch.Tensor:
    """Convert boxes [N, 4] from ``in_fmt`` to ``out_fmt`` (each one of "xyxy", "xywh", "cxcywh").

    Returns a new tensor of the same shape and dtype; the input is not modified.
    """
    raise NotImplementedError


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of xyxy boxes [N, 4] -> [N], (x2 - x1) * (y2 - y1), without clamping."""
    raise NotImplementedError


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise intersection over union of xyxy boxes a [N, 4] and b [M, 4] -> [N, M].

    The IoU is 0 where the union is 0 (never NaN).
    """
    raise NotImplementedError


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression on xyxy boxes [N, 4] with scores [N].

    Returns the indices of the kept boxes (int64, shape [K]) by descending score; tied scores keep
    the lower index first. A box is suppressed when its IoU with an already kept box is strictly
    greater than ``iou_threshold``.
    """
    raise NotImplementedError


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor,
                iou_threshold: float) -> torch.Tensor:
    """NMS applied within each class (``classes`` [N], integer labels) independently.

    Boxes of different classes never suppress each other. Returns the kept indices of all classes
    together (int64) by descending score, tied scores lower index first.
    """
    raise NotImplementedError
