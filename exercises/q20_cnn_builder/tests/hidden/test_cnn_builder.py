"""Hidden tests for q20_cnn_builder: CNN construction, parameter counts, receptive fields, shapes."""

import random

import pytest
import torch
from torch import nn

from grader.testing import assert_close, assert_int, fetch, keep

CONFIGS = [
    # in_channels, num_classes, widths, kernel_size, use_bn, dropout
    (3, 10, [8, 16], 3, True, 0.0),
    (1, 2, [4], 5, False, 0.0),
    (3, 5, [6, 8, 12], 3, True, 0.25),
    (2, 7, [5, 3], 1, False, 0.5),
    (4, 3, [], 3, True, 0.0),
]


def _type_name(module):
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def _build(args):
    in_ch, n_cls, widths, k, bn, p = args
    return (in_ch, n_cls, list(widths)), {"kernel_size": k, "use_bn": bn, "dropout": p}


@pytest.mark.points(3)
def test_build_cnn_layers(submission, reference):
    """build_cnn returns a flat nn.Sequential with the layers in the stated order"""
    for args in CONFIGS:
        pos, kw = _build(args)
        model = submission.build_cnn(*pos, **kw)
        expected = reference.build_cnn(*pos, **kw)
        what = f"build_cnn(widths={args[2]}, kernel_size={args[3]}, use_bn={args[4]}, dropout={args[5]})"
        assert model.remote_type == "torch.nn.modules.container.Sequential", f"{what} should return an nn.Sequential"
        got_types = [model[i].remote_type for i in range(len(model))]
        assert got_types == [_type_name(m) for m in expected], f"{what}: the layer types or their order differ"
        state = fetch(keep(model).state_dict())
        ref_state = expected.state_dict()
        assert sorted(state) == sorted(ref_state), f"{what}: the parameters and buffers (state_dict keys) differ"
        for key in ref_state:
            assert tuple(state[key].shape) == tuple(ref_state[key].shape), f"{what}: {key} has the wrong shape"


@pytest.mark.points(3)
def test_build_cnn_forward(submission, reference):
    """with the same weights, the model computes what the stated architecture computes"""
    for args in CONFIGS:
        pos, kw = _build(args)
        expected = reference.build_cnn(*pos, **kw)
        with torch.no_grad():
            for m in expected.modules():
                if isinstance(m, nn.BatchNorm2d):   # non-trivial statistics, so BN matters in eval
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
        expected.eval()
        model = submission.build_cnn(*pos, **kw)
        what = f"build_cnn(widths={args[2]}, kernel_size={args[3]}, use_bn={args[4]}, dropout={args[5]})"
        try:
            model.load_state_dict(expected.state_dict())
        except RuntimeError:
            raise AssertionError(f"{what}: the weights of the stated architecture do not load into the model") from None
        model.eval()
        for size in (16, 20):
            x = torch.randn(3, args[0], size, size)
            with torch.no_grad():
                ref_out = expected(x)
            assert_close(model(x), ref_out, rtol=1e-4, atol=1e-5, what=f"{what} output on {size}x{size} images (eval)")


def _remote_stack(remote, spec):
    """Build nn.Sequential(*layers) in the worker; returns (handle, list of layer handles)."""
    layers = [remote.construct(f"torch.nn.{name}", *a, **k) for name, a, k in spec]
    return remote.construct("torch.nn.Sequential", *layers), layers


def _random_spec(rng_py):
    spec, params, buffers = [], 0, 0
    c = rng_py.randint(1, 4)
    in_ch = c
    for _ in range(rng_py.randint(1, 3)):
        w, k, bias = rng_py.randint(2, 9), rng_py.choice([1, 3, 5]), rng_py.random() < 0.5
        spec.append(("Conv2d", (c, w, k), {"padding": k // 2, "bias": bias}))
        params += k * k * c * w + (w if bias else 0)
        if rng_py.random() < 0.6:
            spec.append(("BatchNorm2d", (w,), {}))
            params += 2 * w
            buffers += 2 * w + 1
        spec.append(("ReLU", (), {}))
        spec.append(("MaxPool2d", (2,), {}))
        c = w
    n_cls = rng_py.randint(2, 6)
    spec += [("AdaptiveAvgPool2d", (1,), {}), ("Flatten", (), {}), ("Linear", (c, n_cls), {})]
    params += c * n_cls + n_cls
    return in_ch, spec, params


@pytest.mark.points(3)
def test_count_parameters_closed_form(submission, remote):
    """count_parameters equals the closed form (conv k*k*cin*cout + bias, BN 2c, Linear); buffers excluded"""
    rng_py = random.Random(torch.randint(0, 10**9, (1,)).item())
    for _ in range(5):
        _, spec, params = _random_spec(rng_py)
        model, _layers = _remote_stack(remote, spec)
        got = assert_int(submission.count_parameters(model), "count_parameters")
        assert got == params, "count_parameters differs from the closed form (are buffers or biases miscounted?)"
        got = assert_int(submission.count_parameters(model, trainable_only=False), "count_parameters")
        assert got == params, "count_parameters(trainable_only=False) differs from the closed form"


@pytest.mark.points(2)
def test_count_parameters_frozen_and_shared(submission, remote):
    """frozen parameters are left out only with trainable_only=True; shared parameters count once"""
    conv = remote.construct("torch.nn.Conv2d", 3, 4, 3)          # 108 + 4
    bn = remote.construct("torch.nn.BatchNorm2d", 4)              # 8 (+ buffers)
    lin = remote.construct("torch.nn.Linear", 4, 4)               # 16 + 4
    model = remote.construct("torch.nn.Sequential", conv, bn, lin, lin)
    assert submission.count_parameters(model) == 140, "count_parameters with a layer used twice (shared weights)"
    keep(conv).weight.requires_grad_(False)
    keep(bn).bias.requires_grad_(False)
    assert submission.count_parameters(model) == 140 - 108 - 4, "count_parameters with frozen parameters"
    assert submission.count_parameters(model, trainable_only=False) == 140, (
        "count_parameters(trainable_only=False) should count frozen parameters too")
    keep(lin).weight.requires_grad_(False)
    keep(lin).bias.requires_grad_(False)
    assert submission.count_parameters(model) == 140 - 108 - 4 - 20, "count_parameters with a frozen shared layer"


@pytest.mark.points(3)
def test_receptive_field_random_stacks(submission, reference):
    """receptive_field agrees with the reference on random conv/pool stacks"""
    rng_py = random.Random(torch.randint(0, 10**9, (1,)).item())
    assert submission.receptive_field([]) == 1, "receptive_field([]) should be 1"
    for _ in range(30):
        layers = [(rng_py.choice(["conv", "pool"]), rng_py.randint(1, 7), rng_py.randint(1, 3))
                  for _ in range(rng_py.randint(1, 7))]
        got = assert_int(submission.receptive_field(layers), "receptive_field")
        assert got == reference.receptive_field(layers), f"receptive_field is wrong for a stack of {len(layers)} layers"


@pytest.mark.points(1)
def test_receptive_field_invalid(submission):
    """receptive_field raises ValueError for an unknown kind or a kernel or stride below 1"""
    for layers in ([("dense", 3, 1)], [("conv", 0, 1)], [("conv", 3, 1), ("pool", 2, 0)]):
        with pytest.raises(ValueError):
            submission.receptive_field(layers)


def _judge_stack(spec):
    return nn.Sequential(*[getattr(nn, name)(*a, **k) for name, a, k in spec])


@pytest.mark.points(3)
def test_feature_map_shapes(submission, reference, remote):
    """feature_map_shapes lists the output shape of every layer, in order"""
    rng_py = random.Random(torch.randint(0, 10**9, (1,)).item())
    for _ in range(4):
        in_ch, spec, _ = _random_spec(rng_py)
        model, _layers = _remote_stack(remote, spec)
        shape = (rng_py.randint(1, 3), in_ch, rng_py.randint(8, 20), rng_py.randint(8, 20))
        got = submission.feature_map_shapes(model, shape)
        expected = reference.feature_map_shapes(_judge_stack(spec), shape)
        assert_close(got, expected, what="feature_map_shapes")


@pytest.mark.points(2)
def test_feature_map_shapes_leaves_model_unchanged(submission, remote):
    """feature_map_shapes keeps the mode, does not update BatchNorm statistics, removes its hooks"""
    spec = [("Conv2d", (2, 4, 3), {"padding": 1}), ("BatchNorm2d", (4,), {}), ("ReLU", (), {}),
            ("AdaptiveAvgPool2d", (1,), {}), ("Flatten", (), {}), ("Linear", (4, 3), {})]
    model, layers = _remote_stack(remote, spec)
    bn = keep(layers[1])
    bias = keep(layers[0]).bias
    bias.data.fill_(1.0)  # a non-zero conv output, so a training-mode pass would move the running mean
    before = {k: v.clone() for k, v in fetch(bn.state_dict()).items()}
    assert model.training is True, "the model should start in training mode"
    first = submission.feature_map_shapes(model, (2, 2, 6, 6))
    assert model.training is True, "feature_map_shapes should leave a model in training mode in training mode"
    after = fetch(bn.state_dict())
    for k in before:
        assert torch.equal(before[k], after[k]), f"feature_map_shapes changed the BatchNorm buffer {k}"
    for i, layer in enumerate(layers):
        assert len(layer._forward_hooks) == 0, f"feature_map_shapes left a forward hook on layer {i}"
    second = submission.feature_map_shapes(model, (2, 2, 6, 6))
    assert_close(second, first, what="a second call of feature_map_shapes")
    model.eval()
    submission.feature_map_shapes(model, (1, 2, 6, 6))
    assert model.training is False, "feature_map_shapes should leave a model in eval mode in eval mode"
