"""Hidden tests for q02_backprop (TwoLayerMLP with hand-written backpropagation)."""

import math

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_close, assert_float, fetch

NAMES = ("W1", "b1", "W2", "b2")


def random_params(n_in, hidden, n_cls, dtype, scale=1.0):
    W1 = torch.randn(n_in, hidden, dtype=dtype) * scale / math.sqrt(n_in)
    b1 = torch.randn(hidden, dtype=dtype) * 0.1
    W2 = torch.randn(hidden, n_cls, dtype=dtype) * scale / math.sqrt(hidden)
    b2 = torch.randn(n_cls, dtype=dtype) * 0.1
    return W1, b1, W2, b2


def autograd_grads(params, X, y):
    """Loss and gradients computed by torch's autograd (in the judge)."""
    leaves = [p.clone().requires_grad_(True) for p in params]
    W1, b1, W2, b2 = leaves
    logits = torch.relu(X @ W1 + b1) @ W2 + b2
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return float(loss), {n: p.grad for n, p in zip(NAMES, leaves)}


def rel_error(got, expected):
    return float((got - expected).norm() / expected.norm().clamp_min(1e-30))


def check_grads(grads, expected, what):
    assert type(grads) is dict, f"backward() should return a dict, got {type(grads).__name__}"
    assert set(grads) == set(NAMES), f"backward() should return the keys W1, b1, W2, b2, got {sorted(map(str, grads))}"
    for name in NAMES:
        g, e = grads[name], expected[name]
        assert type(g) is torch.Tensor, f"the gradient of {name} should be a torch.Tensor"
        assert g.shape == e.shape, f"the gradient of {name} has shape {tuple(g.shape)}, expected {tuple(e.shape)}"
        assert g.dtype == e.dtype, f"the gradient of {name} has dtype {g.dtype}, expected {e.dtype}"
        assert torch.isfinite(g).all(), f"the gradient of {name} has NaN or inf {what}"
        err = rel_error(g, e)
        assert err < 1e-7, f"the gradient of {name} differs from autograd's {what} (relative error {err:.2e})"


@pytest.mark.points(2)
def test_forward(submission, reference):
    """forward(X) returns the logits of Linear -> ReLU -> Linear (float32 and float64)"""
    for case, (n, d, h, c) in enumerate([(5, 3, 4, 2), (16, 7, 10, 5), (1, 4, 6, 3), (32, 12, 9, 4)]):
        dtype = torch.float32 if case % 2 == 0 else torch.float64
        params = random_params(d, h, c, dtype)
        X = torch.randn(n, d, dtype=dtype)
        model = submission.TwoLayerMLP(*params)
        expected = reference.TwoLayerMLP(*params).forward(X)
        assert_close(model.forward(X), expected, rtol=1e-5, atol=1e-6, what=f"forward() in {dtype}")


@pytest.mark.points(2)
def test_loss(submission):
    """loss(X, y) is the mean softmax cross-entropy, as a Python float"""
    for case, (n, d, h, c) in enumerate([(8, 3, 5, 3), (20, 6, 8, 4), (1, 2, 3, 2), (13, 5, 7, 6)]):
        dtype = torch.float64 if case % 2 == 0 else torch.float32
        params = random_params(d, h, c, dtype, scale=2.0)
        X = torch.randn(n, d, dtype=dtype)
        y = torch.randint(0, c, (n,))
        expected, _ = autograd_grads(params, X, y)
        got = assert_float(submission.TwoLayerMLP(*params).loss(X, y), "loss()")
        assert_close(got, expected, rtol=1e-5, atol=1e-6, what=f"loss() in {dtype}")


@pytest.mark.points(4)
def test_gradients_match_autograd(submission):
    """backward() gives the gradients of the last loss (float64, relative error below 1e-7)"""
    for n, d, h, c in [(10, 4, 6, 3), (32, 8, 16, 5), (1, 3, 4, 2), (25, 6, 5, 7), (64, 10, 12, 4)]:
        params = random_params(d, h, c, torch.float64, scale=1.5)
        X = torch.randn(n, d, dtype=torch.float64)
        y = torch.randint(0, c, (n,))
        model = submission.TwoLayerMLP(*params)
        model.loss(X, y)
        _, expected = autograd_grads(params, X, y)
        check_grads(model.backward(), expected, "on random inputs")


@pytest.mark.points(2)
def test_gradients_of_last_loss_call(submission):
    """backward() uses the most recent loss(X, y) call, not an earlier one"""
    params = random_params(5, 7, 3, torch.float64)
    X1, X2 = torch.randn(9, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    y1, y2 = torch.randint(0, 3, (9,)), torch.randint(0, 3, (6,))
    model = submission.TwoLayerMLP(*params)
    model.loss(X1, y1)
    model.loss(X2, y2)
    _, expected = autograd_grads(params, X2, y2)
    check_grads(model.backward(), expected, "after two loss() calls")


@pytest.mark.points(3)
def test_large_logits_are_stable(submission):
    """no NaN or inf when the logits are around 1e3: loss and gradients still exact"""
    for n, d, h, c in [(12, 4, 6, 3), (20, 5, 8, 4)]:
        W1, b1, W2, b2 = random_params(d, h, c, torch.float64)
        X = torch.randn(n, d, dtype=torch.float64)
        hidden = torch.relu(X @ W1 + b1)
        # Rescale the output layer so that logits reach about 1e3 in magnitude.
        scale = 1000.0 / float((hidden @ W2).abs().max())
        W2 = W2 * scale
        b2 = b2 * 100.0 + 900.0
        params = (W1, b1, W2, b2)
        y = torch.randint(0, c, (n,))
        expected_loss, expected = autograd_grads(params, X, y)
        model = submission.TwoLayerMLP(*params)
        got = assert_float(model.loss(X, y), "loss()")
        assert math.isfinite(got), "loss() is not finite when the logits are large (overflow in exp?)"
        assert_close(got, expected_loss, rtol=1e-7, atol=1e-7, what="loss() with large logits")
        check_grads(model.backward(), expected, "with large logits")


@pytest.mark.points(2)
def test_sgd_step_update(submission):
    """sgd_step(grads, lr) sets each parameter to p - lr * grads[p]"""
    params = random_params(4, 5, 3, torch.float64)
    grads = {n: torch.randn_like(p) for n, p in zip(NAMES, params)}
    model = submission.TwoLayerMLP(*params)
    result = model.sgd_step(grads, 0.3)
    assert result is None, "sgd_step() should return None (it updates the model in place)"
    X = torch.randn(7, 4, dtype=torch.float64)
    updated = [p - 0.3 * grads[n] for n, p in zip(NAMES, params)]
    expected = torch.relu(X @ updated[0] + updated[1]) @ updated[2] + updated[3]
    assert_close(model.forward(X), expected, rtol=1e-9, atol=1e-9, what="forward() after one sgd_step")
    model.sgd_step(grads, 0.1)
    updated = [p - 0.1 * grads[n] for n, p in zip(NAMES, updated)]
    expected = torch.relu(X @ updated[0] + updated[1]) @ updated[2] + updated[3]
    assert_close(model.forward(X), expected, rtol=1e-9, atol=1e-9, what="forward() after a second sgd_step")


@pytest.mark.points(3)
def test_training_lowers_loss(submission):
    """repeated loss/backward/sgd_step cycles fit a small labelled data set"""
    torch.manual_seed(12345)
    n, d, h, c = 120, 2, 16, 3
    centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = torch.arange(n) % c
    X = centers[y] + 0.5 * torch.randn(n, d)
    params = random_params(d, h, c, torch.float32)
    model = submission.TwoLayerMLP(*params)
    first = assert_float(model.loss(X, y), "loss()")
    losses = [first]
    for _ in range(60):
        model.sgd_step(model.backward(), 0.5)
        losses.append(assert_float(model.loss(X, y), "loss()"))
    last = losses[-1]
    assert math.isfinite(last), "the loss became NaN or inf during training"
    assert last < 0.3 * first, "60 SGD steps (lr 0.5) did not lower the loss enough"
    pred = model.forward(X).argmax(dim=1)
    acc = float((pred == y).float().mean())
    assert acc > 0.9, "after 60 SGD steps the model does not fit the training data"


def test_backward_before_loss(submission):
    """backward() before any loss() call raises RuntimeError"""
    model = submission.TwoLayerMLP(*random_params(3, 4, 2, torch.float64))
    with pytest.raises(RuntimeError):
        model.backward()
