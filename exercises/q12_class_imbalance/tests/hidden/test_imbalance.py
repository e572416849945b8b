"""Hidden tests for q12_class_imbalance: weights and focal loss against the reference and
torch.nn.functional; resampling and the sampler by their properties (their randomness is the
candidate's own, so exact indices are never compared)."""

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_close, is_handle


def random_counts(num_classes, low=1, high=60):
    return torch.randint(low, high, (num_classes,)).tolist()


@pytest.mark.points(2)
def test_class_weights_inverse(submission, reference, helpers):
    """class_weights, inverse scheme, on random imbalanced labels"""
    for _ in range(6):
        c = int(torch.randint(2, 7, ()))
        labels = helpers.imbalanced_labels(random_counts(c), seed=int(torch.randint(0, 1000, ())))
        assert_close(submission.class_weights(labels, c), reference.class_weights(labels, c),
                     what="class_weights (inverse, default scheme)")
        assert_close(submission.class_weights(labels, c, scheme="inverse"),
                     reference.class_weights(labels, c, scheme="inverse"), what="class_weights (inverse)")


@pytest.mark.points(2)
def test_class_weights_effective(submission, reference, helpers):
    """class_weights, effective-number scheme, several beta"""
    for beta in (0.9, 0.99, 0.999, 0.9999):
        c = int(torch.randint(2, 7, ()))
        labels = helpers.imbalanced_labels(random_counts(c, high=300), seed=int(torch.randint(0, 1000, ())))
        assert_close(submission.class_weights(labels, c, scheme="effective", beta=beta),
                     reference.class_weights(labels, c, scheme="effective", beta=beta),
                     what=f"class_weights (effective, beta={beta})")
    labels = helpers.imbalanced_labels([40, 5, 12], seed=3)
    assert_close(submission.class_weights(labels, 3, scheme="effective"),
                 reference.class_weights(labels, 3, scheme="effective"), what="class_weights (effective, default beta)")
    with pytest.raises(ValueError):
        submission.class_weights(labels, 3, scheme="no-such-scheme")


@pytest.mark.points(1)
def test_class_weights_absent_class(submission, reference, helpers):
    """class_weights when some classes do not occur in the labels"""
    labels = helpers.imbalanced_labels([30, 0, 7, 0, 2], seed=1)
    for scheme in ("inverse", "effective"):
        got = submission.class_weights(labels, 5, scheme=scheme)
        assert type(got) is torch.Tensor and torch.isfinite(got).all(), (
            f"class_weights ({scheme}) with absent classes should be finite")
        assert_close(got, reference.class_weights(labels, 5, scheme=scheme),
                     what=f"class_weights ({scheme}) with absent classes")
    # more classes than labels mention
    assert_close(submission.class_weights(labels, 7), reference.class_weights(labels, 7),
                 what="class_weights with num_classes above the largest label")


@pytest.mark.points(2)
def test_focal_gamma0_is_cross_entropy(submission):
    """focal loss with gamma=0 and no alpha equals cross-entropy"""
    for dtype in (torch.float32, torch.float64):
        for n, c in ((1, 2), (40, 7)):
            logits = torch.randn(n, c, dtype=dtype) * 3
            targets = torch.randint(0, c, (n,))
            for reduction in ("mean", "sum", "none"):
                assert_close(submission.focal_loss(logits, targets, gamma=0.0, reduction=reduction),
                             F.cross_entropy(logits, targets, reduction=reduction), rtol=1e-5, atol=1e-6,
                             what=f"focal_loss(gamma=0, reduction={reduction!r}, {dtype}) vs cross-entropy")


@pytest.mark.points(3)
def test_focal_random(submission, reference):
    """focal loss against the reference: several gamma, alpha and reductions"""
    gammas = (0.5, 1.0, 2.0, 3.5)
    for case in range(8):
        dtype = torch.float64 if case % 2 else torch.float32
        n, c = int(torch.randint(1, 40, ())), int(torch.randint(2, 8, ()))
        logits = torch.randn(n, c, dtype=dtype) * 2
        targets = torch.randint(0, c, (n,))
        alphas = (None, 0.25, torch.rand(c, dtype=dtype) + 0.1)
        gamma = gammas[case % 4]
        calls = [(alpha, "none") for alpha in alphas]
        calls += [(alphas[case % 3], "mean"), (alphas[(case + 1) % 3], "sum")]
        for alpha, reduction in calls:
            kind = "None" if alpha is None else ("a float" if isinstance(alpha, float) else "a per-class tensor")
            assert_close(submission.focal_loss(logits, targets, gamma=gamma, alpha=alpha, reduction=reduction),
                         reference.focal_loss(logits, targets, gamma=gamma, alpha=alpha, reduction=reduction),
                         rtol=1e-5, atol=1e-6,
                         what=f"focal_loss(gamma={gamma}, alpha={kind}, reduction={reduction!r}, {dtype})")
    # default arguments: gamma=2, no alpha, mean
    logits, targets = torch.randn(12, 4), torch.randint(0, 4, (12,))
    assert_close(submission.focal_loss(logits, targets), reference.focal_loss(logits, targets),
                 what="focal_loss with default arguments")


@pytest.mark.points(1)
def test_focal_extreme_logits(submission, reference):
    """focal loss stays finite and correct for very large logits"""
    for scale in (1e3, 1e30):
        for dtype in (torch.float32, torch.float64):
            logits = torch.randn(20, 4, dtype=dtype) * scale
            targets = torch.randint(0, 4, (20,))
            for gamma in (0.0, 2.0):
                got = submission.focal_loss(logits, targets, gamma=gamma, reduction="none")
                assert type(got) is torch.Tensor and torch.isfinite(got).all(), (
                    f"focal_loss is not finite for large logits (gamma={gamma}, {dtype})")
                assert_close(got, reference.focal_loss(logits, targets, gamma=gamma, reduction="none"),
                             rtol=1e-5, atol=1e-5, what=f"focal_loss with large logits (gamma={gamma}, {dtype})")


def _check_counts(idx, labels, expected_per_class, what):
    assert type(idx) is torch.Tensor and idx.dtype == torch.int64 and idx.dim() == 1, (
        f"{what} should return a 1-D int64 tensor")
    assert idx.numel() == 0 or (int(idx.min()) >= 0 and int(idx.max()) < labels.numel()), f"{what} returned indices out of range"
    got = torch.bincount(labels[idx], minlength=int(labels.max()) + 1)
    present = torch.bincount(labels) > 0
    assert (got[~present] == 0).all(), f"{what} contains a class that is not in the labels"
    assert (got[present] == expected_per_class).all(), f"{what}: the classes do not all have the expected count"


@pytest.mark.points(2)
def test_oversample(submission, helpers):
    """oversample_indices: balanced counts, every original index kept, shuffled"""
    for case, counts in enumerate(([50, 10, 3], [7, 7], [1, 40], [12, 0, 30, 5, 1], [9])):
        labels = helpers.imbalanced_labels(counts, seed=case)
        idx = submission.oversample_indices(labels, 11 + case)
        _check_counts(idx, labels, max(counts), "oversample_indices")
        assert torch.isin(torch.arange(labels.numel()), idx).all(), "oversample_indices must keep every original index"
        if labels.numel() >= 20:
            assert not torch.equal(idx, idx.sort().values), "oversample_indices should be shuffled"


@pytest.mark.points(2)
def test_undersample(submission, helpers):
    """undersample_indices: balanced counts, distinct indices, sorted"""
    for case, counts in enumerate(([50, 10, 3], [7, 7], [1, 40], [12, 0, 30, 5, 2], [9])):
        labels = helpers.imbalanced_labels(counts, seed=case)
        idx = submission.undersample_indices(labels, 5 + case)
        _check_counts(idx, labels, min(n for n in counts if n > 0), "undersample_indices")
        assert torch.equal(idx, torch.unique(idx)), "undersample_indices should return distinct indices, sorted"


@pytest.mark.points(1)
def test_resampling_seeded(submission, helpers):
    """resampling is deterministic for a seed and random across seeds"""
    labels = helpers.imbalanced_labels([80, 20, 10], seed=7)
    for name in ("oversample_indices", "undersample_indices"):
        fn = getattr(submission, name)
        a, b, c = fn(labels, 3), fn(labels, 3), fn(labels, 4)
        assert torch.equal(a, b), f"{name} gives different results for the same seed"
        assert not torch.equal(a, c), f"{name} gives the same result for different seeds (it should draw at random)"


@pytest.mark.points(2)
def test_balanced_sampler(submission, remote, helpers):
    """balanced_sampler: a seeded WeightedRandomSampler with balanced class frequencies"""
    labels = helpers.imbalanced_labels([300, 40, 10, 2], seed=5)
    sampler = submission.balanced_sampler(labels, 8000, 21)
    assert is_handle(sampler) and sampler.remote_type.endswith("WeightedRandomSampler"), (
        "balanced_sampler should return a torch.utils.data.WeightedRandomSampler")
    assert sampler.num_samples == 8000, "the sampler should draw num_samples indices"
    assert sampler.replacement is True, "the sampler should draw with replacement"
    drawn = remote.helpers.draw(sampler)
    assert type(drawn) is torch.Tensor and drawn.numel() == 8000, "one pass over the sampler should give num_samples indices"
    freq = torch.bincount(labels[drawn], minlength=4).double() / 8000
    assert ((freq - 0.25).abs() < 0.04).all(), "the classes are not drawn equally often"
    again = remote.helpers.draw(submission.balanced_sampler(labels, 8000, 21))
    assert torch.equal(drawn, again), "two samplers with the same seed should draw the same indices"
    other = remote.helpers.draw(submission.balanced_sampler(labels, 8000, 22))
    assert not torch.equal(drawn, other), "samplers with different seeds should draw differently"
