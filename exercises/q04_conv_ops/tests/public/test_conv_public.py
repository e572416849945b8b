"""Public tests for q04_conv_ops: tiny inputs worked out by hand."""

import pytest
import torch

from grader.testing import assert_close

X = torch.arange(16.0).reshape(1, 1, 4, 4)
# [[ 0,  1,  2,  3],
#  [ 4,  5,  6,  7],
#  [ 8,  9, 10, 11],
#  [12, 13, 14, 15]]


def test_conv2d_small(submission):
    weight = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])   # x[i, j] - x[i+1, j+1] = -5 everywhere
    got = submission.conv2d(X, weight, torch.tensor([1.0]))
    assert_close(got, torch.full((1, 1, 3, 3), -4.0), what="conv2d(arange 4x4, [[1, 0], [0, -1]], bias 1)", reveal=True)
    got = submission.conv2d(X, torch.ones(1, 1, 1, 1), None, stride=2, padding=1)
    # padded 6x6 sampled at rows/cols 0, 2, 4: [[0, 0, 0], [0, 5, 7], [0, 13, 15]]
    expected = torch.tensor([[[[0.0, 0.0, 0.0], [0.0, 5.0, 7.0], [0.0, 13.0, 15.0]]]])
    assert_close(got, expected, what="conv2d(arange 4x4, 1x1 ones, stride=2, padding=1)", reveal=True)


def test_max_pool2d_small(submission):
    got = submission.max_pool2d(X, 2)
    assert_close(got, torch.tensor([[[[5.0, 7.0], [13.0, 15.0]]]]), what="max_pool2d(arange 4x4, 2)", reveal=True)
    neg = -X - 1  # all negative: padding must not win
    got = submission.max_pool2d(neg, 2, stride=2, padding=1)
    expected = torch.tensor([[[[-1.0, -2.0, -4.0], [-5.0, -6.0, -8.0], [-13.0, -14.0, -16.0]]]])
    assert_close(got, expected, what="max_pool2d(-arange 4x4 - 1, 2, stride=2, padding=1)", reveal=True)
    with pytest.raises(ValueError):
        submission.max_pool2d(X, 2, padding=2)


def test_avg_pool2d_small(submission):
    got = submission.avg_pool2d(X, (2, 4))
    assert_close(got, torch.tensor([[[[3.5], [11.5]]]]), what="avg_pool2d(arange 4x4, (2, 4))", reveal=True)


def test_conv_output_size_small(submission):
    assert submission.conv_output_size(32, 3, 1, 1) == 32, "conv_output_size(32, 3, 1, 1) should be 32"
    assert submission.conv_output_size(7, 3, 2, 0, 2) == 2, "conv_output_size(7, 3, 2, 0, 2) should be 2"
    with pytest.raises(ValueError):
        submission.conv_output_size(2, 5)
