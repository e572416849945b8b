import torch


def test_lr_groups_small(submission, remote):
    net = remote.construct("helpers.SmallNet", 0)
    names = ["backbone.block1", "backbone.block2", "backbone.fc", "head"]
    groups = submission.layerwise_lr_groups(net, names, 1e-3, 0.5)
    lrs = [g["lr"] for g in groups]
    assert lrs == [0.000125, 0.00025, 0.0005, 0.001], f"rates for base_lr=1e-3, decay=0.5: expected [0.000125, 0.00025, 0.0005, 0.001], got {lrs}"
    sizes = [len(g["params"]) for g in groups]
    assert sizes == [4, 4, 2, 2], f"parameters per group (conv w+b, BN w+b...): expected [4, 4, 2, 2], got {sizes}"


def test_unfreeze_epoch_1(submission, remote):
    net = remote.construct("helpers.SmallNet", 0)
    submission.gradual_unfreeze(net, ["backbone.block1", "backbone.block2", "backbone.fc"], 1)
    flags = remote.helpers.trainable_flags(net)
    trainable = sorted(k for k, v in flags.items() if v)
    expected = ["backbone.fc.bias", "backbone.fc.weight", "head.bias", "head.weight"]
    assert trainable == expected, f"epoch 1: expected trainable {expected}, got {trainable}"


def test_extract_features_eval(submission, remote, helpers):
    backbone = remote.construct("helpers.Backbone", 0)
    images = torch.ones(4, 1, 8, 8)
    got = submission.extract_features(backbone, images, 2)
    with torch.no_grad():
        expected = helpers.Backbone(0).eval()(images)
    assert torch.allclose(got, expected, atol=1e-5), f"features of 4 all-ones images: expected {expected}, got {got}"
