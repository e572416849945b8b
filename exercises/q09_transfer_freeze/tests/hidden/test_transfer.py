"""Hidden tests for q09_transfer_freeze. The model is helpers.tiny_resnet, built in the worker;
expected values come from the reference applied to the same model built in the judge."""

import pytest
import torch

from grader.testing import assert_close, keep

BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def changed_keys(before, after):
    return sorted(k for k in before if not torch.equal(before[k], after[k]))


def expected_flags(helpers, reference, num_classes, head_attr="fc", train_bn=False, seed=0):
    model = helpers.tiny_resnet(10, head_attr, seed)
    reference.prepare_for_transfer(model, num_classes, head_attr=head_attr, train_bn=train_bn)
    return helpers.requires_grad_flags(model)


@pytest.mark.points(2)
def test_requires_grad_flags(submission, reference, remote, helpers):
    """only the new head requires gradients (default train_bn=False)"""
    for head_attr, num_classes in (("fc", 5), ("classifier", 3)):
        model = remote.helpers.tiny_resnet(10, head_attr, 1)
        submission.prepare_for_transfer(model, num_classes, head_attr=head_attr)
        assert_close(remote.helpers.requires_grad_flags(model),
                     expected_flags(helpers, reference, num_classes, head_attr),
                     what=f"requires_grad flags after prepare_for_transfer(head_attr={head_attr!r})")


@pytest.mark.points(1)
def test_head_shape(submission, remote, helpers):
    """the new head is a Linear layer with the old in_features and num_classes outputs"""
    x = helpers.images(3, seed=2)
    for head_attr, num_classes in (("fc", 2), ("classifier", 7), ("fc", 10)):
        model = remote.helpers.tiny_resnet(10, head_attr, 2)
        old_weight = getattr(model, head_attr).weight
        returned = submission.prepare_for_transfer(model, num_classes, head_attr=head_attr)
        head = getattr(model, head_attr)
        assert head.remote_type.endswith("Linear"), f"model.{head_attr} should be an nn.Linear"
        assert head.in_features == 16 and head.out_features == num_classes, (
            f"model.{head_attr} should map the old in_features to num_classes")
        w, b = head.weight, head.bias
        assert type(w) is torch.Tensor and w.shape == (num_classes, 16), f"model.{head_attr}.weight has the wrong shape"
        assert type(b) is torch.Tensor and b.shape == (num_classes,), f"model.{head_attr}.bias has the wrong shape"
        if num_classes == 10:
            assert not torch.equal(w, old_weight), f"model.{head_attr} should be a new layer, not the old one"
        out = returned(x)
        assert type(out) is torch.Tensor and out.shape == (3, num_classes), (
            "prepare_for_transfer should return the model, giving [N, num_classes] logits")


@pytest.mark.points(2)
def test_batchnorm_frozen(submission, remote, helpers):
    """BatchNorm statistics stay frozen in training mode (train_bn=False)"""
    model = remote.helpers.tiny_resnet(10, "fc", 3)
    submission.prepare_for_transfer(model, 4)
    before = model.state_dict()
    x = helpers.images(8, seed=3)
    model.train()
    out_train = model(x)
    model.train()
    model(helpers.images(8, seed=4))
    after = model.state_dict()
    moved = [k for k in changed_keys(before, after) if k.rsplit(".", 1)[-1] in BUFFERS]
    assert not moved, "BatchNorm running statistics changed during a training-mode forward pass"
    assert changed_keys(before, after) == [], "a forward pass changed the model's state"
    model.eval()
    out_eval = model(x)
    assert_close(out_train, out_eval, rtol=1e-5, atol=1e-5,
                 what="logits in training mode vs eval mode (frozen BatchNorm must use its running statistics)")


@pytest.mark.points(1)
def test_train_bn_true(submission, reference, remote, helpers):
    """train_bn=True: BatchNorm affine parameters train and statistics update"""
    model = remote.helpers.tiny_resnet(10, "fc", 4)
    submission.prepare_for_transfer(model, 6, train_bn=True)
    assert_close(remote.helpers.requires_grad_flags(model),
                 expected_flags(helpers, reference, 6, train_bn=True, seed=4),
                 what="requires_grad flags with train_bn=True")
    before = model.state_dict()
    model.train()
    model(helpers.images(8, seed=5))
    after = model.state_dict()
    assert not torch.equal(before["bn1.running_mean"], after["bn1.running_mean"]), (
        "with train_bn=True, BatchNorm running statistics should update in training mode")


@pytest.mark.points(2)
def test_optimizer_step_changes_only_head(submission, reference, remote, helpers):
    """an SGD step with param_groups changes only what should train"""
    x, y = helpers.images(6, seed=6), torch.tensor([0, 1, 2, 0, 1, 2])
    for train_bn in (False, True):
        model = remote.helpers.tiny_resnet(10, "fc", 6)
        submission.prepare_for_transfer(model, 3, train_bn=train_bn)
        before = model.state_dict()
        groups = keep(submission).param_groups(model, 0.5, 0.05)
        remote.helpers.sgd_step(model, groups, x, y, 2)
        got = changed_keys(before, model.state_dict())

        jm = helpers.tiny_resnet(10, "fc", 6)
        reference.prepare_for_transfer(jm, 3, train_bn=train_bn)
        jbefore = {k: v.clone() for k, v in jm.state_dict().items()}
        helpers.sgd_step(jm, reference.param_groups(jm, 0.5, 0.05), x, y, 2)
        expected = changed_keys(jbefore, jm.state_dict())
        assert got == expected, (
            f"after SGD steps (train_bn={train_bn}) the wrong entries of the state dict changed: "
            f"{len(set(got) - set(expected))} changed that should not, {len(set(expected) - set(got))} did not change that should")


@pytest.mark.points(2)
def test_param_groups(submission, reference, remote, helpers):
    """param_groups: head group first, then the trainable backbone, each with its learning rate"""
    cases = ((["fc."], "fc"), ([], "fc"), (["fc.", "layer2."], "fc"), (["bn1.", "layer1.conv1"], "fc"),
             (["classifier.", "layer2.bn2"], "classifier"))
    for prefixes, head_attr in cases:
        model = remote.helpers.tiny_resnet(5, head_attr, 7)
        remote.helpers.set_trainable(model, prefixes)
        got = remote.helpers.describe_groups(model, keep(submission).param_groups(model, 0.1, 0.001))
        jm = helpers.tiny_resnet(5, head_attr, 7)
        helpers.set_trainable(jm, prefixes)
        expected = helpers.describe_groups(jm, reference.param_groups(jm, 0.1, 0.001))
        assert_close(got, expected, what=f"param_groups (parameter names and learning rates per group)")


@pytest.mark.points(1)
def test_trainable_parameter_names(submission, reference, remote, helpers):
    """trainable_parameter_names lists exactly the parameters that require gradients, in order"""
    for prefixes in (None, ["fc."], ["layer2.", "bn1."], []):
        model = remote.helpers.tiny_resnet(10, "fc", 8)
        jm = helpers.tiny_resnet(10, "fc", 8)
        if prefixes is not None:
            remote.helpers.set_trainable(model, prefixes)
            helpers.set_trainable(jm, prefixes)
        assert_close(submission.trainable_parameter_names(model), reference.trainable_parameter_names(jm),
                     what="trainable_parameter_names")
