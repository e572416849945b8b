"""Hidden tests for q01_eval_metrics: differential against the reference on seeded random labels,
plus every edge case of the catalogue (union of labels, zero_division, ties, single class, nan)."""

import math
import random

import pytest
import torch

from grader.testing import assert_close, assert_float

AVERAGES = ("micro", "macro", "weighted")


def random_labels(n: int, k: int, noise: float = 0.4, pred_classes: int | None = None):
    """Labels in [0, k) and predictions that copy them except for a random fraction ``noise``."""
    y = torch.randint(0, k, (n,))
    wrong = torch.rand(n) < noise
    p = torch.where(wrong, torch.randint(0, pred_classes or k, (n,)), y)
    return y, p


def multiclass_cases(count: int = 25):
    """Random multi-class cases; some have labels that only appear in y_pred or only in y_true."""
    for i in range(count):
        k = random.randint(3, 6)
        n = random.randint(6, 80)
        if i % 3 == 0:    # a predicted label that never occurs in y_true
            y, p = random_labels(n, k - 1, noise=0.5, pred_classes=k)
            p[random.randrange(n)] = k - 1
        elif i % 3 == 1:  # a true label that is never predicted
            y, p = random_labels(n, k, noise=0.5, pred_classes=k - 1)
            p[p == k - 1] = 0
            y[random.randrange(n)] = k - 1
        else:
            y, p = random_labels(n, k, noise=random.random())
        yield y, p


def binary_cases(count: int = 25):
    for _ in range(count):
        n = random.randint(4, 60)
        yield random_labels(n, 2, noise=random.random())


@pytest.mark.points(2)
def test_confusion_matrix(submission, reference):
    """confusion_matrix: rows are true labels, columns predictions, int64, default size max label + 1"""
    for y, p in list(multiclass_cases(15)) + list(binary_cases(5)):
        got = submission.confusion_matrix(y, p)
        assert_close(got, reference.confusion_matrix(y, p), what="confusion_matrix with the default size")
        k = int(torch.cat([y, p]).max()) + 1 + random.randint(0, 3)
        assert_close(submission.confusion_matrix(y, p, num_classes=k), reference.confusion_matrix(y, p, num_classes=k),
                     what="confusion_matrix with num_classes larger than the labels")


@pytest.mark.points(2)
def test_accuracy_and_error_rate(submission, reference):
    """accuracy and error_rate match the reference and are Python floats"""
    for y, p in list(multiclass_cases(12)) + list(binary_cases(8)):
        assert_close(submission.accuracy(y, p), reference.accuracy(y, p), what="accuracy")
        assert_close(submission.error_rate(y, p), reference.error_rate(y, p), what="error_rate")
    y = torch.tensor([3, 1, 2])
    assert_close(submission.accuracy(y, y.clone()), 1.0, what="accuracy of perfect predictions")
    assert_close(submission.error_rate(y, y.clone()), 0.0, what="error_rate of perfect predictions")


@pytest.mark.points(1)
def test_empty_input_raises(submission):
    """accuracy and error_rate raise ValueError on empty input"""
    empty = torch.tensor([], dtype=torch.long)
    with pytest.raises(ValueError):
        submission.accuracy(empty, empty.clone())
    with pytest.raises(ValueError):
        submission.error_rate(empty, empty.clone())


@pytest.mark.points(2)
def test_binary_average(submission, reference):
    """average='binary' scores pos_label only (pos_label=1 and pos_label=0)"""
    for y, p in binary_cases(20):
        for pos_label in (1, 0):
            got = submission.precision_recall_f1(y, p, average="binary", pos_label=pos_label)
            assert_close(got, reference.precision_recall_f1(y, p, average="binary", pos_label=pos_label),
                         what=f"precision_recall_f1(average='binary', pos_label={pos_label})")
    y, p = torch.tensor([0, 1, 1, 0, 1, 0]), torch.tensor([0, 1, 0, 0, 1, 1])
    assert_close(submission.precision_recall_f1(y, p), reference.precision_recall_f1(y, p),
                 what="precision_recall_f1 with the default arguments")


@pytest.mark.points(1)
def test_micro_average(submission, reference):
    """average='micro' pools the counts of every label"""
    for y, p in list(multiclass_cases(12)) + list(binary_cases(4)):
        assert_close(submission.precision_recall_f1(y, p, average="micro"),
                     reference.precision_recall_f1(y, p, average="micro"), what="precision_recall_f1(average='micro')")


@pytest.mark.points(2)
def test_macro_average(submission, reference):
    """average='macro' is the plain mean over the union of labels in y_true and y_pred"""
    for y, p in list(multiclass_cases(18)) + list(binary_cases(4)):
        assert_close(submission.precision_recall_f1(y, p, average="macro"),
                     reference.precision_recall_f1(y, p, average="macro"), what="precision_recall_f1(average='macro')")


@pytest.mark.points(2)
def test_weighted_average(submission, reference):
    """average='weighted' weights each label by its support in y_true"""
    for y, p in list(multiclass_cases(18)) + list(binary_cases(4)):
        assert_close(submission.precision_recall_f1(y, p, average="weighted"),
                     reference.precision_recall_f1(y, p, average="weighted"),
                     what="precision_recall_f1(average='weighted')")


@pytest.mark.points(2)
def test_zero_division(submission, reference):
    """zero_division (0.0 and 1.0) replaces every 0/0 ratio, per label and overall"""
    cases = []
    # Per-label 0/0: labels that are never predicted, or never true.
    cases += list(multiclass_cases(6))
    # Overall 0/0 in binary mode: the positive class occurs nowhere, or is never predicted.
    for _ in range(3):
        n = random.randint(3, 20)
        cases.append((torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long)))
        y = torch.randint(0, 2, (n,))
        y[0] = 1
        cases.append((y, torch.zeros(n, dtype=torch.long)))
    for y, p in cases:
        binary = int(torch.cat([y, p]).max()) <= 1
        for zd in (0.0, 1.0):
            for average in (("binary",) if binary else ()) + AVERAGES:
                assert_close(submission.precision_recall_f1(y, p, average=average, zero_division=zd),
                             reference.precision_recall_f1(y, p, average=average, zero_division=zd),
                             what=f"precision_recall_f1(average={average!r}, zero_division={zd})")


@pytest.mark.points(1)
def test_binary_rejects_multiclass(submission):
    """average='binary' raises ValueError when there are more than 2 labels"""
    for y, p in multiclass_cases(3):
        y = y.clone()
        y[:3] = torch.tensor([0, 1, 2])
        with pytest.raises(ValueError):
            submission.precision_recall_f1(y, p, average="binary")
    # Three labels in total, but only two in each of y_true and y_pred.
    with pytest.raises(ValueError):
        submission.precision_recall_f1(torch.tensor([0, 1, 0, 1]), torch.tensor([0, 2, 0, 2]))


@pytest.mark.points(2)
def test_roc_auc(submission, reference):
    """roc_auc on continuous scores, 0/1 labels and other label values"""
    for i in range(20):
        n = random.randint(4, 80)
        y = torch.randint(0, 2, (n,))
        y[0], y[1] = 0, 1
        scores = torch.randn(n) + random.uniform(0, 2) * y
        if i % 4 == 3:  # other label values: the larger one is the positive class
            y = torch.where(y == 1, 7, -2)
        assert_close(submission.roc_auc(y, scores), reference.roc_auc(y, scores), what="roc_auc")
    y = torch.tensor([0, 1, 0, 1])
    assert_close(submission.roc_auc(y, torch.tensor([0.9, 0.1, 0.8, 0.2])), 0.0, what="roc_auc of inverted scores")


@pytest.mark.points(2)
def test_roc_auc_tied_scores(submission, reference):
    """roc_auc counts a tied (positive, negative) pair as one half"""
    for i in range(20):
        n = random.randint(4, 80)
        y = torch.randint(0, 2, (n,))
        y[0], y[1] = 0, 1
        scores = torch.randint(0, random.randint(2, 5), (n,)).float() / 4 + 0.5 * y * random.random()
        scores = torch.round(scores * 4) / 4  # coarse grid: many ties, within and across classes
        if i % 4 == 3:
            y = torch.where(y == 1, 5, 3)
        assert_close(submission.roc_auc(y, scores), reference.roc_auc(y, scores), what="roc_auc with tied scores")
    y = torch.tensor([1, 0, 1, 0, 0])
    assert_close(submission.roc_auc(y, torch.full((5,), 0.3)), 0.5, what="roc_auc with all scores equal")


@pytest.mark.points(1)
def test_roc_auc_single_class(submission):
    """roc_auc raises ValueError when y_true holds a single class"""
    for label in (0, 1, 4):
        n = random.randint(2, 20)
        with pytest.raises(ValueError):
            submission.roc_auc(torch.full((n,), label), torch.rand(n))


@pytest.mark.points(2)
def test_cohen_kappa(submission, reference):
    """cohen_kappa matches the reference on binary and multi-class cases"""
    for y, p in list(multiclass_cases(15)) + list(binary_cases(8)):
        assert_close(submission.cohen_kappa(y, p), reference.cohen_kappa(y, p), what="cohen_kappa")
    y = torch.tensor([0, 2, 1, 2])
    assert_close(submission.cohen_kappa(y, y.clone()), 1.0, what="cohen_kappa of identical labelings")


@pytest.mark.points(1)
def test_cohen_kappa_undefined(submission):
    """cohen_kappa returns nan when both labelings use one same label (pe == 1)"""
    for label in (0, 1, 3):
        n = random.randint(2, 15)
        y = torch.full((n,), label)
        got = assert_float(submission.cohen_kappa(y, y.clone()), what="cohen_kappa when undefined")
        assert math.isnan(got), "cohen_kappa should be nan when the chance agreement pe is 1"
