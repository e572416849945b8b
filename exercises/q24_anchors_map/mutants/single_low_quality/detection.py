"""Reference solution for q24_anchors_map: anchors, box coding, anchor matching, average precision.

Boxes are (x1, y1, x2, y2) in pixels, width = x2 - x1 (no "+1"), as in torchvision.
"""

from __future__ import annotations

import math

import torch

BBOX_CLAMP = math.log(1000.0 / 16)  # largest dw / dh accepted when decoding


def generate_anchors(feature_size, stride, sizes, ratios) -> torch.Tensor:
    h, w = (feature_size, feature_size) if isinstance(feature_size, int) else tuple(feature_size)
    sizes_t = torch.tensor(sizes, dtype=torch.float64)
    ratios_t = torch.tensor(ratios, dtype=torch.float64)
    # ratio = h / w and h * w = size^2  =>  w = size / sqrt(ratio), h = size * sqrt(ratio)
    ws = (sizes_t[:, None] / ratios_t.sqrt()[None, :]).reshape(-1)  # order: size, then ratio
    hs = (sizes_t[:, None] * ratios_t.sqrt()[None, :]).reshape(-1)
    cy = (torch.arange(h, dtype=torch.float64) + 0.5) * stride
    cx = (torch.arange(w, dtype=torch.float64) + 0.5) * stride
    cy, cx = torch.meshgrid(cy, cx, indexing="ij")  # rows outer, columns inner
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)   # (H*W, 1) against (1, A)
    boxes = torch.stack([cx - ws / 2, cy - hs / 2, cx + ws / 2, cy + hs / 2], dim=-1)
    return boxes.reshape(-1, 4).to(torch.float32)


def _centre_form(boxes):
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def encode_boxes(anchors, boxes, weights=(1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centre_form(anchors)
    gx, gy, gw, gh = _centre_form(boxes)
    # Offsets relative to the anchor's size; scales in log space (no clamp here).
    return torch.stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah,
                        ww * torch.log(gw / aw), wh * torch.log(gh / ah)], dim=1)


def decode_boxes(anchors, deltas, weights=(1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centre_form(anchors)
    dx, dy = deltas[:, 0] / wx, deltas[:, 1] / wy
    # Clamp before exp so a wild prediction cannot overflow.
    dw = (deltas[:, 2] / ww).clamp(max=BBOX_CLAMP)
    dh = (deltas[:, 3] / wh).clamp(max=BBOX_CLAMP)
    cx, cy = dx * aw + ax, dy * ah + ay
    w, h = torch.exp(dw) * aw, torch.exp(dh) * ah
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=1)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU matrix (len(a), len(b)); 0 where the union is empty."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def match_anchors(anchors, gt_boxes, pos_iou=0.7, neg_iou=0.3, allow_low_quality=True) -> torch.Tensor:
    n = anchors.shape[0]
    if gt_boxes.shape[0] == 0:
        return torch.full((n,), -1, dtype=torch.long)
    iou = box_iou(anchors, gt_boxes)              # (anchors, gts)
    best_iou, best_gt = iou.max(dim=1)            # each anchor's best gt (lowest index on ties)
    matches = best_gt.clone()
    matches[best_iou < neg_iou] = -1
    matches[(best_iou >= neg_iou) & (best_iou < pos_iou)] = -2
    if allow_low_quality:
        # Every gt keeps at least the anchors that overlap it best (all of them on ties),
        # unless it overlaps nothing at all.
        gt_best = iou.max(dim=0).values           # (gts,)
        gt_arg = iou.argmax(dim=0)
        promote = torch.zeros(n, dtype=torch.bool)
        promote[gt_arg[gt_best > 0]] = True
        matches[promote] = best_gt[promote]
    return matches


def average_precision(pred_boxes, pred_scores, gt_boxes, iou_threshold=0.5) -> float:
    n_gt, n_pred = gt_boxes.shape[0], pred_boxes.shape[0]
    if n_gt == 0 or n_pred == 0:
        return 0.0
    order = torch.sort(pred_scores, descending=True, stable=True).indices
    iou = box_iou(pred_boxes[order], gt_boxes)
    taken = torch.zeros(n_gt, dtype=torch.bool)
    tp = torch.zeros(n_pred, dtype=torch.float64)
    for i in range(n_pred):
        best, j = iou[i].max(dim=0)
        # A detection is a TP only if it hits an unclaimed gt; a second hit on a gt is a duplicate (FP).
        if float(best) >= iou_threshold and not taken[j]:
            taken[j] = True
            tp[i] = 1.0
    ctp = torch.cumsum(tp, 0)
    recall = ctp / n_gt
    precision = ctp / torch.arange(1, n_pred + 1, dtype=torch.float64)
    # All-point interpolation: precision envelope (max to the right), area under the step curve.
    mrec = torch.cat([torch.zeros(1, dtype=torch.float64), recall, torch.ones(1, dtype=torch.float64)])
    mpre = torch.cat([torch.zeros(1, dtype=torch.float64), precision, torch.zeros(1, dtype=torch.float64)])
    mpre = torch.flip(torch.cummax(torch.flip(mpre, [0]), 0).values, [0])
    steps = torch.nonzero(mrec[1:] != mrec[:-1]).flatten()
    return float(((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]).sum())
