"""Anchor-based detection: anchors, Faster R-CNN box coding, anchor matching, average precision.

Boxes are float32 tensors of shape (N, 4) in (x1, y1, x2, y2) pixel coordinates; width = x2 - x1.
"""

from __future__ import annotations

import math

import torch

BBOX_CLAMP = math.log(1000.0 / 16)


def generate_anchors(feature_size: int | tuple[int, int], stride: float, sizes: tuple[float, ...],
                     ratios: tuple[float, ...]) -> torch.Tensor:
    """All anchors of an H x W feature map as a float32 tensor (H * W * len(sizes) * len(ratios), 4).

    Order: row, then column, then size, then ratio. Centre ((col + 0.5) * stride, (row + 0.5) * stride);
    for size s and ratio r = h / w: area s^2, i.e. w = s / sqrt(r), h = s * sqrt(r); no rounding.
    feature_size is an int (square map) or (H, W).
    """
    raise NotImplementedError


def encode_boxes(anchors: torch.Tensor, boxes: torch.Tensor,
                 weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """Regression targets (N, 4): (wx*(gx-ax)/aw, wy*(gy-ay)/ah, ww*log(gw/aw), wh*log(gh/ah)), centres and sizes."""
    raise NotImplementedError


def decode_boxes(anchors: torch.Tensor, deltas: torch.Tensor,
                 weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """Inverse of encode_boxes; dw = deltas[:, 2] / ww and dh are clamped at BBOX_CLAMP before exp."""
    raise NotImplementedError


def match_anchors(anchors: torch.Tensor, gt_boxes: torch.Tensor, pos_iou: float = 0.7, neg_iou: float = 0.3,
                  allow_low_quality: bool = True) -> torch.Tensor:
    """int64 tensor (N,): index of the matched gt box, -1 for negatives, -2 for ignored anchors.

    Each anchor looks at its best gt (highest IoU, lowest index on ties): IoU >= pos_iou -> that gt,
    IoU < neg_iou -> -1, otherwise -2. With allow_low_quality, every anchor whose IoU with some gt
    equals that gt's highest IoU over all anchors (ties included) gets its best gt, unless that
    highest IoU is 0. With no gt, every anchor is -1.
    """
    raise NotImplementedError


def average_precision(pred_boxes: torch.Tensor, pred_scores: torch.Tensor, gt_boxes: torch.Tensor,
                      iou_threshold: float = 0.5) -> float:
    """Single-class AP with all-point interpolation (a Python float).

    Predictions by descending score (stable sort); each is compared with its highest-IoU gt
    (lowest index on ties): a true positive if IoU >= iou_threshold and that gt is not yet matched
    (then it becomes matched), else a false positive. 0.0 when there is no gt or no prediction.
    """
    raise NotImplementedError
