import torch

from grader.testing import assert_close


def test_mean_std_and_normalize(submission):
    x = torch.tensor([[[[0.0, 2.0]], [[1.0, 1.0]]], [[[4.0, 6.0]], [[3.0, 3.0]]]])   # [2, 2, 1, 2]
    mean, std = submission.compute_mean_std(x)
    assert_close(mean, torch.tensor([3.0, 2.0]), what="mean", reveal=True)
    assert_close(std, torch.tensor([2.23606797, 1.0]), what="population std", reveal=True)
    y = submission.normalize(x, torch.tensor([3.0, 2.0]), torch.tensor([2.0, 1.0]))
    assert_close(y[0, :, 0, 0], torch.tensor([-1.5, -1.0]), what="normalize(x)[0, :, 0, 0]", reveal=True)


def test_stratified_split(submission):
    labels = torch.tensor([0] * 10 + [1] * 20)
    train, val, test = submission.stratified_split(labels, (0.8, 0.1, 0.1), seed=0)
    counts = [(int((labels[p] == 0).sum()), int((labels[p] == 1).sum())) for p in (train, val, test)]
    assert counts == [(8, 16), (1, 2), (1, 2)], f"per-class counts (train, val, test) should be [(8, 16), (1, 2), (1, 2)], got {counts}"
    assert sorted(torch.cat([train, val, test]).tolist()) == list(range(30)), "the splits should cover every index once"


def test_random_flip_crop_without_padding(submission):
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = submission.random_flip_crop(x, 4, 0, torch.Generator().manual_seed(0))
    ok = torch.equal(out, x) or torch.equal(out, x.flip(-1))
    assert ok, f"a full-size crop without padding must be the image or its horizontal flip, got {out}"


def test_topk_accuracy(submission):
    logits = torch.tensor([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.9, 0.05, 0.05]])
    labels = torch.tensor([2, 0, 1])
    got = submission.topk_accuracy(logits, labels, ks=(1, 2))
    # one class scores strictly higher than the true class in every sample (ties with the true
    # class count in its favour): none is top-1, all are top-2.
    assert_close(got, {1: 0.0, 2: 1.0}, what="topk_accuracy(logits, labels, ks=(1, 2))", reveal=True)
