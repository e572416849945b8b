import random

import pytest
import torch

from grader.testing import assert_close


@pytest.mark.points(2)
def test_mean_std(submission, reference):
    """compute_mean_std: per-channel mean and population std"""
    for _ in range(6):
        x = torch.rand(random.randint(1, 8), random.randint(1, 4), random.randint(1, 9), random.randint(1, 9)) * 3 + 1
        x0 = x.clone()
        mean, std = reference.compute_mean_std(x)
        got = submission.compute_mean_std(x)
        assert type(got) is tuple and len(got) == 2, "compute_mean_std should return a (mean, std) tuple"
        assert_close(got[0], mean, rtol=1e-4, atol=1e-5, what="the per-channel mean")
        assert_close(got[1], std, rtol=1e-4, atol=1e-5, what="the per-channel std")
        assert torch.equal(x, x0), "compute_mean_std modified its input"


@pytest.mark.points(1)
def test_normalize(submission, reference):
    """normalize: per-channel (x - mean) / std, batched and single images"""
    for shape in [(4, 3, 5, 6), (3, 7, 2), (2, 1, 4, 4)]:
        x = torch.randn(*shape)
        c = shape[-3]
        mean, std = torch.randn(c), torch.rand(c) + 0.5
        assert_close(submission.normalize(x, mean, std), reference.normalize(x, mean, std), rtol=1e-5, atol=1e-5,
                     what=f"normalize of a {len(shape)}-d input")


def check_split(parts, labels, fractions, what):
    assert type(parts) is tuple and len(parts) == 3, f"{what}: should return a tuple of three tensors"
    for p in parts:
        assert type(p) is torch.Tensor and p.dtype == torch.long and p.dim() == 1, f"{what}: each part should be a 1-d LongTensor"
    allidx = torch.cat(parts).tolist()
    assert len(allidx) == len(set(allidx)), f"{what}: the splits overlap or repeat an index"
    assert sorted(allidx) == list(range(len(labels))), f"{what}: the splits do not cover every index exactly once"
    for c in torch.unique(labels).tolist():
        n_c = int((labels == c).sum())
        for k, p in enumerate(parts):
            got = int((labels[p] == c).sum()) if len(p) else 0
            assert abs(got - fractions[k] * n_c) <= 1 + 1e-9, f"{what}: a class is not split in the given proportions"


@pytest.mark.points(3)
def test_stratified_split(submission):
    """stratified_split: disjoint, complete, per-class proportions, deterministic per seed"""
    for case in range(8):
        n_classes = random.randint(1, 5)
        sizes = [random.choice([1, 2, 3, 7, 10, 23, 40]) for _ in range(n_classes)]
        labels = torch.tensor([c for c, s in enumerate(sizes) for _ in range(s)])
        labels = labels[torch.randperm(len(labels))]
        fractions = [(0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.5, 0.5, 0.0), (0.7, 0.15, 0.15)][case % 4]
        seed = random.randint(0, 1000)
        parts = submission.stratified_split(labels, fractions, seed)
        check_split(parts, labels, fractions, f"stratified_split with fractions {fractions}")
        again = submission.stratified_split(labels, fractions, seed)
        assert all(torch.equal(a, b) for a, b in zip(parts, again)), "stratified_split is not deterministic for a seed"
    labels = torch.arange(200) % 2
    splits = {tuple(submission.stratified_split(labels, (0.5, 0.25, 0.25), s)[0].tolist()) for s in range(3)}
    assert len(splits) > 1, "stratified_split gives the same split for different seeds (no shuffling?)"
    with pytest.raises(ValueError):
        submission.stratified_split(labels, (0.5, 0.3, 0.3), 0)


def crops_of(img, crop, pad):
    c, h, w = img.shape
    big = torch.zeros(c, h + 2 * pad, w + 2 * pad)
    big[:, pad:pad + h, pad:pad + w] = img
    out = {}
    for top in range(h + 2 * pad - crop + 1):
        for left in range(w + 2 * pad - crop + 1):
            patch = big[:, top:top + crop, left:left + crop]
            out[(top, left, False)] = patch
            out[(top, left, True)] = patch.flip(-1)
    return out


@pytest.mark.points(3)
def test_random_flip_crop(submission, rng):
    """random_flip_crop: crops of the zero-padded source, horizontal flips, all offsets, deterministic"""
    for n, c, h, w, crop, pad in [(120, 2, 6, 5, 5, 2), (40, 3, 8, 8, 8, 1), (30, 1, 4, 4, 3, 0)]:
        x = torch.rand(n, c, h, w) + 0.5          # distinct positive values: a crop is identified uniquely
        s = int(torch.randint(0, 2**31, (1,), generator=rng))
        out = submission.random_flip_crop(x, crop, pad, torch.Generator().manual_seed(s))
        assert type(out) is torch.Tensor and out.shape == (n, c, crop, crop) and out.dtype == x.dtype, (
            "random_flip_crop should return a float32 tensor of shape [N, C, crop_size, crop_size]")
        again = submission.random_flip_crop(x, crop, pad, torch.Generator().manual_seed(s))
        assert torch.equal(out, again), "random_flip_crop gives different results for the same generator state"
        seen = []
        for i in range(n):
            found = [key for key, patch in crops_of(x[i], crop, pad).items() if torch.equal(patch, out[i])]
            assert found, "an output image is not a (possibly flipped) crop of the zero-padded source"
            seen.append(found[0])
        flips = sum(1 for key in seen if key[2])
        if n >= 100:
            offsets = {(t, l) for t, l, _ in seen}
            n_offsets = (h + 2 * pad - crop + 1) * (w + 2 * pad - crop + 1)
            assert len(offsets) >= n_offsets * 0.8, "random crops do not cover the possible offsets"
            assert 0.25 < flips / len(seen) < 0.75, "horizontal flips do not happen about half of the time"


@pytest.mark.points(2)
def test_topk_accuracy(submission, reference):
    """topk_accuracy: random logits and tied scores (ties count in the sample's favour)"""
    for case in range(10):
        n, c = random.randint(1, 40), random.randint(2, 12)
        logits = torch.randn(n, c) if case % 2 else torch.randint(0, 3, (n, c)).float()
        labels = torch.randint(0, c, (n,))
        ks = tuple(sorted(random.sample(range(1, c + 3), 3)))
        assert_close(submission.topk_accuracy(logits, labels, ks), reference.topk_accuracy(logits, labels, ks),
                     what="topk_accuracy" + (" with tied logits" if case % 2 == 0 else ""))
