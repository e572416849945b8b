import math

import pytest
import torch

from grader.testing import assert_close, assert_float


def _random_boxes(n, lo=0.0, hi=64.0, wmin=4.0, wmax=30.0):
    c = torch.rand(n, 2) * (hi - lo) + lo
    wh = torch.rand(n, 2) * (wmax - wmin) + wmin
    # coordinates on a quarter-pixel grid: IoU ties are then exact ties in any floating-point precision
    return (torch.cat([c - wh / 2, c + wh / 2], dim=1) * 4).round() / 4


@pytest.mark.points(2)
def test_generate_anchors(submission, reference):
    """anchors: xyxy, order row / column / size / ratio, centres at (col + 0.5, row + 0.5) * stride"""
    configs = [((2, 3), 8, (16,), (1.0,)), ((3, 3), 16, (32, 64), (0.5, 1.0, 2.0)), (4, 4, (8, 16, 24), (1.0, 3.0)),
               ((1, 5), 10, (12.5,), (0.25, 1.0)), ((5, 2), 7, (20, 10), (2.0, 0.5, 1.0))]
    for feature_size, stride, sizes, ratios in configs:
        got = submission.generate_anchors(feature_size, stride, sizes, ratios)
        expected = reference.generate_anchors(feature_size, stride, sizes, ratios)
        assert_close(got, expected, rtol=1e-5, atol=1e-4, what=f"generate_anchors with {len(sizes)} sizes and {len(ratios)} ratios")


@pytest.mark.points(2)
def test_encode_decode(submission, reference):
    """encode_boxes and decode_boxes agree with the Faster R-CNN parameterisation, with and without weights"""
    for weights in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0), (2.0, 0.5, 1.0, 3.0)]:
        anchors, boxes = _random_boxes(40), _random_boxes(40)
        kw = {} if weights == (1.0, 1.0, 1.0, 1.0) else {"weights": weights}
        assert_close(submission.encode_boxes(anchors, boxes, **kw), reference.encode_boxes(anchors, boxes, weights),
                     rtol=1e-4, atol=1e-5, what=f"encode_boxes (weights {weights})")
        deltas = torch.randn(40, 4) * torch.tensor([0.5, 0.5, 0.3, 0.3]) * torch.tensor(weights)
        assert_close(submission.decode_boxes(anchors, deltas, **kw), reference.decode_boxes(anchors, deltas, weights),
                     rtol=1e-4, atol=1e-4, what=f"decode_boxes (weights {weights})")


@pytest.mark.points(1)
def test_round_trip(submission):
    """decode_boxes(anchors, encode_boxes(anchors, boxes)) gives the boxes back"""
    for weights in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]:
        anchors, boxes = _random_boxes(50), _random_boxes(50)
        deltas = submission.encode_boxes(anchors, boxes, weights)
        assert_close(submission.decode_boxes(anchors, deltas, weights), boxes, rtol=1e-4, atol=1e-3,
                     what=f"decode(encode(boxes)) with weights {weights}")


@pytest.mark.points(1)
def test_clamp_in_decoding_only(submission, reference):
    """dw and dh are clamped at log(1000/16) when decoding, never when encoding"""
    anchors = torch.tensor([[0.0, 0.0, 2.0, 2.0], [10.0, 10.0, 14.0, 12.0]])
    boxes = torch.tensor([[0.0, 0.0, 400.0, 300.0], [0.0, 0.0, 8.0, 6.0]])  # log(200) > log(62.5)
    assert_close(submission.encode_boxes(anchors, boxes), reference.encode_boxes(anchors, boxes), rtol=1e-4, atol=1e-5,
                 what="encode_boxes for a box much larger than its anchor")
    deltas = torch.tensor([[0.0, 0.0, 10.0, 50.0], [0.1, -0.2, 100.0, -3.0]])
    got = submission.decode_boxes(anchors, deltas)
    assert bool(torch.isfinite(got).all()), "decode_boxes overflows on large dw / dh"
    assert_close(got, reference.decode_boxes(anchors, deltas), rtol=1e-4, atol=1e-3, what="decode_boxes with large dw / dh")


@pytest.mark.points(2)
def test_match_anchors_random(submission, reference):
    """match_anchors agrees with the reference on random ground truth (thresholds, -1 / -2, low-quality matches)"""
    anchors = reference.generate_anchors((6, 6), 8, (8, 16, 32), (0.25, 1.0, 4.0))  # integer coordinates
    for case in range(10):
        gts = _random_boxes(int(torch.randint(1, 6, ())), 0, 48, 4, 40)
        pos, neg = [(0.7, 0.3), (0.5, 0.4), (0.6, 0.2)][case % 3]
        low = case % 4 != 3
        got = submission.match_anchors(anchors, gts, pos_iou=pos, neg_iou=neg, allow_low_quality=low)
        assert_close(got, reference.match_anchors(anchors, gts, pos, neg, low),
                     what=f"match_anchors (pos_iou={pos}, neg_iou={neg}, allow_low_quality={low})")


@pytest.mark.points(2)
def test_match_anchors_edge_cases(submission):
    """low-quality matches (with ties), a gt that overlaps nothing, no gt at all"""
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0], [0.0, 20.0, 10.0, 30.0],
                            [40.0, 40.0, 50.0, 50.0], [100.0, 100.0, 110.0, 110.0]])
    # gt 0 straddles anchors 0 and 1 equally (IoU 0.2 each, below neg_iou): both are promoted
    # gt 1 overlaps nothing: promotes nothing; gt 2 covers anchor 3 well (IoU 0.81): a normal positive
    gts = torch.tensor([[5.0, 0.0, 25.0, 10.0], [200.0, 200.0, 210.0, 210.0], [40.0, 40.0, 49.0, 49.0]])
    got = submission.match_anchors(anchors, gts)
    expected = torch.tensor([0, 0, -1, 2, -1])
    assert_close(got, expected, what="match_anchors with tied low-quality matches and an isolated gt")
    got = submission.match_anchors(anchors, gts, allow_low_quality=False)
    assert_close(got, torch.tensor([-1, -1, -1, 2, -1]), what="match_anchors with allow_low_quality=False")
    # an anchor between thresholds is ignored (-2) unless promoted
    gts2 = torch.tensor([[0.0, 0.0, 10.0, 20.0], [40.0, 40.0, 50.0, 50.0]])  # IoU 0.5 with anchor 0
    got = submission.match_anchors(anchors, gts2, allow_low_quality=False)
    assert_close(got, torch.tensor([-2, -1, -1, 1, -1]), what="match_anchors between the thresholds")
    got = submission.match_anchors(anchors, gts2)
    assert_close(got, torch.tensor([0, -1, -1, 1, -1]), what="match_anchors promoting a gt's best anchor")
    got = submission.match_anchors(anchors, torch.zeros(0, 4))
    assert_close(got, torch.full((5,), -1, dtype=torch.long), what="match_anchors with no ground truth")


def _ap_case(n_gt, n_extra, jitter):
    gts = _random_boxes(n_gt)
    hits = gts[torch.randint(0, n_gt, (n_gt + 2,))] + torch.randn(n_gt + 2, 4) * jitter
    preds = torch.cat([hits, _random_boxes(n_extra)])
    scores = torch.rand(preds.shape[0])
    if n_extra % 2 == 0:
        scores = (scores * 4).round() / 4  # many tied scores
    return preds, scores, gts


@pytest.mark.points(2)
def test_average_precision_random(submission, reference):
    """average_precision agrees with the reference (greedy matching by score, duplicates, all-point interpolation)"""
    for case in range(12):
        preds, scores, gts = _ap_case(int(torch.randint(1, 8, ())), int(torch.randint(0, 8, ())), [1.0, 3.0, 6.0][case % 3])
        thr = [0.5, 0.75, 0.3][case % 3]
        got = submission.average_precision(preds, scores, gts, iou_threshold=thr)
        assert_float(got, "average_precision")
        assert_close(got, reference.average_precision(preds, scores, gts, thr), rtol=1e-6, atol=1e-6,
                     what=f"average_precision (iou_threshold={thr})")


@pytest.mark.points(2)
def test_average_precision_edge_cases(submission):
    """AP edge cases: no gt, no predictions, a perfect detector, duplicate detections, low-ranked hits"""
    gts = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    got = submission.average_precision(gts.clone(), torch.tensor([0.9, 0.8]), torch.zeros(0, 4))
    assert_close(got, 0.0, what="average_precision with no ground truth")
    got = submission.average_precision(torch.zeros(0, 4), torch.zeros(0), gts)
    assert_close(got, 0.0, what="average_precision with no predictions")
    got = submission.average_precision(gts.clone(), torch.tensor([0.9, 0.8]), gts)
    assert_close(got, 1.0, what="average_precision of a perfect detector")
    # duplicate of gt 0 ranked second is a false positive; gt 1 found third: P = 1, 1/2, 2/3
    preds = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
    got = submission.average_precision(preds, torch.tensor([0.9, 0.8, 0.7]), gts)
    assert_close(got, 0.5 + 0.5 * (2 / 3), what="average_precision with a duplicate detection")
    # a miss ranked first, then both hits: P = 0, 1/2, 2/3; the envelope gives 2/3 at both recall steps
    preds = torch.tensor([[50.0, 50.0, 60.0, 60.0], [0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    got = submission.average_precision(preds, torch.tensor([0.9, 0.8, 0.7]), gts)
    assert_close(got, 2 / 3, what="average_precision with a false positive ranked first")
    # tied scores keep the input order (stable sort): the miss listed first is ranked first
    got = submission.average_precision(preds, torch.tensor([0.5, 0.5, 0.5]), gts)
    assert_close(got, 2 / 3, what="average_precision with tied scores (stable order)")
