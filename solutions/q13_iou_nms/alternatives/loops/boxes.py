"""Alternative solution: explicit per-column formulas and pair loops; batched NMS by coordinate offsets."""

import torch


def box_convert(boxes, in_fmt, out_fmt):
    fmts = ("xyxy", "xywh", "cxcywh")
    if in_fmt not in fmts or out_fmt not in fmts:
        raise ValueError("unknown format")
    b = boxes.clone()
    if in_fmt == out_fmt:
        return b
    # to cxcywh first
    if in_fmt == "xyxy":
        c = torch.empty_like(b)
        c[:, 2] = b[:, 2] - b[:, 0]
        c[:, 3] = b[:, 3] - b[:, 1]
        c[:, 0] = (b[:, 0] + b[:, 2]) / 2
        c[:, 1] = (b[:, 1] + b[:, 3]) / 2
        if out_fmt == "cxcywh":
            return c
        out = torch.empty_like(b)
        out[:, 0], out[:, 1], out[:, 2], out[:, 3] = b[:, 0], b[:, 1], c[:, 2], c[:, 3]
        return out
    if in_fmt == "xywh":
        if out_fmt == "xyxy":
            out = b.clone()
            out[:, 2] = b[:, 0] + b[:, 2]
            out[:, 3] = b[:, 1] + b[:, 3]
            return out
        return box_convert(box_convert(b, "xywh", "xyxy"), "xyxy", "cxcywh")
    # cxcywh
    x1 = b[:, 0] - b[:, 2] / 2
    y1 = b[:, 1] - b[:, 3] / 2
    if out_fmt == "xywh":
        return torch.stack([x1, y1, b[:, 2], b[:, 3]], 1)
    return torch.stack([x1, y1, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)


def box_area(boxes):
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return w * h


def box_iou(a, b):
    out = torch.zeros(a.shape[0], b.shape[0], dtype=torch.promote_types(a.dtype, b.dtype))
    for i in range(a.shape[0]):
        ax1, ay1, ax2, ay2 = a[i].tolist()
        for j in range(b.shape[0]):
            bx1, by1, bx2, by2 = b[j].tolist()
            iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
            ih = max(0.0, min(ay2, by2) - max(ay1, by1))
            inter = iw * ih
            union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def nms(boxes, scores, iou_threshold):
    n = boxes.shape[0]
    s = scores.tolist()
    order = sorted(range(n), key=lambda i: (-s[i], i))
    keep = []
    for i in order:
        if all(box_iou(boxes[i:i + 1], boxes[k:k + 1])[0, 0].item() <= iou_threshold for k in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)


def batched_nms(boxes, scores, classes, iou_threshold):
    if boxes.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long)
    # Shift every class to its own region of the plane so boxes of different classes never overlap.
    span = float((boxes.max() - boxes.min()).item()) + 1.0
    shifted = boxes + (classes.to(boxes.dtype) * span)[:, None]
    return nms(shifted, scores, iou_threshold)
