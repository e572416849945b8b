import math

import torch

from grader.testing import assert_close

# Two tags, three steps; the transition 0 -> 1 is expensive.
EM = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
TR = torch.tensor([[0.0, -4.0], [0.0, 0.0]])
ST = torch.tensor([0.0, 0.5])
EN = torch.tensor([0.0, 0.0])


def test_viterbi_decode(submission):
    path, score = submission.viterbi_decode(EM, TR, ST, EN)
    # start in tag 1: 0.5 + 1 + 3 + 1 = 5.5 beats staying in tag 0 (2 + 0 + 1 = 3).
    assert path == [1, 1, 0], f"viterbi_decode path should be [1, 1, 0], got {path!r}"
    assert abs(score - 5.5) < 1e-5, f"viterbi_decode score should be 5.5, got {score!r}"


def test_log_partition_two_steps(submission):
    em = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    tr = torch.zeros(2, 2)
    zero = torch.zeros(2)
    # four paths with scores 1, 0, 2, 1: log Z = log(e + 1 + e^2 + e)
    expected = math.log(2 * math.e + 1 + math.e ** 2)
    got = submission.crf_log_partition(em, tr, zero, zero)
    assert_close(got, torch.tensor(expected), rtol=1e-5, what="crf_log_partition (0-dim tensor)", reveal=True)
    nll = submission.crf_nll(em, torch.tensor([1, 0]), tr, zero, zero)
    assert_close(nll, torch.tensor(expected - 2.0), rtol=1e-5, what="crf_nll of tags [1, 0]", reveal=True)


def test_bio_to_spans(submission):
    tags = ["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]
    expected = [("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 5), ("ORG", 5, 6)]
    got = submission.bio_to_spans(tags)
    assert got == expected, f"bio_to_spans({tags}) should be {expected}, got {got!r}"


def test_span_f1(submission):
    true = ["B-PER", "I-PER", "O", "B-LOC"]
    pred = ["B-PER", "I-PER", "O", "B-ORG"]
    got = submission.span_f1(true, pred)
    expected = {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert_close(got, expected, what=f"span_f1({true}, {pred})", reveal=True)
