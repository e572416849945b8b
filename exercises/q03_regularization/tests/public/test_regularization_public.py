"""Public tests for q03_regularization: small explicit examples."""

import pytest
import torch

from grader.testing import assert_close


def test_dropout_eval_is_identity(submission):
    x = torch.tensor([[1.0, -2.0, 3.0]])
    got = submission.dropout(x, 0.5, False)
    assert_close(got, x, what="dropout([[1, -2, 3]], p=0.5, training=False)", reveal=True)


def test_dropout_values_and_bad_p(submission):
    x = torch.ones(10, 10)
    out = submission.dropout(x, 0.75, True, torch.Generator().manual_seed(0))
    values = set(out.flatten().tolist())
    assert values <= {0.0, 4.0}, f"dropout(ones, p=0.75, training=True) should contain only 0 and 1/(1-0.75) = 4, got {sorted(values)}"
    with pytest.raises(ValueError):
        submission.dropout(x, 1.0, True)


def test_l2_penalty(submission):
    params = [torch.tensor([[1.0, 2.0]]), torch.tensor([3.0])]
    got = submission.l2_penalty(params, 0.1)
    # 0.1 / 2 * (1 + 4 + 9) = 0.7
    assert_close(got, torch.tensor(0.7), what="l2_penalty([[1, 2]], [3]; wd=0.1)", reveal=True)


def test_early_stopping(submission):
    es = submission.EarlyStopping(patience=2)
    decisions = [es.step(v) for v in [1.0, 0.8, 0.9, 0.85, 0.8]]
    # epoch 0 and 1 improve; epochs 2, 3, 4 are bad (0.8 does not beat 0.8); stop after 3 > 2 bad epochs
    assert decisions == [False, False, False, False, True], f"step() decisions: expected [F, F, F, F, T], got {decisions}"
    assert (es.best, es.best_epoch, es.num_bad_epochs) == (0.8, 1, 3), (
        f"(best, best_epoch, num_bad_epochs) should be (0.8, 1, 3), got {(es.best, es.best_epoch, es.num_bad_epochs)}")
