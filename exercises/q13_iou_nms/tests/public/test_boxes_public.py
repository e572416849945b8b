"""Public tests for q13_iou_nms (explicit small examples)."""

import torch


def test_box_convert_and_area(submission):
    xyxy = torch.tensor([[1.0, 2.0, 5.0, 8.0]])
    got = submission.box_convert(xyxy, "xyxy", "cxcywh")
    expected = torch.tensor([[3.0, 5.0, 4.0, 6.0]])
    assert torch.equal(got, expected), f"box_convert({xyxy.tolist()}, xyxy -> cxcywh) should be {expected.tolist()}, got {got}"
    got = submission.box_convert(xyxy, "xyxy", "xywh")
    expected = torch.tensor([[1.0, 2.0, 4.0, 6.0]])
    assert torch.equal(got, expected), f"box_convert({xyxy.tolist()}, xyxy -> xywh) should be {expected.tolist()}, got {got}"
    area = submission.box_area(xyxy)
    assert torch.equal(area, torch.tensor([24.0])), f"box_area({xyxy.tolist()}) should be [24.0], got {area}"


def test_box_iou(submission):
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [5.0, 5.0, 6.0, 6.0], [0.0, 0.0, 2.0, 2.0]])
    got = submission.box_iou(a, b)
    expected = torch.tensor([[1 / 7, 0.0, 1.0]])
    assert got.shape == (1, 3) and torch.allclose(got, expected), (
        f"box_iou({a.tolist()}, {b.tolist()}) should be {expected.tolist()}, got {got}")


def test_nms(submission):
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0], [0.0, 0.0, 10.0, 9.0]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    got = submission.nms(boxes, scores, 0.5)
    # box 3 (0.95) is kept first and suppresses box 0 (IoU 0.9) and box 1 (IoU ~0.61); box 2 does not overlap
    assert torch.equal(got, torch.tensor([3, 2])), f"nms(..., iou_threshold=0.5) should keep [3, 2], got {got}"
    assert got.dtype == torch.int64, f"nms should return int64 indices, got {got.dtype}"
    got = submission.batched_nms(boxes, scores, torch.tensor([0, 1, 0, 0]), 0.5)
    assert torch.equal(got, torch.tensor([3, 1, 2])), f"batched_nms with classes [0, 1, 0, 0] should keep [3, 1, 2], got {got}"
