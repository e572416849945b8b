"""Hidden tests for q03_regularization (dropout, L2 penalty, early stopping)."""

import math

import pytest
import torch

from grader.testing import assert_close, assert_float, assert_int, fetch, keep


def _check_dropout_values(out, x, p, what):
    assert type(out) is torch.Tensor, f"{what} should return a torch.Tensor"
    assert out.shape == x.shape, f"{what} changed the shape"
    assert out.dtype == x.dtype, f"{what} changed the dtype"
    scaled = x / (1 - p)
    zero = out == 0
    ok = zero | torch.isclose(out, scaled, rtol=1e-5, atol=1e-6)
    assert bool(ok.all()), f"{what}: every entry should be either 0 or x / (1 - p)"
    return zero


@pytest.mark.points(3)
def test_dropout_kept_fraction_and_scaling(submission, rng):
    """in training, about 1 - p of the entries survive, scaled by 1 / (1 - p)"""
    for p in (0.1, 0.25, 0.6, 0.9):
        x = torch.rand(200, 500, generator=rng) + 0.5  # no zeros in the input
        g = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=rng)))
        out = submission.dropout(x, p, True, g)
        zero = _check_dropout_values(out, x, p, f"dropout with p={p}")
        kept = 1 - float(zero.float().mean())
        sigma = math.sqrt(p * (1 - p) / x.numel())
        assert abs(kept - (1 - p)) < 6 * sigma, (
            f"dropout with p={p} keeps a fraction of entries far from 1 - p (kept {kept:.4f})")


@pytest.mark.points(2)
def test_dropout_preserves_expectation(submission, rng):
    """inverted dropout keeps the mean activation unchanged"""
    for p in (0.2, 0.7):
        x = torch.full((500, 500), 2.0)
        g = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=rng)))
        out = submission.dropout(x, p, True, g)
        assert type(out) is torch.Tensor and out.shape == x.shape, "dropout should return a tensor shaped like x"
        mean = float(out.double().mean())
        # std of the mean: 2 * sqrt(p / (1 - p)) / 500 <= 0.0062; tolerance 0.05 is > 8 sigma.
        assert abs(mean - 2.0) < 0.05, f"dropout with p={p} does not preserve the expected activation"


@pytest.mark.points(2)
def test_dropout_identity_when_not_training_or_p_zero(submission, rng):
    """not training, or p == 0: the output equals the input"""
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(7, 11, 3, generator=rng, dtype=dtype)
        for p, training in ((0.5, False), (0.0, False), (0.0, True), (0.99, False)):
            out = submission.dropout(x, p, training)
            assert_close(out, x, rtol=0, atol=0, what=f"dropout(x, p={p}, training={training}) in {dtype}")


@pytest.mark.points(1)
def test_dropout_rejects_bad_p(submission):
    """p outside [0, 1) raises ValueError"""
    x = torch.ones(4, 4)
    for p in (1.0, 1.5, -0.1, -1.0):
        for training in (True, False):
            with pytest.raises(ValueError):
                submission.dropout(x, p, training)


@pytest.mark.points(2)
def test_dropout_uses_generator(submission, rng):
    """the mask is drawn from the given generator: same seed, same mask; dtype kept"""
    for dtype in (torch.float32, torch.float64):
        x = torch.rand(50, 40, generator=rng, dtype=dtype) + 1.0
        s = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
        out1 = submission.dropout(x, 0.5, True, torch.Generator().manual_seed(s))
        out2 = submission.dropout(x, 0.5, True, torch.Generator().manual_seed(s))
        out3 = submission.dropout(x, 0.5, True, torch.Generator().manual_seed(s + 1))
        _check_dropout_values(out1, x, 0.5, f"dropout in {dtype}")
        assert torch.equal(out1, out2), "dropout with two generators seeded alike gives different masks"
        assert not torch.equal(out1, out3), "dropout with differently seeded generators gives the same mask"


@pytest.mark.points(2)
def test_l2_penalty_value(submission, reference, rng):
    """l2_penalty equals weight_decay / 2 times the sum of squares, as a 0-dim tensor"""
    for case in range(6):
        dtype = torch.float64 if case % 2 else torch.float32
        shapes = [(3, 4), (4,), (2, 3, 5), (1,)][: 1 + case % 4]
        params = [torch.randn(*s, generator=rng, dtype=dtype) for s in shapes]
        wd = [0.1, 1e-4, 2.0, 0.0, 0.5, 3e-3][case]
        got = submission.l2_penalty(params, wd)
        expected = reference.l2_penalty(params, wd)
        assert_close(got, expected, rtol=1e-5, atol=1e-8, what=f"l2_penalty in {dtype}")


@pytest.mark.points(2)
def test_l2_penalty_gradient(submission, remote, rng):
    """the penalty is differentiable: its gradient is weight_decay * p"""
    for wd in (0.1, 0.02):
        lin = remote.construct("torch.nn.Linear", 5, 3)
        state = {"weight": torch.randn(3, 5, generator=rng), "bias": torch.randn(3, generator=rng)}
        lin.load_state_dict(state)
        k = keep(lin)
        penalty = keep(submission).l2_penalty([k.weight, k.bias], wd)
        value = fetch(penalty)
        assert type(value) is torch.Tensor and value.dim() == 0, "l2_penalty should return a 0-dim tensor"
        assert bool(fetch(penalty.requires_grad)), "l2_penalty's result is detached from the parameters"
        penalty.backward()
        assert_close(fetch(k.weight.grad), wd * state["weight"], rtol=1e-5, atol=1e-7,
                     what="gradient of l2_penalty with respect to a weight")
        assert_close(fetch(k.bias.grad), wd * state["bias"], rtol=1e-5, atol=1e-7,
                     what="gradient of l2_penalty with respect to a bias")


def _run_sequences(submission, reference, mode, rng, n_sequences):
    for _ in range(n_sequences):
        patience = int(torch.randint(0, 4, (1,), generator=rng))
        min_delta = [0.0, 0.0, 0.25, 0.5][int(torch.randint(0, 4, (1,), generator=rng))]
        length = int(torch.randint(4, 12, (1,), generator=rng))
        # Multiples of 1/8: exact in floating point, with many ties and steps of exactly min_delta.
        metrics = [float(v) / 8 for v in torch.randint(0, 12, (length,), generator=rng)]
        mine = submission.EarlyStopping(patience, min_delta=min_delta, mode=mode)
        ref = reference.EarlyStopping(patience, min_delta=min_delta, mode=mode)
        what = f"EarlyStopping(mode={mode!r})"
        for epoch, m in enumerate(metrics):
            stop, expected_stop = mine.step(m), ref.step(m)
            assert type(stop) is bool, f"{what}.step() should return a bool"
            assert stop == expected_stop, (
                f"{what}.step() returns the wrong decision at epoch {epoch} (patience={patience}, min_delta={min_delta})")
            assert_float(mine.best, f"{what}.best")
            assert_close(mine.best, ref.best, rtol=0, atol=0, what=f"{what}.best at epoch {epoch}")
            assert_close(assert_int(mine.best_epoch, f"{what}.best_epoch"), ref.best_epoch,
                         what=f"{what}.best_epoch at epoch {epoch} (min_delta={min_delta})")
            assert_close(assert_int(mine.num_bad_epochs, f"{what}.num_bad_epochs"), ref.num_bad_epochs,
                         what=f"{what}.num_bad_epochs at epoch {epoch} (min_delta={min_delta})")


@pytest.mark.points(3)
def test_early_stopping_min_mode(submission, reference, rng):
    """mode="min": decisions, best, best_epoch and num_bad_epochs on random loss curves"""
    _run_sequences(submission, reference, "min", rng, 8)


@pytest.mark.points(2)
def test_early_stopping_max_mode(submission, reference, rng):
    """mode="max": decisions, best, best_epoch and num_bad_epochs on random accuracy curves"""
    _run_sequences(submission, reference, "max", rng, 8)


@pytest.mark.points(2)
def test_early_stopping_patience_and_min_delta(submission):
    """patience 0 stops at the first bad epoch; an improvement of exactly min_delta is not one"""
    es = submission.EarlyStopping(0)
    assert es.step(1.0) is False, "EarlyStopping(0) should not stop at the first epoch"
    assert es.step(0.5) is False, "EarlyStopping(0) should not stop on an improving epoch"
    assert es.step(0.5) is True, "EarlyStopping(0) should stop at the first epoch without improvement"
    es = submission.EarlyStopping(1, min_delta=0.25)
    assert es.step(1.0) is False, "EarlyStopping(1, min_delta) should not stop at the first epoch"
    assert es.step(0.75) is False, "EarlyStopping(1, min_delta) stopped after one bad epoch"
    assert es.best == 1.0, "an improvement of exactly min_delta should not update best"
    assert es.num_bad_epochs == 1, "an improvement of exactly min_delta should count as a bad epoch"
    assert es.step(0.5) is False, "EarlyStopping(1, min_delta): an improvement larger than min_delta should reset"
    assert es.best == 0.5 and es.best_epoch == 2, "best/best_epoch not updated after a real improvement"
    assert es.step(0.4) is False and es.step(0.3) is True, "EarlyStopping(1, min_delta) should stop after 2 bad epochs"


@pytest.mark.points(1)
def test_early_stopping_rejects_bad_arguments(submission):
    """a mode other than "min"/"max", or a negative patience or min_delta, raises ValueError"""
    for kwargs in ({"patience": 2, "mode": "maximize"}, {"patience": -1}, {"patience": 2, "min_delta": -0.1}):
        with pytest.raises(ValueError):
            submission.EarlyStopping(**kwargs)
