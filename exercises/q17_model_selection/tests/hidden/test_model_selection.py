import pytest
import torch

from grader.testing import assert_close, assert_float, assert_int


def _check_folds(folds, n, k, what):
    assert type(folds) is list, f"{what}: k_fold_indices should return a list, got {type(folds).__name__}"
    assert len(folds) == k, f"{what}: expected {k} folds, got {len(folds)}"
    seen = torch.zeros(n, dtype=torch.long)
    sizes = []
    for f, pair in enumerate(folds):
        assert type(pair) is tuple and len(pair) == 2, f"{what}: fold {f} should be a (train, val) tuple"
        train, val = pair
        for name, t in (("train", train), ("val", val)):
            assert type(t) is torch.Tensor and t.dtype == torch.int64 and t.dim() == 1, \
                f"{what}: fold {f} {name} indices should be a 1-D int64 tensor"
        assert val.numel() == 0 or (val.min() >= 0 and val.max() < n), f"{what}: fold {f} has out-of-range indices"
        assert torch.unique(val).numel() == val.numel(), f"{what}: fold {f} repeats a validation index"
        expected_train = torch.ones(n, dtype=torch.bool)
        expected_train[val] = False
        assert torch.equal(torch.sort(train).values, torch.arange(n)[expected_train]), \
            f"{what}: fold {f}'s training indices are not exactly the complement of its validation indices"
        seen[val] += 1
        sizes.append(val.numel())
    assert bool((seen == 1).all()), f"{what}: not every index is validated exactly once"
    assert max(sizes) - min(sizes) <= 1, f"{what}: fold sizes differ by more than one"


@pytest.mark.points(2)
def test_kfold_partition(submission):
    """folds partition the indices: each validated exactly once, sizes differ by at most one"""
    for n, k in [(10, 3), (11, 4), (23, 5), (7, 7), (50, 6), (9, 2)]:
        for shuffle in (True, False):
            seed = int(torch.randint(0, 10000, ()))
            folds = submission.k_fold_indices(n, k, shuffle=shuffle, seed=seed)
            _check_folds(folds, n, k, f"k_fold_indices with k={k}, shuffle={shuffle}")


@pytest.mark.points(1)
def test_kfold_order_and_determinism(submission):
    """shuffle=False gives consecutive blocks (larger folds first); shuffle=True depends only on the seed"""
    for n, k in [(10, 3), (23, 5), (12, 4)]:
        folds = submission.k_fold_indices(n, k, shuffle=False)
        start = 0
        for f, (_, val) in enumerate(folds):
            size = n // k + (1 if f < n % k else 0)
            assert torch.equal(torch.sort(val).values, torch.arange(start, start + size)), \
                f"k_fold_indices(shuffle=False): fold {f} is not the expected consecutive block"
            start += size
    a = submission.k_fold_indices(40, 4, shuffle=True, seed=3)
    b = submission.k_fold_indices(40, 4, shuffle=True, seed=3)
    c = submission.k_fold_indices(40, 4, shuffle=True, seed=4)
    assert all(torch.equal(x[1], y[1]) for x, y in zip(a, b)), "the same seed gives different folds"
    assert not all(torch.equal(torch.sort(x[1]).values, torch.sort(y[1]).values) for x, y in zip(a, c)), \
        "different seeds give the same folds"
    blocks = all(torch.equal(torch.sort(v).values, torch.arange(int(v.min()), int(v.min()) + v.numel())) for _, v in a)
    assert not blocks, "shuffle=True does not shuffle the indices"


@pytest.mark.points(1)
def test_kfold_invalid_k(submission):
    """k < 2 or k > n raises ValueError"""
    for n, k in [(10, 1), (5, 6), (3, 0)]:
        with pytest.raises(ValueError):
            submission.k_fold_indices(n, k)


@pytest.mark.points(2)
def test_best_epoch(submission, reference):
    """best_epoch agrees with the reference (min_delta, ties keep the earlier epoch); empty input raises"""
    cases = [([1.0, 0.8, 0.8, 0.9], 0.0), ([0.5, 0.49, 0.3, 0.31], 0.05), ([3.0, 2.0, 1.0], 0.0),
             ([1.0, 1.0, 1.0], 0.0), ([2.0], 0.1)]
    for _ in range(30):
        n = int(torch.randint(1, 15, ()))
        losses = [round(float(v), 2) for v in (torch.rand(n) + torch.linspace(1.0, 0.0, n) * float(torch.rand(())))]
        delta = [0.0, 0.01, 0.05, 0.2][int(torch.randint(0, 4, ()))]
        cases.append((losses, delta))
    for losses, delta in cases:
        got = submission.best_epoch(losses, min_delta=delta)
        assert_int(got, "best_epoch")
        assert got == reference.best_epoch(losses, min_delta=delta), f"best_epoch is wrong (min_delta={delta})"
    with pytest.raises(ValueError):
        submission.best_epoch([])


def _pairing(x, x_mix, lam):
    """For each row i, the j such that x_mix[i] == lam x[i] + (1 - lam) x[j], or -1."""
    n = x.shape[0]
    flat, mixed = x.reshape(n, -1), x_mix.reshape(n, -1)
    cand = lam * flat[:, None, :] + (1 - lam) * flat[None, :, :]  # [i, j]
    err = (cand - mixed[:, None, :]).abs().amax(dim=-1)
    best = err.argmin(dim=1)
    ok = err[torch.arange(n), best] < 1e-4
    return torch.where(ok, best, torch.full_like(best, -1))


@pytest.mark.points(2)
def test_mixup_convex_combination(submission, rng):
    """mixup blends inputs and labels with the same lambda and the same random partner"""
    for case in range(6):
        n, k = 6 + case, 3 + case % 3
        x = torch.randn(n, 2, 3, 3)
        labels = torch.randint(0, k, (n,))
        y = torch.nn.functional.one_hot(labels, k).float()
        xm, ym, lam = submission.mixup(x, y, [0.2, 1.0, 0.4][case % 3], rng)
        assert_float(lam, "lambda")
        assert 0.0 <= lam <= 1.0, "lambda lies outside [0, 1]"
        for name, got, ref in (("mixed inputs", xm, x), ("mixed labels", ym, y)):
            assert type(got) is torch.Tensor and got.shape == ref.shape and got.dtype == ref.dtype, \
                f"{name} should be a {ref.dtype} tensor of shape {tuple(ref.shape)}"
        if min(lam, 1 - lam) < 1e-3:
            continue  # no information about the partner
        partner = _pairing(x, xm, lam)
        assert bool((partner >= 0).all()), "the mixed inputs are not lam * x + (1 - lam) * x[perm]"
        assert torch.equal(torch.sort(partner).values, torch.arange(n)), "the partners do not form a permutation"
        assert torch.allclose(ym, lam * y + (1 - lam) * y[partner], atol=1e-5), \
            "labels are not mixed with the same lambda and partners as the inputs"
        assert torch.allclose(ym.sum(dim=1), torch.ones(n), atol=1e-5), "mixed labels do not sum to one"


@pytest.mark.points(1)
def test_mixup_lambda_distribution(submission, rng):
    """lambda ~ Beta(alpha, alpha) drawn from the generator: reproducible, centred, shaped by alpha"""
    x, y = torch.randn(4, 3), torch.eye(4)
    g = torch.Generator().manual_seed(int(torch.randint(0, 10**6, ())))
    a, b = submission.mixup(x, y, 0.5, g), submission.mixup(x, y, 0.5, g)
    assert a[2] == b[2] and torch.equal(a[0], b[0]), "the same generator state gives different results"
    lams = {}
    for alpha in (0.2, 4.0):
        vals = []
        for _ in range(60):
            rng.manual_seed(int(torch.randint(0, 10**9, ())))
            vals.append(submission.mixup(x, y, alpha, rng)[2])
        lams[alpha] = torch.tensor(vals)
    allv = torch.cat(list(lams.values()))
    assert abs(float(allv.mean()) - 0.5) < 0.16, "lambda is not centred on 0.5 as Beta(alpha, alpha) is"
    spread_small = float((lams[0.2] - 0.5).abs().mean())
    spread_large = float((lams[4.0] - 0.5).abs().mean())
    assert spread_small > spread_large + 0.1, "lambda does not follow Beta(alpha, alpha) (small alpha should give lambdas near 0 or 1)"


@pytest.mark.points(2)
def test_cutout_square(submission, rng):
    """cutout zeroes one size x size square per image, in every channel, and nothing else"""
    for n, c, h, w, size in [(8, 3, 8, 8, 3), (5, 1, 6, 9, 4), (4, 2, 5, 5, 5), (6, 3, 7, 7, 1)]:
        images = torch.rand(n, c, h, w) * 0.9 + 0.1
        got = submission.cutout(images, size, rng)
        assert type(got) is torch.Tensor and got.shape == images.shape and got.dtype == images.dtype, \
            "cutout should return a tensor of the input's shape and dtype"
        zero = got == 0
        assert torch.equal(got[~zero], images[~zero]), "cutout changes pixels outside the square"
        assert bool((zero == zero[:, :1]).all()), "the square is not the same in every channel"
        for i in range(n):
            m = zero[i, 0]
            assert int(m.sum()) == size * size, f"cutout zeroes {int(m.sum())} pixels, expected size*size = {size * size}"
            rows, cols = m.any(dim=1).nonzero().flatten(), m.any(dim=0).nonzero().flatten()
            assert rows.numel() == size and cols.numel() == size and int(rows[-1] - rows[0]) == size - 1 \
                and int(cols[-1] - cols[0]) == size - 1, "the zeroed pixels do not form a size x size square"


@pytest.mark.points(1)
def test_cutout_positions(submission, rng):
    """cutout positions are random per image, reach every valid position and follow the generator"""
    images = torch.ones(400, 1, 6, 6)
    g = torch.Generator().manual_seed(int(torch.randint(0, 10**6, ())))
    a, b = submission.cutout(images, 3, g), submission.cutout(images, 3, g)
    assert torch.equal(a, b), "the same generator state gives different results"
    zero = a[:, 0] == 0
    corners = set()
    for i in range(400):
        r = zero[i].any(dim=1).nonzero()
        col = zero[i].any(dim=0).nonzero()
        if r.numel() and col.numel():
            corners.add((int(r[0]), int(col[0])))
    assert len(corners) == 16, f"the square's top-left corner reached {len(corners)} of the 16 valid positions in 400 images"


@pytest.mark.points(2)
def test_ensemble_probs(submission, reference):
    """ensemble_probs is the mean of the members' softmax probabilities"""
    for case in range(6):
        m, n, c = 1 + case % 4, 3 + case, 2 + case % 3
        logits = [torch.randn(n, c) * 3 for _ in range(m)]
        if case == 5:
            logits[0][0, 0] = 1e4
        assert_close(submission.ensemble_probs(logits), reference.ensemble_probs(logits), rtol=1e-5, atol=1e-6,
                     what="ensemble_probs")
    with pytest.raises(ValueError):
        submission.ensemble_probs([])
