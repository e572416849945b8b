import math

import torch


def test_anchors_one_cell(submission):
    got = submission.generate_anchors((1, 2), 8, (4,), (1.0, 4.0))
    expected = torch.tensor([[2.0, 2.0, 6.0, 6.0], [3.0, 0.0, 5.0, 8.0], [10.0, 2.0, 14.0, 6.0], [11.0, 0.0, 13.0, 8.0]])
    assert torch.allclose(got, expected), f"generate_anchors((1, 2), 8, (4,), (1.0, 4.0)) should be\n{expected}\ngot\n{got}"


def test_encode_decode(submission):
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    boxes = torch.tensor([[5.0, 0.0, 25.0, 5.0]])
    d = submission.encode_boxes(anchors, boxes)
    expected = torch.tensor([[1.0, -0.25, math.log(2.0), math.log(0.5)]])
    assert torch.allclose(d, expected), f"encode_boxes should give {expected}, got {d}"
    back = submission.decode_boxes(anchors, d)
    assert torch.allclose(back, boxes, atol=1e-4), f"decode_boxes(encode_boxes(b)) should give {boxes}, got {back}"
    big = submission.decode_boxes(anchors, torch.tensor([[0.0, 0.0, 100.0, 0.0]]))
    assert torch.allclose(big, torch.tensor([[-307.5, 0.0, 317.5, 10.0]])), f"dw should be clamped at log(1000/16), got {big}"


def test_match_anchors(submission):
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 20.0], [50.0, 50.0, 60.0, 60.0]])
    gts = torch.tensor([[0.0, 0.0, 10.0, 11.0]])
    got = submission.match_anchors(anchors, gts)
    assert got.tolist() == [0, -2, -1], f"match_anchors should give [0, -2, -1], got {got.tolist()}"


def test_average_precision(submission):
    gts = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    preds = torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0], [20.0, 20.0, 30.0, 31.0]])
    got = submission.average_precision(preds, torch.tensor([0.9, 0.8, 0.7]), gts)
    assert type(got) is float and abs(got - (0.5 + 0.5 * 2 / 3)) < 1e-6, f"AP should be 0.8333333, got {got!r}"
