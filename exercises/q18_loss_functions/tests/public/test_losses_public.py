"""Public tests for q18_loss_functions: small hand-computed examples (run them with `grader check`)."""

import math

import torch

from grader.testing import assert_close

TOL = dict(rtol=1e-4, atol=1e-5, reveal=True)


def test_regression_losses(submission):
    """mse, mae and huber on a 3-element example, every reduction"""
    pred, target = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.5, 2.0, 1.0])  # differences -0.5, 0, 3
    assert_close(submission.mse(pred, target), torch.tensor((0.25 + 0 + 9) / 3), what="mse, mean", **TOL)
    assert_close(submission.mae(pred, target, reduction="sum"), torch.tensor(3.5), what="mae, sum", **TOL)
    # huber, delta=1: 0.5*0.25 = 0.125 (quadratic), 0, 1*(3 - 0.5) = 2.5 (linear)
    assert_close(submission.huber(pred, target, reduction="none"), torch.tensor([0.125, 0.0, 2.5]),
                 what="huber, delta=1, none", **TOL)
    # huber, delta=2: 0.125, 0, 2*(3 - 1) = 4
    assert_close(submission.huber(pred, target, delta=2.0, reduction="sum"), torch.tensor(4.125),
                 what="huber, delta=2, sum", **TOL)


def test_cross_entropy(submission):
    """cross_entropy with ignore_index, label smoothing, and huge logits"""
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([0, 2])
    lse0 = math.log(math.exp(2) + 2)
    row0, row1 = lse0 - 2.0, math.log(3)
    assert_close(submission.cross_entropy(logits, target, reduction="none"), torch.tensor([row0, row1]),
                 what="cross_entropy, none", **TOL)
    # The second sample is ignored: "mean" is over the first sample only; "none" gives 0 there.
    ignored = torch.tensor([0, -100])
    assert_close(submission.cross_entropy(logits, ignored), torch.tensor(row0), what="cross_entropy, ignored target",
                 **TOL)
    assert_close(submission.cross_entropy(logits, ignored, reduction="none"), torch.tensor([row0, 0.0]),
                 what="cross_entropy, ignored target, none", **TOL)
    # label_smoothing=0.3: target distribution 0.7 one-hot + 0.1 on each class.
    smooth0 = 0.7 * row0 + 0.1 * (3 * lse0 - 2.0)
    assert_close(submission.cross_entropy(logits[:1], target[:1], label_smoothing=0.3), torch.tensor(smooth0),
                 what="cross_entropy, label_smoothing=0.3", **TOL)
    huge = torch.tensor([[1e4, -1e4], [-1e4, 1e4]])
    assert_close(submission.cross_entropy(huge, torch.tensor([0, 0]), reduction="sum"), torch.tensor(2e4),
                 what="cross_entropy at logits +-1e4 (must not overflow)", **TOL)


def test_other_losses(submission):
    """binary_cross_entropy_with_logits, multiclass_hinge and kl_divergence on small examples"""
    x, y = torch.tensor([0.0, 1e4, -1e4]), torch.tensor([1.0, 0.0, 0.0])
    assert_close(submission.binary_cross_entropy_with_logits(x, y, reduction="none"),
                 torch.tensor([math.log(2), 1e4, 0.0]), what="binary_cross_entropy_with_logits, none", **TOL)
    assert_close(submission.binary_cross_entropy_with_logits(x[:1], y[:1], pos_weight=torch.tensor([3.0])),
                 torch.tensor(3 * math.log(2)), what="binary_cross_entropy_with_logits, pos_weight=3", **TOL)
    logits = torch.tensor([[0.5, 1.0, -1.0]])
    # target 0: max(0, 1 - 0.5 + 1.0) + max(0, 1 - 0.5 - 1.0) = 1.5 + 0, divided by C=3
    assert_close(submission.multiclass_hinge(logits, torch.tensor([0])), torch.tensor(0.5),
                 what="multiclass_hinge", **TOL)
    log_p = torch.log(torch.tensor([[0.5, 0.5]]))
    log_q = torch.log(torch.tensor([[0.25, 0.75]]))
    kl = torch.tensor([[0.5 * math.log(2), 0.5 * math.log(2 / 3)]])
    assert_close(submission.kl_divergence(log_p, log_q, reduction="none"), kl, what="kl_divergence, none", **TOL)
    assert_close(submission.kl_divergence(log_p, log_q), kl.mean(), what="kl_divergence, mean", **TOL)
