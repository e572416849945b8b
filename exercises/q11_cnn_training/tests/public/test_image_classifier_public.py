"""Public tests for q11_cnn_training (a short training run; the hidden test trains on more data)."""

import pytest
import torch


def test_model_shape_and_budget(submission, remote, helpers):
    model = submission.build_model(4)
    n = remote.helpers.count_parameters(model)
    assert n <= 100_000, f"build_model(4) has {n} parameters, at most 100000 allowed"
    model.eval()
    out = model(helpers.make_shapes(3, seed=0)[0])
    assert tuple(out.shape) == (3, 4), f"logits for 3 images should have shape (3, 4), got {tuple(out.shape)}"


@pytest.mark.call_timeout(60)
def test_train_and_predict(submission, helpers):
    images, labels = helpers.make_shapes(1500, seed=0)
    test_images, test_labels = helpers.make_shapes(300, seed=1)
    model = submission.train(submission.build_model(4), images, labels, seed=0)
    pred = submission.predict(model, test_images)
    assert pred.dtype == torch.int64 and tuple(pred.shape) == (300,), f"predict should return int64 [300], got {pred.dtype} {tuple(pred.shape)}"
    acc = (pred == test_labels).float().mean().item()
    assert acc >= 0.95, f"held-out accuracy should be at least 0.95, got {acc:.3f}"
