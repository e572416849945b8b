"""Reference solution for q13_iou_nms: box formats, IoU and non-maximum suppression.

All box functions work on float tensors of shape [N, 4] and keep the input dtype.
Formats:
    xyxy    (x1, y1, x2, y2)   corners
    xywh    (x1, y1, w, h)     top-left corner, width, height
    cxcywh  (cx, cy, w, h)     centre, width, height
"""

from __future__ import annotations

import torch

FORMATS = ("xyxy", "xywh", "cxcywh")


def _to_xyxy(boxes: torch.Tensor, fmt: str) -> torch.Tensor:
    if fmt == "xyxy":
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if fmt == "xywh":
        return torch.stack([a, b, a + c, b + d], dim=-1)
    # cxcywh: the corners are the centre minus / plus half the size
    return torch.stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2], dim=-1)


def _from_xyxy(boxes: torch.Tensor, fmt: str) -> torch.Tensor:
    if fmt == "xyxy":
        return boxes.clone()
    x1, y1, x2, y2 = boxes.unbind(-1)
    w, h = x2 - x1, y2 - y1
    if fmt == "xywh":
        return torch.stack([x1, y1, w, h], dim=-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, w, h], dim=-1)


def box_convert(boxes: torch.Tensor, in_fmt: str, out_fmt: str) -> torch.Tensor:
    """Convert [N, 4] boxes between 'xyxy', 'xywh' and 'cxcywh' (a new tensor, same dtype)."""
    if in_fmt not in FORMATS or out_fmt not in FORMATS:
        raise ValueError(f"unknown box format: {in_fmt!r} -> {out_fmt!r} (expected one of {FORMATS})")
    # Go through xyxy: two small conversions instead of six.
    return _from_xyxy(_to_xyxy(boxes, in_fmt), out_fmt)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area of xyxy boxes, shape [N]; no clamping (an inverted box has a negative area)."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of xyxy boxes a [N, 4] and b [M, 4] -> [N, M]; 0 where the union is 0."""
    area_a, area_b = box_area(a), box_area(b)
    # Intersection rectangle of every pair by broadcasting [N, 1, 2] against [1, M, 2].
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)          # disjoint boxes: no negative overlap
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    # Two zero-area boxes have union 0: define IoU as 0 there instead of 0/0 = NaN.
    safe = torch.where(union > 0, union, torch.ones_like(union))
    return torch.where(union > 0, inter / safe, torch.zeros_like(inter))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression.

    Visit boxes by descending score (ties: lower index first), keep a box unless its IoU with an
    already kept box is strictly greater than ``iou_threshold``. Returns the kept indices (int64)
    in the order they were kept.
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    # A stable sort on the negated scores gives descending order with ties by ascending index.
    order = torch.sort(-scores, stable=True).indices
    iou = box_iou(boxes, boxes)
    suppressed = torch.zeros(boxes.shape[0], dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.long)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor,
                iou_threshold: float) -> torch.Tensor:
    """NMS within each class independently; boxes of different classes never suppress each other.

    Returns the kept indices of all classes together, by descending score (ties: lower index first).
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    kept = []
    for c in torch.unique(classes).tolist():
        idx = torch.nonzero(classes == c).flatten()
        kept.append(idx[nms(boxes[idx], scores[idx], iou_threshold)])
    kept = torch.cat(kept)
    # Merge the classes: sort by descending score, ties by ascending index.
    kept = kept.sort().values
    order = torch.sort(-scores[kept], stable=True).indices
    return kept[order]
