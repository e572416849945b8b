"""Public tests for q29_pretrained_finetune."""

import pytest
import torch


def test_load_report_head_mismatch(submission, remote, helpers):
    source = helpers.TransferNet(4).state_dict()   # a 4-class checkpoint
    model = remote.construct("helpers.TransferNet", 3)  # a 3-class model
    report = submission.load_pretrained(model, source)
    expected = {"missing": [], "unexpected": [], "mismatched": ["head.bias", "head.weight"]}
    assert report == expected, f"load_pretrained(TransferNet(3), TransferNet(4) weights) should return {expected}, got {report}"
    after = model.state_dict()
    assert torch.equal(after["backbone.0.weight"], source["backbone.0.weight"]), "backbone.0.weight was not copied"


def test_load_report_extra_and_missing(submission, remote, helpers):
    source = helpers.TransferNet(3).state_dict()
    del source["head.bias"]
    source["old_fc.weight"] = torch.zeros(2, 2)
    model = remote.construct("helpers.TransferNet", 3)
    report = submission.load_pretrained(model, source)
    expected = {"missing": ["head.bias"], "unexpected": ["old_fc.weight"], "mismatched": []}
    assert report == expected, f"expected {expected}, got {report}"


@pytest.mark.call_timeout(60)
def test_finetune_frozen(submission, remote, helpers):
    pretrained = helpers.pretrain(0)
    model = remote.construct("helpers.TransferNet", 3)
    submission.load_pretrained(model, pretrained)
    images, labels = helpers.make_images(60, seed=0, task="target")
    test_images, test_labels = helpers.make_images(300, seed=1, task="target")
    trained = submission.finetune(model, images, labels, 60, 0.01, 0, freeze_backbone=True)
    after = trained.state_dict()
    assert torch.equal(after["backbone.0.weight"], pretrained["backbone.0.weight"]), "the frozen backbone changed"
    acc = remote.helpers.accuracy(trained, test_images, test_labels)
    assert acc >= 0.9, f"held-out accuracy should be at least 0.90, got {acc:.3f}"
