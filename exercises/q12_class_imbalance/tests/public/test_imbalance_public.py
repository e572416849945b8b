"""Public tests for q12_class_imbalance (explicit small examples)."""

import torch
import torch.nn.functional as F


def test_class_weights(submission):
    labels = torch.tensor([0, 0, 0, 1])
    got = submission.class_weights(labels, 2)
    expected = torch.tensor([0.5, 1.5])  # 1/3 and 1/1, scaled to sum to 2
    assert torch.allclose(got, expected), f"class_weights({labels.tolist()}, 2) should be {expected.tolist()}, got {got}"
    got = submission.class_weights(torch.tensor([0, 0, 2]), 3)
    expected = torch.tensor([0.6, 1.2, 1.2])  # counts 2, 1 (absent), 1
    assert torch.allclose(got, expected), f"class_weights([0, 0, 2], 3) should be {expected.tolist()}, got {got}"


def test_focal_loss(submission):
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    targets = torch.tensor([0, 0])
    got = submission.focal_loss(logits, targets, gamma=0.0)
    expected = F.cross_entropy(logits, targets)
    assert torch.allclose(got, expected), f"focal_loss with gamma=0 should equal cross-entropy {expected.item():.6f}, got {got}"
    got = submission.focal_loss(logits, targets, gamma=2.0, reduction="none")
    expected = torch.tensor([0.0018, 0.7019])  # (1 - p_t)^2 * -log p_t
    assert got.shape == (2,) and torch.allclose(got, expected, atol=1e-4), (
        f"focal_loss(gamma=2, reduction='none') should be {expected.tolist()}, got {got}")


def test_resampling(submission):
    labels = torch.tensor([0, 0, 0, 0, 1])
    over = submission.oversample_indices(labels, 0)
    assert sorted(labels[over].tolist()) == [0, 0, 0, 0, 1, 1, 1, 1], f"oversample_indices balances to 4 + 4, got labels {labels[over].tolist()}"
    under = submission.undersample_indices(labels, 0)
    assert len(under) == 2 and under[1].item() == 4 and under[0].item() in range(4), (
        f"undersample_indices should keep one class-0 index and index 4, sorted; got {under}")
