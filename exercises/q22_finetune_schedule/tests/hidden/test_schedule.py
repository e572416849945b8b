import pytest
import torch

from grader.testing import assert_close, fetch, keep

LR_NAMES = ["backbone.block1", "backbone.block2", "backbone.fc", "head"]
UNFREEZE_NAMES = ["backbone.block1", "backbone.block2", "backbone.fc"]


@pytest.mark.points(3)
def test_layerwise_lr_groups(submission, reference, remote, helpers):
    """layerwise_lr_groups: one group per named layer, its parameters in order, decayed rates"""
    for seed, names, base_lr, decay in [(1, LR_NAMES, 1e-3, 0.5), (2, LR_NAMES[1:], 0.1, 0.9),
                                        (3, ["head"], 0.01, 0.3), (4, ["backbone.block1", "head"], 2e-4, 1.0)]:
        model = remote.construct("helpers.SmallNet", seed)
        got = submission.layerwise_lr_groups(model, names, base_lr, decay)
        expected = reference.layerwise_lr_groups(helpers.SmallNet(seed), names, base_lr, decay)
        assert type(got) is list and len(got) == len(expected), "there should be one group (dict) per named layer"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert type(g) is dict and "params" in g and "lr" in g, "each group should be a dict with 'params' and 'lr'"
            assert_close(g["lr"], e["lr"], rtol=1e-9, atol=0.0, what=f"lr of group {i}")
            params = g["params"]
            assert type(params) is list, "'params' should be a list of parameters"
            assert_close([p.detach() for p in params] if params and type(params[0]) is not torch.Tensor else params,
                         [p.detach().clone() for p in e["params"]], what=f"parameters of group {i}")


@pytest.mark.points(3)
def test_gradual_unfreeze(submission, reference, remote, helpers):
    """gradual_unfreeze: trainable flags for each epoch, also when going back to an earlier epoch"""
    model = remote.construct("helpers.SmallNet", 0)
    local = helpers.SmallNet(0)
    for epoch in [0, 1, 2, 3, 5, 1, 0, 2]:
        ret = submission.gradual_unfreeze(model, UNFREEZE_NAMES, epoch)
        assert ret is None, "gradual_unfreeze should return None (it changes the model in place)"
        reference.gradual_unfreeze(local, UNFREEZE_NAMES, epoch)
        got = remote.helpers.trainable_flags(model)
        expected = helpers.trainable_flags(local)
        wrong = sorted(k for k in expected if got.get(k) != expected[k])
        assert not wrong, f"after epoch {epoch}: requires_grad is wrong for {wrong}"


@pytest.mark.points(2)
def test_extract_features_values(submission, remote, helpers, rng):
    """extract_features: eval-mode features, independent of the batch size"""
    for seed, n, bs in [(0, 10, 3), (1, 17, 17), (2, 25, 8), (3, 5, 64)]:
        backbone = remote.construct("helpers.Backbone", seed)
        backbone.train()
        images = torch.randn(n, 1, 8, 8, generator=rng)
        local = helpers.Backbone(seed).eval()
        with torch.no_grad():
            expected = local(images)
        got = submission.extract_features(backbone, images, bs)
        assert_close(got, expected, rtol=1e-4, atol=1e-5, what=f"features (batch_size={'n' if bs >= n else 'below n'})")


@pytest.mark.points(2)
def test_extract_features_no_side_effects(submission, remote, helpers, rng):
    """extract_features keeps no autograd graph, leaves BN statistics alone and restores the mode"""
    for mode in (True, False):
        backbone = remote.construct("helpers.Backbone", 7)
        backbone.train(mode)
        before = remote.helpers.bn_running_stats(backbone)
        images = torch.randn(12, 1, 8, 8, generator=rng)
        feats = keep(submission).extract_features(backbone, images, 5)
        assert fetch(feats.requires_grad) is False and fetch(feats.grad_fn) is None, \
            "the features are attached to an autograd graph (use torch.no_grad())"
        assert backbone.training is mode, f"the backbone's mode was not restored (it was {'train' if mode else 'eval'})"
        after = remote.helpers.bn_running_stats(backbone)
        assert_close(after, before, rtol=0, atol=0, what="BatchNorm running statistics after extraction")


@pytest.mark.points(3)
@pytest.mark.call_timeout(120)
def test_linear_probe(submission, helpers, seed):
    """train_linear_probe: a Linear layer reaching high held-out accuracy on clustered features"""
    for k, (c, d) in enumerate([(4, 16), (3, 8)]):
        x, y = helpers.make_probe_data(200, c, d, seed + k, centres_seed=seed + 100 + k)
        xt, yt = helpers.make_probe_data(1000, c, d, seed + 50 + k, centres_seed=seed + 100 + k)
        probe = submission.train_linear_probe(x, y, c, 100, 0.1, seed)
        assert probe.remote_type.endswith("Linear"), "train_linear_probe should return an nn.Linear"
        w = probe.weight
        assert tuple(w.shape) == (c, d), "the probe should be nn.Linear(feature_dim, num_classes)"
        logits = probe(xt)
        acc = float((logits.argmax(-1) == yt).float().mean())
        assert acc >= 0.85, f"held-out accuracy of the probe is {acc:.3f}, below 0.85"
