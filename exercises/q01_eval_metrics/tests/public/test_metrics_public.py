"""Public tests for q01_eval_metrics: small hand-checked examples (run them with `grader check`)."""

import math

import pytest
import torch

from grader.testing import assert_close

Y_TRUE = torch.tensor([0, 1, 1, 0, 2])
Y_PRED = torch.tensor([0, 1, 0, 0, 1])


def test_confusion_matrix_and_accuracy(submission):
    """confusion_matrix, accuracy and error_rate on a 5-sample, 3-class example"""
    cm = submission.confusion_matrix(Y_TRUE, Y_PRED)
    expected = torch.tensor([[2, 0, 0], [1, 1, 0], [0, 1, 0]])
    assert_close(cm, expected, what="confusion_matrix([0,1,1,0,2], [0,1,0,0,1])", reveal=True)
    cm4 = submission.confusion_matrix(Y_TRUE, Y_PRED, num_classes=4)
    assert_close(cm4, torch.nn.functional.pad(expected, (0, 1, 0, 1)), what="confusion_matrix(..., num_classes=4)",
                 reveal=True)
    assert_close(submission.accuracy(Y_TRUE, Y_PRED), 0.6, what="accuracy([0,1,1,0,2], [0,1,0,0,1])", reveal=True)
    assert_close(submission.error_rate(Y_TRUE, Y_PRED), 0.4, what="error_rate([0,1,1,0,2], [0,1,0,0,1])", reveal=True)
    with pytest.raises(ValueError):
        submission.accuracy(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))


def test_precision_recall_f1(submission):
    """precision_recall_f1 in every average mode on small examples"""
    y, p = torch.tensor([1, 1, 0, 0, 1]), torch.tensor([1, 0, 0, 1, 1])
    # TP=2, FP=1, FN=1 for the positive class 1.
    assert_close(submission.precision_recall_f1(y, p), (2 / 3, 2 / 3, 2 / 3),
                 what="precision_recall_f1([1,1,0,0,1], [1,0,0,1,1]) (binary)", reveal=True)
    # Class 2 is never predicted: its precision is 0/0 -> zero_division.
    expected_macro = ((2 / 3 + 1 / 2 + 0.0) / 3, (1.0 + 0.5 + 0.0) / 3, (0.8 + 0.5 + 0.0) / 3)
    assert_close(submission.precision_recall_f1(Y_TRUE, Y_PRED, average="macro"), expected_macro,
                 what="precision_recall_f1([0,1,1,0,2], [0,1,0,0,1], average='macro')", reveal=True)
    expected_macro_zd1 = ((2 / 3 + 1 / 2 + 1.0) / 3, (1.0 + 0.5 + 0.0) / 3, (0.8 + 0.5 + 0.0) / 3)
    assert_close(submission.precision_recall_f1(Y_TRUE, Y_PRED, average="macro", zero_division=1.0),
                 expected_macro_zd1, what="... average='macro', zero_division=1.0", reveal=True)
    assert_close(submission.precision_recall_f1(Y_TRUE, Y_PRED, average="micro"), (0.6, 0.6, 0.6),
                 what="precision_recall_f1([0,1,1,0,2], [0,1,0,0,1], average='micro')", reveal=True)
    expected_weighted = ((2 * 2 / 3 + 2 * 1 / 2 + 0.0) / 5, (2 * 1.0 + 2 * 0.5 + 0.0) / 5, (2 * 0.8 + 2 * 0.5) / 5)
    assert_close(submission.precision_recall_f1(Y_TRUE, Y_PRED, average="weighted"), expected_weighted,
                 what="precision_recall_f1([0,1,1,0,2], [0,1,0,0,1], average='weighted')", reveal=True)
    with pytest.raises(ValueError):
        submission.precision_recall_f1(Y_TRUE, Y_PRED, average="binary")


def test_roc_auc_and_kappa(submission):
    """roc_auc (with a tie) and cohen_kappa on small examples"""
    y = torch.tensor([0, 0, 1, 1])
    assert_close(submission.roc_auc(y, torch.tensor([0.1, 0.4, 0.35, 0.8])), 0.75,
                 what="roc_auc([0,0,1,1], [0.1,0.4,0.35,0.8])", reveal=True)
    # The pair (0.4 negative, 0.4 positive) is tied and counts 1/2: (3 + 0.5) / 4.
    assert_close(submission.roc_auc(y, torch.tensor([0.1, 0.4, 0.4, 0.8])), 0.875,
                 what="roc_auc([0,0,1,1], [0.1,0.4,0.4,0.8])", reveal=True)
    with pytest.raises(ValueError):
        submission.roc_auc(torch.tensor([1, 1, 1]), torch.tensor([0.2, 0.5, 0.9]))
    # po = 0.6, pe = (2*3 + 2*2 + 1*0) / 25 = 0.4, kappa = 0.2 / 0.6.
    assert_close(submission.cohen_kappa(Y_TRUE, Y_PRED), 1 / 3, what="cohen_kappa([0,1,1,0,2], [0,1,0,0,1])",
                 reveal=True)
    got = submission.cohen_kappa(torch.tensor([2, 2, 2]), torch.tensor([2, 2, 2]))
    assert type(got) is float and math.isnan(got), f"cohen_kappa([2,2,2], [2,2,2]) should be nan, got {got!r}"
