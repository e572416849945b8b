"""Hidden tests for q29_pretrained_finetune. The judge pretrains the backbone (helpers.pretrain)
and generates and labels the target data itself; fine-tuning is judged by held-out accuracy."""

import pytest
import torch

from grader.testing import assert_close

EPOCHS, LR = 60, 0.01
N_TRAIN, N_TEST = 60, 500


def _report_ok(got, expected, case):
    assert isinstance(got, dict) and set(got) == {"missing", "unexpected", "mismatched"}, (
        f"load_pretrained should return a dict with keys missing, unexpected, mismatched ({case})")
    for key in ("missing", "unexpected", "mismatched"):
        assert isinstance(got[key], list) and all(type(k) is str for k in got[key]), (
            f"report[{key!r}] should be a list of str ({case})")
        assert got[key] == expected[key], f"report[{key!r}] is wrong ({case})"


@pytest.mark.points(3)
def test_load_report(submission, remote, helpers):
    """load_pretrained copies matching tensors, skips the others and reports missing, unexpected and mismatched keys"""
    source = helpers.TransferNet(4).state_dict()
    keys3 = list(helpers.TransferNet(3).state_dict())
    cases = []
    # 1. a 4-class checkpoint into a 3-class model: the head does not fit
    cases.append(("a checkpoint with a different head", 3, dict(source),
                  {"missing": [], "unexpected": [], "mismatched": ["head.bias", "head.weight"]}))
    # 2. extra and absent keys
    sd = {k: v for k, v in source.items() if k != "backbone.2.bias"}
    sd["fc.weight"] = torch.randn(4, 32)
    sd["backbone.9.running_mean"] = torch.zeros(8)
    cases.append(("extra and absent keys", 3, sd,
                  {"missing": ["backbone.2.bias"], "unexpected": ["backbone.9.running_mean", "fc.weight"],
                   "mismatched": ["head.bias", "head.weight"]}))
    # 3. an exactly matching checkpoint
    cases.append(("an exactly matching checkpoint", 4, dict(source),
                  {"missing": [], "unexpected": [], "mismatched": []}))
    # 4. keys with a prefix match nothing (keys are matched exactly)
    sd = {"module." + k: v for k, v in source.items()}
    cases.append(("prefixed keys", 3, sd,
                  {"missing": sorted(keys3), "unexpected": sorted(sd), "mismatched": []}))
    for case, num_classes, sd, expected in cases:
        model = remote.construct("helpers.TransferNet", num_classes)
        before = model.state_dict()
        try:
            report = submission.load_pretrained(model, sd)
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"load_pretrained raised {type(exc).__name__} for {case}; it must never raise")
        _report_ok(report, expected, case)
        after = model.state_dict()
        for k, v in after.items():
            loaded = k in sd and tuple(sd[k].shape) == tuple(v.shape)
            want = sd[k] if loaded else before[k]
            assert_close(v, want, rtol=0, atol=0,
                         what=f"model tensor {k} after load_pretrained ({case}; "
                              + ("should be copied from the checkpoint" if loaded else "should be left untouched") + ")")


@pytest.mark.points(2)
@pytest.mark.call_timeout(30)
def test_freeze_flag(submission, remote, helpers):
    """finetune keeps the backbone fixed with freeze_backbone=True and trains it with False; the head is trained"""
    images, labels = helpers.make_images(32, seed=7, task="target")
    for freeze in (True, False):
        model = remote.construct("helpers.TransferNet", 3)
        before = model.state_dict()
        trained = submission.finetune(model, images, labels, 3, 0.01, 0, freeze_backbone=freeze)
        after = trained.state_dict()
        head_moved = any(not torch.equal(before[k], after[k]) for k in before if k.startswith("head."))
        assert head_moved, f"finetune(freeze_backbone={freeze}) did not change the head"
        backbone_moved = any(not torch.equal(before[k], after[k]) for k in before if k.startswith("backbone."))
        if freeze:
            assert not backbone_moved, "finetune(freeze_backbone=True) changed backbone weights"
        else:
            assert backbone_moved, "finetune(freeze_backbone=False) did not train the backbone"


@pytest.mark.points(5)
@pytest.mark.call_timeout(60)
def test_heldout_accuracy(submission, remote, helpers, seed):
    """a frozen pretrained backbone plus a fine-tuned head reaches at least 90% held-out accuracy"""
    pretrained = helpers.pretrain(0)
    backbone = {k: v for k, v in pretrained.items() if k.startswith("backbone.")}
    s = seed % 10_000
    images, labels = helpers.make_images(N_TRAIN, seed=s, task="target")
    test_images, test_labels = helpers.make_images(N_TEST, seed=s + 1, task="target")
    model = remote.construct("helpers.TransferNet", 3)
    model.load_state_dict(backbone, strict=False)  # the judge loads the backbone itself
    trained = submission.finetune(model, images, labels, EPOCHS, LR, seed % 1000, freeze_backbone=True)
    acc = remote.helpers.accuracy(trained, test_images, test_labels)
    assert acc >= 0.9, f"held-out accuracy is {acc:.3f}, below the required 0.90"
