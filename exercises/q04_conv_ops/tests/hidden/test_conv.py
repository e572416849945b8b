"""Hidden tests for q04_conv_ops: conv2d and pooling by hand, against torch.nn.functional."""

import random

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_close, assert_int


def _fits(size, k, s, p, d):
    return size + 2 * p - d * (k - 1) - 1 >= 0


def _conv_case(tuples):
    """A random valid convolution configuration; with tuples=True every argument is an asymmetric pair."""
    while True:
        n, c, o = random.randint(1, 3), random.randint(1, 4), random.randint(1, 5)
        h, w = random.randint(5, 11), random.randint(5, 11)
        kh, kw = random.randint(1, 4), random.randint(1, 4)
        if tuples:
            s = (random.randint(1, 3), random.randint(1, 3))
            p = (random.randint(0, 2), random.randint(0, 2))
            d = (random.randint(1, 3), random.randint(1, 3))
            if s[0] == s[1] and p[0] == p[1] and d[0] == d[1]:
                continue
        else:
            s, p, d = random.randint(1, 3), random.randint(0, 2), random.randint(1, 2)
        sp = s if tuples else (s, s)
        pp = p if tuples else (p, p)
        dp = d if tuples else (d, d)
        if _fits(h, kh, sp[0], pp[0], dp[0]) and _fits(w, kw, sp[1], pp[1], dp[1]):
            return (n, c, h, w), (o, c, kh, kw), s, p, d


@pytest.mark.points(4)
def test_conv2d_matches_torch(submission):
    """conv2d equals F.conv2d on random shapes, non-square kernels, int stride/padding/dilation"""
    for case in range(12):
        xs, ws, s, p, d = _conv_case(tuples=False)
        x, weight = torch.randn(*xs), torch.randn(*ws)
        bias = torch.randn(ws[0]) if case % 3 else None
        got = submission.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
        expected = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
        assert_close(got, expected, rtol=1e-4, atol=1e-4,
                     what=f"conv2d (kernel {ws[2]}x{ws[3]}, stride={s}, padding={p}, dilation={d}, "
                          f"bias {'given' if bias is not None else 'None'})")


@pytest.mark.points(3)
def test_conv2d_tuple_arguments(submission):
    """conv2d with (height, width) pairs for stride, padding and dilation"""
    for case in range(10):
        xs, ws, s, p, d = _conv_case(tuples=True)
        x, weight = torch.randn(*xs), torch.randn(*ws)
        bias = torch.randn(ws[0]) if case % 2 else None
        got = submission.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
        expected = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
        assert_close(got, expected, rtol=1e-4, atol=1e-4,
                     what=f"conv2d with pairs (kernel {ws[2]}x{ws[3]}, stride={s}, padding={p}, dilation={d})")


@pytest.mark.points(2)
def test_conv2d_float64_and_defaults(submission):
    """conv2d keeps float64, and the defaults (no bias, stride 1, no padding) match torch"""
    for _ in range(4):
        xs, ws, s, p, d = _conv_case(tuples=False)
        x, weight = torch.randn(*xs, dtype=torch.float64), torch.randn(*ws, dtype=torch.float64)
        bias = torch.randn(ws[0], dtype=torch.float64)
        got = submission.conv2d(x, weight, bias, s, p, d)
        assert_close(got, F.conv2d(x, weight, bias, s, p, d), rtol=1e-10, atol=1e-10, what="conv2d in float64")
        if xs[2] >= ws[2] and xs[3] >= ws[3]:
            got = submission.conv2d(x, weight)
            assert_close(got, F.conv2d(x, weight), rtol=1e-10, atol=1e-10, what="conv2d(x, weight) with defaults")


def _pool_case():
    n, c = random.randint(1, 3), random.randint(1, 4)
    h, w = random.randint(4, 11), random.randint(4, 11)
    kh, kw = random.randint(1, 4), random.randint(1, 4)
    stride = random.choice([None, random.randint(1, 3), (random.randint(1, 3), random.randint(1, 3))])
    return (n, c, h, w), (kh, kw), stride


@pytest.mark.points(3)
def test_max_pool2d_matches_torch(submission):
    """max_pool2d equals F.max_pool2d (stride None, int or pair; padding up to half the kernel)"""
    for case in range(12):
        xs, (kh, kw), stride = _pool_case()
        # Mostly negative inputs: padding must never win the maximum.
        x = torch.randn(*xs) - (3.0 if case % 2 else 0.0)
        padding = random.choice([0, (random.randint(0, kh // 2), random.randint(0, kw // 2)), min(kh, kw) // 2])
        kernel = (kh, kw) if case % 3 else max(kh, kw)
        kp = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        pp = padding if isinstance(padding, tuple) else (padding, padding)
        if pp[0] * 2 > kp[0] or pp[1] * 2 > kp[1] or xs[2] + 2 * pp[0] < kp[0] or xs[3] + 2 * pp[1] < kp[1]:
            kernel, padding = (1, 1), 0
        got = submission.max_pool2d(x, kernel, stride, padding)
        expected = F.max_pool2d(x, kernel, stride, padding)
        assert_close(got, expected, rtol=0, atol=0,
                     what=f"max_pool2d(kernel={kernel}, stride={stride}, padding={padding})")


@pytest.mark.points(1)
def test_max_pool2d_rejects_large_padding(submission):
    """max_pool2d raises ValueError when padding exceeds half the kernel"""
    x = torch.randn(1, 2, 8, 8)
    for kernel, padding in ((3, 2), (2, 2), ((4, 2), (1, 2)), (1, 1), ((3, 3), (0, 2))):
        with pytest.raises(ValueError):
            submission.max_pool2d(x, kernel, None, padding)
    got = submission.max_pool2d(x, 2, 1, 1)  # exactly half the kernel is allowed
    assert_close(got, F.max_pool2d(x, 2, 1, 1), rtol=0, atol=0, what="max_pool2d with padding = kernel / 2")


@pytest.mark.points(2)
def test_avg_pool2d_matches_torch(submission):
    """avg_pool2d equals F.avg_pool2d (stride None, int or pair; non-square kernels)"""
    for case in range(10):
        xs, (kh, kw), stride = _pool_case()
        kernel = (min(kh, xs[2]), min(kw, xs[3])) if case % 3 else min(kh, xs[2], xs[3])
        x = torch.randn(*xs, dtype=torch.float64 if case % 4 == 0 else torch.float32)
        got = submission.avg_pool2d(x, kernel, stride)
        expected = F.avg_pool2d(x, kernel, stride)
        assert_close(got, expected, rtol=1e-5, atol=1e-6, what=f"avg_pool2d(kernel={kernel}, stride={stride})")


@pytest.mark.points(2)
def test_conv_output_size(submission):
    """conv_output_size agrees with the shapes torch produces"""
    for _ in range(25):
        size, k = random.randint(1, 40), random.randint(1, 7)
        s, p, dil = random.randint(1, 4), random.randint(0, 3), random.randint(1, 3)
        if not _fits(size, k, s, p, dil):
            continue
        expected = F.conv2d(torch.zeros(1, 1, size, 1), torch.zeros(1, 1, k, 1), stride=(s, 1), padding=(p, 0),
                            dilation=(dil, 1)).shape[2]
        got = assert_int(submission.conv_output_size(size, k, s, p, dil), "conv_output_size")
        assert got == expected, f"conv_output_size is wrong for stride={s}, padding={p}, dilation={dil}"
    assert submission.conv_output_size(32, 3) == 30, "conv_output_size with default stride, padding and dilation"


@pytest.mark.points(1)
def test_conv_output_size_invalid(submission):
    """conv_output_size raises ValueError when the output would be empty"""
    for args in ((2, 3), (4, 3, 1, 0, 2), (1, 2, 1, 0, 1), (3, 5, 2, 0, 1), (5, 3, 1, 0, 3)):
        with pytest.raises(ValueError):
            submission.conv_output_size(*args)
