"""Hidden tests for q18_loss_functions: values and gradients against torch.nn.functional on seeded
random inputs, every reduction, ignore_index, label smoothing, pos_weight and logits at +-1e4."""

import random

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_close, fetch, keep

REDUCTIONS = ("mean", "sum", "none")
TOL = dict(rtol=1e-4, atol=1e-5)
# At +-1e4 the float32 spacing is ~1e-3, so softmax probabilities carry rounding of that order.
TOL_EXTREME = dict(rtol=1e-3, atol=2e-3)


def shape():
    return tuple(random.randint(1, 6) for _ in range(random.randint(1, 3)))


def classification(n=None, c=None, scale=3.0):
    n = n or random.randint(1, 12)
    c = c or random.randint(2, 7)
    return torch.randn(n, c) * scale, torch.randint(0, c, (n,))


def log_probs(shape_):
    return torch.log_softmax(torch.randn(shape_) * 2, dim=-1)


def check_gradients(submission, remote, name, args, kwargs, peer, wrt, what, tol=TOL):
    """Backpropagate sum(loss * w) (w random) through the candidate's loss in the worker and through
    the peer in the judge; compare the loss and the gradients of the arguments listed in ``wrt``."""
    local = [a.clone().requires_grad_(True) if i in wrt else a for i, a in enumerate(args)]
    expected = peer(*local, **kwargs)
    weight = torch.rand(expected.shape) + 0.5
    (expected * weight).sum().backward()

    # Leaf tensors with requires_grad=True, made in the worker (values cannot carry autograd state).
    remote_args = [remote.construct("torch.nn.Parameter", a) if i in wrt else a for i, a in enumerate(args)]
    loss = getattr(keep(submission), name)(*remote_args, **kwargs)
    loss.mul(weight).sum().backward()
    assert_close(fetch(loss), expected.detach(), what=f"{what}: the loss", **tol)
    for i in wrt:
        grad = fetch(keep(remote_args[i]).grad)
        assert grad is not None, f"{what}: no gradient reached argument {i} (is the graph cut, e.g. by .item() or .detach()?)"
        assert_close(grad, local[i].grad, what=f"{what}: the gradient of argument {i}", **tol)


@pytest.mark.points(2)
def test_mse_mae(submission):
    """mse and mae equal F.mse_loss and F.l1_loss for every reduction"""
    for _ in range(5):
        s = shape()
        pred, target = torch.randn(s) * 3, torch.randn(s) * 3
        for r in REDUCTIONS:
            assert_close(submission.mse(pred, target, reduction=r), F.mse_loss(pred, target, reduction=r),
                         what=f"mse(reduction={r!r})", **TOL)
            assert_close(submission.mae(pred, target, reduction=r), F.l1_loss(pred, target, reduction=r),
                         what=f"mae(reduction={r!r})", **TOL)
    pred = torch.randn(5)
    assert_close(submission.mse(pred, pred.clone()), torch.tensor(0.0), what="mse with the default reduction")


@pytest.mark.points(2)
def test_huber(submission):
    """huber equals F.huber_loss for several deltas and every reduction"""
    for i in range(6):
        s = shape()
        pred, target = torch.randn(s) * 3, torch.randn(s) * 3
        delta = (1.0, 0.3, 2.5)[i % 3]
        for r in REDUCTIONS:
            assert_close(submission.huber(pred, target, delta=delta, reduction=r),
                         F.huber_loss(pred, target, delta=delta, reduction=r),
                         what=f"huber(delta={delta}, reduction={r!r})", **TOL)
    pred, target = torch.randn(6) * 3, torch.randn(6) * 3
    assert_close(submission.huber(pred, target), F.huber_loss(pred, target), what="huber with the default arguments",
                 **TOL)


@pytest.mark.points(2)
def test_cross_entropy(submission):
    """cross_entropy equals F.cross_entropy for every reduction"""
    for _ in range(10):
        logits, target = classification()
        for r in REDUCTIONS:
            assert_close(submission.cross_entropy(logits, target, reduction=r),
                         F.cross_entropy(logits, target, reduction=r), what=f"cross_entropy(reduction={r!r})", **TOL)


@pytest.mark.points(2)
def test_cross_entropy_ignore_index(submission):
    """cross_entropy skips ignore_index targets and averages over the others only"""
    for i in range(10):
        logits, target = classification(n=random.randint(3, 12))
        ignore = -100 if i % 2 == 0 else int(target[0])
        target[torch.rand(len(target)) < 0.4] = ignore
        target[0] = ignore
        for r in REDUCTIONS:
            assert_close(submission.cross_entropy(logits, target, ignore_index=ignore, reduction=r),
                         F.cross_entropy(logits, target, ignore_index=ignore, reduction=r),
                         what=f"cross_entropy with ignored targets (reduction={r!r})", **TOL)
    logits, target = classification(n=4)
    target[:] = -100
    got = submission.cross_entropy(logits, target)
    assert_close(got, torch.tensor(float("nan")), what="cross_entropy(reduction='mean') when every target is ignored")


@pytest.mark.points(2)
def test_cross_entropy_label_smoothing(submission):
    """cross_entropy with label_smoothing, alone and together with ignore_index"""
    for i in range(10):
        logits, target = classification(n=random.randint(3, 12))
        eps = random.choice([0.1, 0.25, 0.5, 1.0])
        if i % 2:
            target[torch.rand(len(target)) < 0.3] = -100
            target[0] = -100
        for r in REDUCTIONS:
            assert_close(submission.cross_entropy(logits, target, label_smoothing=eps, reduction=r),
                         F.cross_entropy(logits, target, label_smoothing=eps, reduction=r),
                         what=f"cross_entropy(label_smoothing>0, reduction={r!r})"
                              + (" with ignored targets" if i % 2 else ""), **TOL)


@pytest.mark.points(2)
def test_bce_with_logits(submission):
    """binary_cross_entropy_with_logits equals torch's, with and without pos_weight, soft targets too"""
    for i in range(6):
        n, c = random.randint(1, 8), random.randint(1, 5)
        logits = torch.randn(n, c) * 4
        target = torch.randint(0, 2, (n, c)).float() if i % 2 else torch.rand(n, c)
        pos_weight = torch.rand(c) * 3 + 0.1
        for r in REDUCTIONS:
            assert_close(submission.binary_cross_entropy_with_logits(logits, target, reduction=r),
                         F.binary_cross_entropy_with_logits(logits, target, reduction=r),
                         what=f"binary_cross_entropy_with_logits(reduction={r!r})", **TOL)
            assert_close(submission.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction=r),
                         F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction=r),
                         what=f"binary_cross_entropy_with_logits(pos_weight=..., reduction={r!r})", **TOL)


@pytest.mark.points(2)
def test_multiclass_hinge(submission):
    """multiclass_hinge equals F.multi_margin_loss (p=1) for several margins and every reduction"""
    for i in range(6):
        logits, target = classification(scale=1.0)
        margin = (1.0, 0.5, 2.0)[i % 3]
        for r in REDUCTIONS:
            assert_close(submission.multiclass_hinge(logits, target, margin=margin, reduction=r),
                         F.multi_margin_loss(logits, target, p=1, margin=margin, reduction=r),
                         what=f"multiclass_hinge(margin={margin}, reduction={r!r})", **TOL)


@pytest.mark.points(2)
def test_kl_divergence(submission):
    """kl_divergence is the pointwise KL(p || q); 'mean' averages every element"""
    for _ in range(10):
        s = shape() + (random.randint(2, 6),)
        log_p, log_q = log_probs(s), log_probs(s)
        for r in REDUCTIONS:
            assert_close(submission.kl_divergence(log_p, log_q, reduction=r),
                         F.kl_div(log_q, log_p, reduction=r, log_target=True),
                         what=f"kl_divergence(reduction={r!r})", **TOL)
    log_p = log_probs((3, 4))
    assert_close(submission.kl_divergence(log_p, log_p.clone()), torch.tensor(0.0), what="kl_divergence of p with itself")


@pytest.mark.points(3)
def test_gradients(submission, remote):
    """gradients of every loss (every reduction) equal those of torch.nn.functional"""
    for r in REDUCTIONS:
        s = shape()
        pred, target = torch.randn(s) * 3, torch.randn(s) * 3
        check_gradients(submission, remote, "mse", (pred, target), {"reduction": r}, F.mse_loss, (0, 1), f"mse({r!r})")
        check_gradients(submission, remote, "mae", (pred, target), {"reduction": r}, F.l1_loss, (0, 1), f"mae({r!r})")
        check_gradients(submission, remote, "huber", (pred, target), {"delta": 1.5, "reduction": r}, F.huber_loss, (0, 1),
                        f"huber({r!r})")
        logits, labels = classification(n=6)
        labels[1] = -100
        check_gradients(submission, remote, "cross_entropy", (logits, labels), {"label_smoothing": 0.2, "reduction": r},
                        F.cross_entropy, (0,), f"cross_entropy({r!r})")
        logits, soft = torch.randn(4, 3) * 3, torch.rand(4, 3)
        check_gradients(submission, remote, "binary_cross_entropy_with_logits", (logits, soft, torch.rand(3) + 0.5),
                        {"reduction": r},
                        lambda x, y, w, reduction: F.binary_cross_entropy_with_logits(x, y, pos_weight=w, reduction=reduction),
                        (0,), f"binary_cross_entropy_with_logits({r!r})")
        logits, labels = classification(n=6, scale=1.0)
        check_gradients(submission, remote, "multiclass_hinge", (logits, labels), {"reduction": r},
                        lambda x, y, reduction: F.multi_margin_loss(x, y, reduction=reduction), (0,),
                        f"multiclass_hinge({r!r})")
        log_p, log_q = log_probs((3, 5)), log_probs((3, 5))
        check_gradients(submission, remote, "kl_divergence", (log_p, log_q), {"reduction": r},
                        lambda lp, lq, reduction: F.kl_div(lq, lp, reduction=reduction, log_target=True), (0, 1),
                        f"kl_divergence({r!r})")


@pytest.mark.points(2)
def test_extreme_logits(submission, remote):
    """cross_entropy and binary_cross_entropy_with_logits stay finite and exact at logits of +-1e4"""
    for i in range(3):
        logits, labels = classification(n=5, c=4, scale=1.0)
        logits = torch.where(torch.rand(5, 4) < 0.5, 1e4, -1e4) + logits
        for r in ("mean", "none"):
            check_gradients(submission, remote, "cross_entropy", (logits, labels), {"reduction": r, "label_smoothing": 0.1 * (i % 2)},
                            F.cross_entropy, (0,), f"cross_entropy at logits +-1e4 ({r!r})", tol=TOL_EXTREME)
            x = torch.where(torch.rand(6) < 0.5, 1e4, -1e4) + torch.randn(6)
            y = torch.randint(0, 2, (6,)).float()
            check_gradients(submission, remote, "binary_cross_entropy_with_logits", (x, y), {"reduction": r},
                            F.binary_cross_entropy_with_logits, (0,),
                            f"binary_cross_entropy_with_logits at logits +-1e4 ({r!r})", tol=TOL_EXTREME)
