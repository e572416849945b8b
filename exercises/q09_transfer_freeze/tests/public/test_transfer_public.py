"""Public tests for q09_transfer_freeze, on helpers.tiny_resnet (built inside the worker)."""

import torch

from grader.testing import keep


def test_prepare_and_names(submission, remote):
    model = remote.helpers.tiny_resnet(10, "fc", 0)
    submission.prepare_for_transfer(model, 5)
    names = submission.trainable_parameter_names(model)
    assert names == ["fc.weight", "fc.bias"], f"after prepare_for_transfer(model, 5) only the head should train, got {names}"
    shape = tuple(model.fc.weight.shape)
    assert shape == (5, 16), f"the new head's weight should have shape (5, 16), got {shape}"


def test_batchnorm_frozen(submission, remote, helpers):
    model = remote.helpers.tiny_resnet(10, "fc", 0)
    submission.prepare_for_transfer(model, 5)
    before = model.state_dict()["bn1.running_mean"]
    model.train()
    model(helpers.images(8, seed=1))
    after = model.state_dict()["bn1.running_mean"]
    assert torch.equal(before, after), f"bn1.running_mean changed in a training-mode forward: {before} -> {after}"


def test_param_groups(submission, remote):
    model = remote.helpers.tiny_resnet(10, "fc", 0)
    submission.prepare_for_transfer(model, 5)
    got = remote.helpers.describe_groups(model, keep(submission).param_groups(model, 0.01, 0.001))
    expected = [{"names": ["fc.weight", "fc.bias"], "lr": 0.01}, {"names": [], "lr": 0.001}]
    assert got == expected, f"param_groups(model, 0.01, 0.001) should give {expected}, got {got}"
