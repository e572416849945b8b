"""Alternative: explicit Python loops, IoU in float64, VOC-style AP loop."""

import math

import torch


def generate_anchors(feature_size, stride, sizes, ratios):
    if isinstance(feature_size, int):
        H = W = feature_size
    else:
        H, W = feature_size
    rows = []
    for r in range(H):
        for c in range(W):
            cx, cy = (c + 0.5) * stride, (r + 0.5) * stride
            for s in sizes:
                for ratio in ratios:
                    h = s * math.sqrt(ratio)
                    w = s * s / h
                    rows.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def encode_boxes(anchors, boxes, weights=(1.0, 1.0, 1.0, 1.0)):
    aw = anchors[:, 2] - anchors[:, 0]
    ah = anchors[:, 3] - anchors[:, 1]
    bw = boxes[:, 2] - boxes[:, 0]
    bh = boxes[:, 3] - boxes[:, 1]
    dx = ((boxes[:, 0] + boxes[:, 2]) - (anchors[:, 0] + anchors[:, 2])) / 2 / aw
    dy = ((boxes[:, 1] + boxes[:, 3]) - (anchors[:, 1] + anchors[:, 3])) / 2 / ah
    d = torch.stack([dx, dy, torch.log(bw / aw), torch.log(bh / ah)], 1)
    return d * torch.tensor(weights, dtype=d.dtype)


def decode_boxes(anchors, deltas, weights=(1.0, 1.0, 1.0, 1.0)):
    d = deltas / torch.tensor(weights, dtype=deltas.dtype)
    lim = math.log(1000.0 / 16)
    aw = anchors[:, 2] - anchors[:, 0]
    ah = anchors[:, 3] - anchors[:, 1]
    cx = (anchors[:, 0] + anchors[:, 2]) / 2 + d[:, 0] * aw
    cy = (anchors[:, 1] + anchors[:, 3]) / 2 + d[:, 1] * ah
    w = aw * torch.exp(torch.minimum(d[:, 2], torch.tensor(lim, dtype=d.dtype)))
    h = ah * torch.exp(torch.minimum(d[:, 3], torch.tensor(lim, dtype=d.dtype)))
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_anchors(anchors, gt_boxes, pos_iou=0.7, neg_iou=0.3, allow_low_quality=True):
    A, G = anchors.tolist(), gt_boxes.tolist()
    if not G:
        return torch.full((len(A),), -1, dtype=torch.long)
    iou = [[_iou(a, g) for g in G] for a in A]
    out = []
    best_gt = []
    for row in iou:
        j = max(range(len(G)), key=lambda k: (row[k], -k))
        best_gt.append(j)
        v = row[j]
        out.append(j if v >= pos_iou else (-1 if v < neg_iou else -2))
    if allow_low_quality:
        for k in range(len(G)):
            col = [row[k] for row in iou]
            top = max(col)
            if top <= 0:
                continue
            for i, v in enumerate(col):
                if v == top:
                    out[i] = best_gt[i]
    return torch.tensor(out, dtype=torch.long)


def average_precision(pred_boxes, pred_scores, gt_boxes, iou_threshold=0.5):
    P, S, G = pred_boxes.tolist(), pred_scores.tolist(), gt_boxes.tolist()
    if not P or not G:
        return 0.0
    order = sorted(range(len(P)), key=lambda i: -S[i])  # sorted() is stable
    used = [False] * len(G)
    precisions, recalls, tp = [], [], 0
    for rank, i in enumerate(order, 1):
        ious = [_iou(P[i], g) for g in G]
        j = max(range(len(G)), key=lambda k: (ious[k], -k))
        if ious[j] >= iou_threshold and not used[j]:
            used[j] = True
            tp += 1
        precisions.append(tp / rank)
        recalls.append(tp / len(G))
    ap, prev_r = 0.0, 0.0
    for k in range(len(order)):
        if recalls[k] > prev_r:
            ap += (recalls[k] - prev_r) * max(precisions[k:])
            prev_r = recalls[k]
    return float(ap)
