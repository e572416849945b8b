import torch


def test_kfold_unshuffled(submission):
    folds = submission.k_fold_indices(5, 2, shuffle=False)
    got = [(f[0].tolist(), f[1].tolist()) for f in folds]
    expected = [([3, 4], [0, 1, 2]), ([0, 1, 2], [3, 4])]
    assert got == expected, f"k_fold_indices(5, 2, shuffle=False) should be {expected}, got {got}"


def test_best_epoch(submission):
    got = submission.best_epoch([1.0, 0.8, 0.79, 0.9], min_delta=0.05)
    assert got == 1, f"best_epoch([1.0, 0.8, 0.79, 0.9], min_delta=0.05) should be 1, got {got!r}"
    got = submission.best_epoch([1.0, 0.7, 0.7])
    assert got == 1, f"best_epoch([1.0, 0.7, 0.7]) should be 1 (ties keep the earlier epoch), got {got!r}"


def test_ensemble_and_cutout(submission):
    got = submission.ensemble_probs([torch.tensor([[0.0, 0.0]]), torch.tensor([[100.0, 0.0]])])
    assert torch.allclose(got, torch.tensor([[0.75, 0.25]])), f"ensemble_probs should be [[0.75, 0.25]], got {got}"
    img = torch.ones(1, 2, 4, 4)
    out = submission.cutout(img, 4, torch.Generator().manual_seed(0))
    assert torch.equal(out, torch.zeros(1, 2, 4, 4)), f"cutout with size = H = W should zero everything, got {out}"


def test_mixup_shapes(submission):
    x, y = torch.arange(6.0).reshape(3, 2), torch.eye(3)
    xm, ym, lam = submission.mixup(x, y, 1.0, torch.Generator().manual_seed(0))
    assert type(lam) is float and 0.0 <= lam <= 1.0, f"lam should be a float in [0, 1], got {lam!r}"
    assert xm.shape == (3, 2) and ym.shape == (3, 3), f"shapes should be (3, 2) and (3, 3), got {xm.shape}, {ym.shape}"
    assert torch.allclose(ym.sum(1), torch.ones(3)), f"mixed labels should sum to one, got {ym}"
