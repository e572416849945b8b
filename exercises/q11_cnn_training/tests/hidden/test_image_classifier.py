"""Hidden tests for q11_cnn_training. The judge generates and labels the data itself
(helpers.make_shapes with its own seeds); training is judged by held-out accuracy only."""

import pytest
import torch

N_TRAIN, N_TEST = 1500, 600


@pytest.mark.points(1)
def test_parameter_budget(submission, remote, helpers):
    """build_model: at most 100k parameters, logits of the right shape"""
    for num_classes in (4, 6):
        model = submission.build_model(num_classes)
        n = remote.helpers.count_parameters(model)
        assert n <= 100_000, f"build_model({num_classes}) has {n} parameters (at most 100000 allowed)"
        model.eval()
        out = model(helpers.make_shapes(5, seed=1)[0])
        assert type(out) is torch.Tensor and out.shape == (5, num_classes), (
            f"build_model({num_classes}) should map [N, 1, 16, 16] images to [N, {num_classes}] logits")
    out = submission.build_model()(helpers.make_shapes(2, seed=2)[0])
    assert type(out) is torch.Tensor and out.shape == (2, 4), "build_model() should default to 4 classes"


@pytest.mark.points(6)
@pytest.mark.call_timeout(60)
def test_heldout_accuracy(submission, helpers, seed):
    """accuracy of at least 95% on a held-out set after train (within 60 s)"""
    images, labels = helpers.make_shapes(N_TRAIN, seed=seed % 10_000)
    test_images, test_labels = helpers.make_shapes(N_TEST, seed=seed % 10_000 + 1)
    model = submission.train(submission.build_model(4), images, labels, seed=seed % 1000)
    pred = submission.predict(model, test_images)
    assert type(pred) is torch.Tensor and pred.dtype == torch.int64 and pred.shape == (N_TEST,), (
        "predict should return an int64 tensor of shape [N]")
    acc = float((pred == test_labels).float().mean())
    assert acc >= 0.95, f"held-out accuracy is {acc:.3f}, below the required 0.95"


@pytest.mark.points(3)
def test_predict_deterministic(submission, helpers):
    """predict is deterministic: eval mode, independent of the rest of the batch"""
    images, labels = helpers.make_shapes(64, seed=3)
    model = submission.build_model(4)
    model.train()  # predict must switch to eval mode itself
    first = submission.predict(model, images)
    assert type(first) is torch.Tensor and first.dtype == torch.int64 and first.shape == (64,), (
        "predict should return an int64 tensor of shape [N]")
    again = submission.predict(model, images)
    assert torch.equal(first, again), "predict gives different results for the same images"
    halves = torch.cat([submission.predict(model, images[:7]), submission.predict(model, images[7:])])
    assert torch.equal(first, halves), "the prediction of an image depends on the rest of the batch (eval mode?)"
